"""One tiny simulated estate, detected once per session; tests that change it work on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storewatch.detect.engine import detect
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.workspace import Workspace


@pytest.fixture(scope="session")
def detected_estate(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("learn-estate")
    simulate(root / "raw", days=3, scale=0.05, seed=5)
    ws = Workspace.at(root / "ws")
    ingest([root / "raw"], ws, tz="UTC")
    detect(ws)
    return ws


@pytest.fixture
def estate(detected_estate: Workspace, tmp_path: Path, monkeypatch) -> Workspace:
    """A private copy of the detected estate (same key, so audit and tokens work)."""
    monkeypatch.delenv("STOREWATCH_TOKEN_KEY", raising=False)
    shutil.copytree(detected_estate.home, tmp_path / "ws")
    return Workspace.at(tmp_path / "ws")
