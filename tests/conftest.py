"""Shared fixtures: a fresh workspace, and a helper that ingests and reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

# Copies of the vendor-format samples from shared/samples, so the suite runs from any checkout.
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.at(tmp_path / "ws")


@pytest.fixture
def run(ws: Workspace):
    """Ingest paths into the workspace; return the report."""

    def _run(*paths: Path, tz: str = "UTC"):
        return ingest(list(paths), ws, tz=tz)

    return _run


@pytest.fixture
def query(ws: Workspace):
    """Run SQL against the workspace store; rows as dicts."""

    def _query(sql: str, params: list | None = None) -> list[dict]:
        with db.opened(ws) as con:
            rel = con.execute(sql, params or [])
            cols = [d[0] for d in rel.description]
            return [dict(zip(cols, row)) for row in rel.fetchall()]

    return _query
