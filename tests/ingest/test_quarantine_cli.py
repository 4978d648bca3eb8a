"""`storewatch quarantine`: totals by reason and by file, filters, JSON, and an audited purge behind --yes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from storewatch import audit
from storewatch.cli import app
from storewatch.workspace import Workspace

GOOD = '52.14.77.10 - - [16/Nov/2026:00:00:00 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "UptimeRobot/2.0"\n'


def sw(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)


def _workspace(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    (logs / "web").mkdir(parents=True)
    (logs / "web" / "access.log").write_text(GOOD * 3 + "garbage one\n" + GOOD + "garbage two\n")
    (logs / "web" / "other.log").write_text(GOOD + "garbage three\n")
    (logs / "notes.txt").write_text("just some words\n")
    home = tmp_path / "ws"
    assert sw("ingest", str(logs), "--home", str(home), "--json").exit_code == 0
    return home


def test_totals_filters_and_json(tmp_path):
    home = str(_workspace(tmp_path))
    doc = json.loads(sw("quarantine", "--home", home, "--json").output)
    assert doc["total"] == 4
    by_file = {Path(r["source_file"]).name: r["count"] for r in doc["by_file"]}
    assert by_file == {"access.log": 2, "other.log": 1, "notes.txt": 1}
    assert doc["by_reason"][0] == {"reason": "not an access log line", "count": 3}
    assert {r["raw"] for r in doc["records"]} >= {"garbage one", "garbage two", "garbage three"}
    only = json.loads(sw("quarantine", "--home", home, "--json", "--file", "other.log").output)
    assert only["total"] == 1 and only["records"][0]["raw"] == "garbage three" and only["records"][0]["source_line"] == 2
    recognized = json.loads(sw("quarantine", "--home", home, "--json", "--reason", "NOT RECOGNIZED").output)
    assert recognized["total"] == 1 and recognized["records"][0]["source_file"].endswith("notes.txt")
    assert json.loads(sw("quarantine", "--home", home, "--json", "--since", "2099-01-01").output)["total"] == 0
    table = sw("quarantine", "--home", home).output
    assert "Quarantined by reason" in table and "Quarantined by file" in table and "4 of 4 records" in table


def test_purge_needs_yes_and_is_audited(tmp_path):
    home = _workspace(tmp_path)
    dry = sw("quarantine", "purge", "--home", str(home), "--file", "access.log")
    assert dry.exit_code == 1 and "2 quarantined record(s) would be deleted" in dry.output
    assert json.loads(sw("quarantine", "--home", str(home), "--json").output)["total"] == 4
    done = sw("quarantine", "purge", "--home", str(home), "--file", "access.log", "--yes")
    assert done.exit_code == 0 and "Deleted 2" in done.output
    left = json.loads(sw("quarantine", "--home", str(home), "--json").output)
    assert left["total"] == 2 and {Path(r["source_file"]).name for r in left["records"]} == {"other.log", "notes.txt"}
    entry = list(audit.entries(Workspace.at(home)))[-1]
    assert entry["action"] == "quarantine.purge" and entry["what"]["records"] == 2 and entry["what"]["file"] == "access.log"
    assert sw("quarantine", "purge", "--home", str(home), "--before", "2000-01-01", "--yes").output.startswith("Deleted 0")
