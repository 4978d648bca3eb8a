"""The HTML (and PDF) report for management: executive summary, charts and one section per incident.

One self-contained file: CSS inline, charts as inline SVG from matplotlib, no external references, every
value from the logs escaped by Jinja's autoescape. The highest-risk incidents are given in full, the rest
in one line each, and long values are shortened with their full text in an appendix, so the PDF of a busy
day stays readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from jinja2 import Environment, PackageLoader, StrictUndefined

from storewatch.report.collect import DETAIL, Progress, quiet, collect
from storewatch.report.filters import environment
from storewatch.report.pdf import PdfError, html_to_pdf
from storewatch.workspace import Workspace

__all__ = ["write_report", "render_report", "PdfError"]

_ENV = environment(Environment(loader=PackageLoader("storewatch.report", "templates"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True))


def render_report(ws: Workspace, detail: int = DETAIL, detail_severity: Optional[str] = None,
                  progress: Progress = quiet) -> str:
    context = collect(ws, detail, detail_severity, progress)
    progress("HTML", 0, 1)
    html = _ENV.get_template("report.html.j2").render(**context)
    progress("HTML", 1, 1)
    return html


def write_report(ws: Workspace, out: Path, pdf: bool = False, detail: int = DETAIL,
                 detail_severity: Optional[str] = None, progress: Progress = quiet) -> Path:
    """Write the HTML report to `out`; with `pdf`, also print it to `out` with a .pdf suffix and return that.

    When `out` itself ends in .pdf, the HTML goes beside it with an .html suffix. `detail` and
    `detail_severity` choose the incidents given in full (see `collect.in_detail`); `progress` hears of
    each stage (timelines one by one, HTML, PDF), which on a large store take minutes together.
    """
    out = Path(out)
    html = out.with_suffix(".html") if out.suffix.lower() == ".pdf" else out
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_report(ws, detail, detail_severity, progress), encoding="utf-8")
    if not pdf:
        return html
    progress("PDF", 0, 1)
    done = html_to_pdf(html, html.with_suffix(".pdf"))
    progress("PDF", 1, 1)
    return done
