"""Report charts drawn by matplotlib and embedded as inline SVG, so the report stays one offline file.

Text is kept as SVG text (smaller, searchable) and matplotlib escapes it; mathtext is off, so a `$` in an
entity name from the logs is drawn as it is rather than parsed.
"""

from __future__ import annotations

import io
import re
from typing import Mapping, Sequence

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

SEVERITY_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#78909c"}
BAR_COLOUR = "#37474f"
_STYLE = {"svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "storewatch",
          "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
# The XML prologue and namespace URLs are not needed inline in HTML (the parser puts <svg> in its namespace).
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


def _svg(fig: Figure) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return Markup(_NAMESPACES.sub("", _PROLOGUE.sub("", buf.getvalue())))


def _short(label: str, width: int = 40) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def stacked_bars(buckets: Sequence[str], series: Mapping[str, Sequence[int]], ylabel: str) -> Markup:
    """Vertical bars per bucket, stacked by severity (incidents over time)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.5, 2.8), layout="constrained")
        ax = fig.add_subplot()
        bottom = [0] * len(buckets)
        for severity, values in series.items():
            ax.bar(range(len(buckets)), values, bottom=bottom, label=severity,
                   color=SEVERITY_COLOURS.get(severity, BAR_COLOUR))
            bottom = [b + v for b, v in zip(bottom, values)]
        step = max(1, len(buckets) // 12)
        ax.set_xticks(range(0, len(buckets), step), [buckets[i] for i in range(0, len(buckets), step)],
                      rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.yaxis.get_major_locator().set_params(integer=True)
        if series:
            fig.legend(frameon=False, ncols=len(series), loc="outside upper right")
        return _svg(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], xlabel: str,
                    colours: Sequence[str] | None = None) -> Markup:
    """One bar per label, largest at the top (by severity, store, channel, entity)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.5, 0.6 + 0.28 * max(len(labels), 1)), layout="constrained")
        ax = fig.add_subplot()
        positions = range(len(labels))[::-1]
        ax.barh(list(positions), values, color=list(colours) if colours else BAR_COLOUR)
        ax.set_yticks(list(positions), [_short(str(label)) for label in labels])
        ax.set_xlabel(xlabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        for y, v in zip(positions, values):
            ax.annotate(f"{v:,.0f}", (v, y), xytext=(3, 0), textcoords="offset points", va="center")
        return _svg(fig)
