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
    for command in (["incidents"], ["status"], ["quarantine"], ["search", "src_ip:1.2.3.4"]):
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
