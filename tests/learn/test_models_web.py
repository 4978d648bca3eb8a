"""The dashboard shows model versions, their drift and each incident's triage view."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storewatch.correlate.queries import list_incidents
from storewatch.learn import models
from storewatch.report import render_report
from storewatch.store import reader
from storewatch.web import create_app


def test_models_page_lists_versions_and_drift_and_incident_page_says_triage_defers(estate) -> None:
    models.train(estate, "outliers.host")
    client = TestClient(create_app(estate, None), base_url="http://127.0.0.1:8765")
    page = client.get("/models")
    assert page.status_code == 200
    assert "outliers.host@1" in page.text and "current" in page.text and 'id="drift"' in page.text
    assert "bytes_out" in page.text  # a feature of the current version, with its PSI row
    with reader.opened(estate) as con:
        first = list_incidents(con)[0]
    incident = client.get(f"/incidents/{first['id']}")
    assert incident.status_code == 200
    assert "Ranked by the risk score: 0 true-positive and 0 other verdicts" in incident.text
    listed = client.get("/?sort=triage")
    assert listed.status_code == 200 and first["id"] in listed.text
    assert "Model and detection drift" in render_report(estate)
