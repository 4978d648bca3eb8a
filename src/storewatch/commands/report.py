"""`storewatch report`: the HTML (and PDF) report of the workspace's incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.report.collect import DETAIL


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def report(
        out: Path = typer.Option(..., "--out", help="HTML file to write (one self-contained file)."),
        pdf: bool = typer.Option(False, "--pdf", help="Also print it to PDF (same name, .pdf) with headless chromium."),
        detail: int = typer.Option(DETAIL, "--detail", min=0,
                                   help="How many of the highest-risk incidents to give in full; the rest get one line."),
        detail_severity: Optional[str] = typer.Option(
            None, "--detail-severity", help="Also give in full every incident at or above this severity (e.g. high)."),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Write the report for management: summary, charts, the highest-risk incidents in full (timeline,
        response), the others in one line each, and long values in full in an appendix."""
        from rich.progress import BarColumn, Progress, TextColumn

        from storewatch.cli import console, err, existing_workspace
        from storewatch.report import PdfError, write_report
        from storewatch.terminal import shown

        if detail_severity is not None and detail_severity not in SEVERITY_RANK:
            raise typer.BadParameter(f"one of {', '.join(SEVERITY_RANK)}", param_hint="--detail-severity")
        try:
            with Progress(TextColumn("[bold]report {task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), console=err, transient=True) as bar:
                task = bar.add_task("", total=None)
                written = write_report(existing_workspace(home), out, pdf=pdf, detail=detail, detail_severity=detail_severity,
                                       progress=lambda stage, done, total: bar.update(
                                           task, description=stage, completed=done, total=total))
        except PdfError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(1)
        except OSError as exc:
            err.print(f"[red]Cannot write the report:[/] {shown(str(exc))}")
            raise typer.Exit(1)
        html = written.with_suffix(".html") if pdf else written
        console.print(f"Report written to {shown(str(html))}" + (f" and {shown(str(written))}" if pdf else ""))
        console.print(f"Open it: {html.resolve().as_uri()}")
