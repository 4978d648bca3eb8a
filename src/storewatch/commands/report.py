"""`storewatch report`: the HTML (and PDF) report of the workspace's incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command()
    def report(
        out: Path = typer.Option(..., "--out", help="HTML file to write (one self-contained file)."),
        pdf: bool = typer.Option(False, "--pdf", help="Also print it to PDF (same name, .pdf) with headless chromium."),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Write the report for management: summary, charts, and each incident with timeline and response."""
        from storewatch.cli import console, err, existing_workspace
        from storewatch.report import PdfError, write_report
        from storewatch.terminal import shown

        try:
            written = write_report(existing_workspace(home), out, pdf=pdf)
        except PdfError as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(1)
        except OSError as exc:
            err.print(f"[red]Cannot write the report:[/] {shown(str(exc))}")
            raise typer.Exit(1)
        html = written.with_suffix(".html") if pdf else written
        console.print(f"Report written to {shown(str(html))}" + (f" and {shown(str(written))}" if pdf else ""))
        console.print(f"Open it: {html.resolve().as_uri()}")
