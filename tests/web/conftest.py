"""The hostile workspace once per session, a private copy for tests that change it, and app clients."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from storewatch.web import create_app
from storewatch.workspace import Workspace
from tests.report.support import build_hostile_workspace

TOKEN = "test-token-0123456789abcdefghijklmnop"
BASE = "http://127.0.0.1:8765"


@pytest.fixture(scope="session")
def hostile_ws(tmp_path_factory) -> Workspace:
    return build_hostile_workspace(tmp_path_factory.mktemp("web"))


@pytest.fixture
def fresh_ws(hostile_ws, tmp_path) -> Workspace:
    """A copy to change (feedback, actions) without disturbing the other tests."""
    shutil.copytree(hostile_ws.home, tmp_path / "ws")
    return Workspace.at(tmp_path / "ws")


@pytest.fixture
def client(hostile_ws) -> TestClient:
    return TestClient(create_app(hostile_ws, None), base_url=BASE)


@pytest.fixture
def fresh_client(fresh_ws) -> TestClient:
    return TestClient(create_app(fresh_ws, None), base_url=BASE, headers={"X-Storewatch-CSRF": "1"})


@pytest.fixture
def token_client(hostile_ws) -> TestClient:
    return TestClient(create_app(hostile_ws, TOKEN), base_url=BASE, follow_redirects=False)
