"""Text from logs reaches the terminal as text: no control sequences, no Rich markup, no emoji."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from storewatch.cli import app
from storewatch.store import db
from storewatch.terminal import shown, visible
from tests.report.support import build_hostile_workspace

# Clear the screen, set the window title, colour, a C1 CSI, a right-to-left override, markup and an emoji code.
HOSTILE = "a\x1b[2Jb\x1b]0;owned\x07c\x9b31m \u202eevil [red]boom[/] :x:"
SPELLED = "a\\x1b[2Jb\\x1b]0;owned\\x07c\\x9b31m \\u202eevil"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def test_control_characters_are_spelled_out_and_markup_escaped():
    assert visible(HOSTILE) == SPELLED + " [red]boom[/] :x:"
    assert shown(HOSTILE) == SPELLED + " \\[red]boom\\[/] :x:"
    assert visible("tab\tand\nnewline stay") == "tab\tand\nnewline stay"


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("terminal")
    ws = build_hostile_workspace(root)
    with db.opened(ws) as con:
        con.execute("UPDATE incidents SET title = ?, summary = ?", [f"title {HOSTILE}", f"summary {HOSTILE}"])
    bad = root / "garbage.log"
    bad.write_text(f"211.9.8.7 - - [16/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ok\"\n{HOSTILE}\n")
    assert CliRunner().invoke(app, ["ingest", str(bad), "--home", str(ws.home)]).exit_code == 0
    return str(ws.home)


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide console, so that no value is folded across table lines."""
    monkeypatch.setenv("COLUMNS", "1000")  # Rich reads it at every print; the console's own width stays unset


def _output(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [["incidents"], ["quarantine"], ["incident"], ["timeline"]])
def test_cli_prints_log_text_as_text(hostile_home, command):
    if command[0] in ("incident", "timeline"):
        command = [*command, orjson.loads(_output("incidents", "--json", "--home", hostile_home))[0]["id"]]
    out = _output(*command, "--home", hostile_home)
    assert not any(c in out for c in RAW_CONTROLS)
    assert "❌" not in out and ":x:" in out
    assert "[red]boom[/]" in out  # shown as written, not taken as a style
    assert SPELLED in out
