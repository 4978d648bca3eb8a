"""The command line's manners: --version, help without value types on flags, a workspace looked for rather
than made up, and missing folders said plainly (exit 2)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.cli import app


def sw(*args: str, **env: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120", **env}, catch_exceptions=False)


def test_version_from_package_metadata():
    out = sw("--version")
    assert out.exit_code == 0 and out.output.strip() == f"storewatch {version('storewatch')}"


@pytest.mark.parametrize("command", [[], ["incidents"], ["search", "query"], ["audit", "verify"], ["ingest"], ["detect"]])
def test_help_shows_no_type_on_flags(command):
    out = sw(*command, "--help")
    assert out.exit_code == 0
    assert "<bool>" not in out.output and "--help" in out.output
    assert "<path>" in out.output or command == []  # options that take a value still say what value


def test_reading_command_without_workspace_says_where_and_how(tmp_path: Path):
    missing = tmp_path / "nowhere"
    for command in (["incidents"], ["status"], ["quarantine"], ["search", "src_ip:1.2.3.4"], ["timeline", "INC-1"],
                    ["respond", "INC-1"], ["actions"], ["report", "--out", str(tmp_path / "r.html")], ["serve"]):
        out = sw(*command, "--home", str(missing))
        assert out.exit_code == 2, (command, out.output)
        text = " ".join(out.output.split())
        assert f"No storewatch workspace at {missing}" in text and "storewatch ingest PATH --home" in text
        assert not missing.exists()  # nothing made up on the spot
    out = sw("incidents", STOREWATCH_HOME=str(missing))
    assert out.exit_code == 2 and "from $STOREWATCH_HOME" in " ".join(out.output.split())


def test_creating_commands_still_create(tmp_path: Path):
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "web" / "access.log"
    home = tmp_path / "new"
    assert sw("ingest", str(sample), "--home", str(home), "--json").exit_code == 0
    out = sw("status", "--home", str(home), "--json")
    assert out.exit_code == 0 and '"web"' in out.output


def test_missing_folders_exit_2(tmp_path: Path):
    home = tmp_path / "ws"
    out = sw("ingest", str(tmp_path / "no-such-logs"), "--home", str(home), COLUMNS="300")
    assert out.exit_code == 2 and f"'{tmp_path / 'no-such-logs'}' does not exist" in out.output
    assert not home.exists()
    for command in (["detect"], ["detections"]):
        out = sw(*command, "--rules", str(tmp_path / "no-rules"), "--home", str(home), COLUMNS="300")
        assert out.exit_code == 2 and f"'--rules': dir '{tmp_path / 'no-rules'}' does not exist" in out.output


@pytest.fixture(scope="module")
def incidents_home(tmp_path_factory) -> str:
    import time as clock
    from datetime import datetime, timezone

    from storewatch.correlate.incidents import correlate
    from storewatch.store import db
    from storewatch.workspace import Workspace
    from tests.forensics.conftest import add_alert

    ws = Workspace.at(tmp_path_factory.mktemp("table") / "ws")
    t = datetime(2026, 11, 16, 10, tzinfo=timezone.utc)
    with db.opened(ws) as con:
        add_alert(con, [("device", "POS-0192-04"), ("user", "a-rather-long-operator-name")], t, t,
                  "a_long_scenario_name_for_the_table", severity="critical")
        add_alert(con, [("ip", "198.51.100.23")], t, t, "credential_stuffing_with_a_long_name")
        correlate(con, now=clock.time())
    return str(ws.home)


def test_incident_table_fits_80_columns(incidents_home):
    out = sw("incidents", "--home", incidents_home, COLUMNS="80").output
    lines = out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if "INC-" in line]
    assert len(rows) == 2  # one line per incident: ids, risk and time whole, the title shortened
    for row in rows:
        assert row.split()[0].startswith("INC-") and len(row.split()[0]) == 14 and "11-16 10:00" in row
    assert "Test alert: a_long_scen" in rows[0] and "…" in rows[0] and "critical" in rows[0]
    assert all(row.split()[-1] == "new" for row in rows)  # the case status, whole
    assert "scenario" not in lines[1]  # dropped for width


def test_incident_table_uses_200_columns(incidents_home):
    out = sw("incidents", "--home", incidents_home, COLUMNS="200").output
    assert max(len(line) for line in out.splitlines()) <= 200
    assert "scenario" in out and "a_long_scenario_name_for_the_table" in out and "2026-11-16 10:00" in out
    assert "Test alert: credential_stuffing_with_a_long_name: 198.51.100.23" in out  # whole title, one line
