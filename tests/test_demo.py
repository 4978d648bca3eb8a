"""`storewatch demo` runs the whole pipeline offline and leaves a report and a workspace to explore."""

from __future__ import annotations

from pathlib import Path

import orjson

from typer.testing import CliRunner

from storewatch.cli import app


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "ws"), "--scale", "0.03", "--seed", "2"],
                             env={"COLUMNS": "400"}, catch_exceptions=False)
    assert out.exit_code == 0
    for section in ("Simulating", "Ingesting", "What the store holds", "Detecting", "Incidents (", "recall",
                    "Report:", "storewatch serve"):
        assert section in out.stdout, section
    report = (tmp_path / "ws" / "report.html").read_text()
    assert report.startswith("<!DOCTYPE html>") or report.lstrip().lower().startswith("<!doctype html>")
    assert "INC-" in report

    # its own hint works as printed (its workspace is not the default one), and only its data was ingested
    hint = f"see `storewatch quarantine --home {tmp_path / 'ws'}`"
    assert hint in out.stdout
    shown = CliRunner().invoke(app, ["quarantine", "--home", str(tmp_path / "ws"), "--json"], catch_exceptions=False)
    files = {Path(r["source_file"]).name for r in orjson.loads(shown.stdout)["by_file"]}
    assert shown.exit_code == 0 and files and not files & {"labels.jsonl", "benign.jsonl", "README.txt", "pans.txt"}
