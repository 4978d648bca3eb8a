"""`storewatch demo` runs the whole pipeline offline and leaves a report and a workspace to explore."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from storewatch.cli import app


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "ws"), "--scale", "0.03", "--seed", "2"],
                             catch_exceptions=False)
    assert out.exit_code == 0
    for section in ("Simulating", "Ingesting", "What the store holds", "Detecting", "Incidents (", "recall",
                    "Report:", "storewatch serve"):
        assert section in out.stdout, section
    report = (tmp_path / "ws" / "report.html").read_text()
    assert report.startswith("<!DOCTYPE html>") or report.lstrip().lower().startswith("<!doctype html>")
    assert "INC-" in report
