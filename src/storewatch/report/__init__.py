"""The HTML (and PDF) report for management: executive summary, charts and one section per incident.

One self-contained file: CSS inline, charts as inline SVG from matplotlib, no external references, every
value from the logs escaped by Jinja's autoescape.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from storewatch.report.collect import collect
from storewatch.report.filters import environment
from storewatch.report.pdf import PdfError, html_to_pdf
from storewatch.workspace import Workspace

__all__ = ["write_report", "render_report", "PdfError"]

_ENV = environment(Environment(loader=PackageLoader("storewatch.report", "templates"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True))


def render_report(ws: Workspace) -> str:
    return _ENV.get_template("report.html.j2").render(**collect(ws))


def write_report(ws: Workspace, out: Path, pdf: bool = False) -> Path:
    """Write the HTML report to `out`; with `pdf`, also print it to `out` with a .pdf suffix and return that.

    When `out` itself ends in .pdf, the HTML goes beside it with an .html suffix.
    """
    out = Path(out)
    html = out.with_suffix(".html") if out.suffix.lower() == ".pdf" else out
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_report(ws), encoding="utf-8")
    if not pdf:
        return html
    return html_to_pdf(html, html.with_suffix(".pdf"))
