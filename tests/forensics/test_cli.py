"""The forensics commands as a user runs them: tables and panels, JSON, exit codes, hostile log values."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from storewatch.cli import app
from tests.forensics.conftest import at

runner = CliRunner(env={"COLUMNS": "300"})  # wide enough that Rich does not wrap the lines checked


def test_timeline_table_and_panels(estate) -> None:
    result = runner.invoke(app, ["timeline", estate.admin.incident_id, "--home", str(estate.ws.home), "--limit", "15"])
    assert result.exit_code == 0, result.output
    for text in ("POST /admin/login → 401", "Root cause", "Blast radius", "Gaps", "left out", estate.admin.user):
        assert text in result.output


def test_timeline_json(estate) -> None:
    result = runner.invoke(app, ["timeline", estate.ssh.incident_id, "--home", str(estate.ws.home), "--json",
                                 "--limit", "40"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert set(data) >= {"incident", "events", "root_cause", "blast_radius", "gaps", "omitted"}
    assert len(data["events"]) == 40 and data["omitted"] == data["total_events"] - 40


def test_unknown_incident_exits_1_without_traceback(estate) -> None:
    for args in (["timeline", "INC-NOPE"], ["evidence", "INC-NOPE", "--out", "unused"]):
        result = runner.invoke(app, [*args, "--home", str(estate.ws.home)])
        assert result.exit_code == 1
        assert "no single incident matches 'INC-NOPE'" in result.output and "Traceback" not in result.output


def test_evidence_then_verify_then_tamper(estate, tmp_path) -> None:
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["evidence", estate.ssh.incident_id, "--out", str(out), "--stix",
                                 "--home", str(estate.ws.home)])
    assert result.exit_code == 0, result.output
    assert "Manifest SHA-256" in result.output and (out / "indicators.stix.json").exists()
    assert runner.invoke(app, ["verify-evidence", str(out)]).exit_code == 0
    again = runner.invoke(app, ["evidence", estate.ssh.incident_id, "--out", str(out), "--home", str(estate.ws.home)])
    assert again.exit_code == 1 and "not an empty folder" in again.output
    (out / "incident.json").write_text("{}")
    tampered = runner.invoke(app, ["verify-evidence", str(out)])
    assert tampered.exit_code == 1
    assert "NOT intact" in tampered.output and "modified: incident.json" in tampered.output


def test_hostile_log_values_print_as_text(small) -> None:
    path = "/[bold red]x[/]<script>alert(1)</script>"
    ws, incident = small([{"time": at(1), "class_name": "HTTP Activity", "activity": "get", "outcome": "success",
                           "source_format": "nginx", "src_ip": "45.13.7.9", "http_method": "GET", "url_path": path,
                           "http_status": 200, "user_name": "[/]"}], [("ip", "45.13.7.9")], 0, 5)
    result = runner.invoke(app, ["timeline", incident, "--home", str(ws.home)])
    assert result.exit_code == 0, result.output
    assert path in result.output and "as [/]" in result.output
