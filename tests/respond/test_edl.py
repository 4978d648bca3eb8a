"""External dynamic lists: one entry a line, live claims only, served over HTTP for firewalls to pull."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from storewatch.respond import edl

SOON = datetime.now(timezone.utc) + timedelta(days=1)


def test_a_value_stays_listed_while_any_action_claims_it(ws) -> None:
    edl.add(ws, "ip", "81.2.69.142", "ACT-1", SOON)
    edl.add(ws, "ip", "81.2.69.142", "ACT-2", SOON + timedelta(days=1))
    assert edl.render(ws, "ip") == "81.2.69.142\n"
    assert edl.remove(ws, "ip", "81.2.69.142", "ACT-1") is True
    assert edl.render(ws, "ip") == "81.2.69.142\n"
    edl.remove(ws, "ip", "81.2.69.142", "ACT-2")
    assert edl.render(ws, "ip") == "" and edl.remove(ws, "ip", "81.2.69.142", "ACT-2") is False


def test_expired_entries_are_not_rendered_and_order_is_numeric(ws) -> None:
    edl.add(ws, "ip", "81.2.69.200", "ACT-1", SOON)
    edl.add(ws, "ip", "9.9.9.9", "ACT-2", SOON)
    edl.add(ws, "ip", "10.20.0.0/16", "ACT-3", SOON)
    edl.add(ws, "ip", "4.4.4.4", "ACT-4", datetime.now(timezone.utc) - timedelta(minutes=1))
    assert edl.render(ws, "ip") == "9.9.9.9\n10.20.0.0/16\n81.2.69.200\n"
    assert [e["value"] for e in edl.entries(ws, "ip", now=SOON + timedelta(hours=1))] == []


def test_router_serves_plain_text_lists_from_the_app_workspace(ws) -> None:
    edl.add(ws, "domain", "shop-login.example.net", "ACT-1", SOON)
    app = FastAPI()
    app.state.workspace = ws
    app.include_router(edl.edl_router)
    client = TestClient(app)
    got = client.get("/edl/domain.txt")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/plain")
    assert got.text == "shop-login.example.net\n" and client.get("/edl/ip.txt").text == ""
    assert client.get("/edl/other.txt").status_code == 404
    with pytest.raises(ValueError):
        edl.render(ws, "url")  # type: ignore[arg-type]
