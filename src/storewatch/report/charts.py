"""Charts drawn by matplotlib as inline SVG, shared by the report (one offline file) and the dashboard.

Text is kept as SVG text (smaller, searchable) and matplotlib escapes it; mathtext is off, so a `$` in an
entity name from the logs is drawn as it is rather than parsed. The SVG carries no CSS: matplotlib's
`style` attributes become presentation attributes and its `<style>` element goes, so the dashboard's
Content-Security-Policy (no inline styles) draws it as it is. Each chart has a `<title>` and `role="img"`
for screen readers.
"""

from __future__ import annotations

import io
import re
from typing import Mapping, Sequence

import matplotlib
from markupsafe import Markup, escape
from matplotlib.figure import Figure

SEVERITY_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#78909c"}
BAR_COLOUR = "#37474f"
_STYLE = {"svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "storewatch",
          "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
# The XML prologue and namespace URLs are not needed inline in HTML (the parser puts <svg> in its namespace).
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_STYLE_ELEMENT = re.compile(r"\s*<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.S)
_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
_ROOT = re.compile(r"<svg ")
# What matplotlib's <style> element said for every element, as attributes on the root (they inherit).
_ROOT_ATTRIBUTES = 'stroke-linejoin="round" stroke-linecap="butt" '


def _attributes(match: re.Match) -> str:
    """`style="fill: #fff; stroke-width: 0.8"` as `fill="#fff" stroke-width="0.8"` (SVG presentation attributes)."""
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{escape(value.strip())}"' for name, value in pairs)


def presentational(svg: str) -> str:
    """matplotlib's SVG without CSS: what a page whose policy forbids inline styles still draws alike."""
    svg = _STYLE_ATTRIBUTE.sub(_attributes, _STYLE_ELEMENT.sub("", svg, count=1))
    return _ROOT.sub("<svg " + _ROOT_ATTRIBUTES, svg, count=1)


def _svg(fig: Figure, title: str) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = presentational(_NAMESPACES.sub("", _PROLOGUE.sub("", buf.getvalue())))
    labelled = f'<svg role="img" aria-label="{escape(title)}" '
    return Markup(_ROOT.sub(labelled, svg, count=1).replace(">", f"><title>{escape(title)}</title>", 1))


def _short(label: str, width: int = 40) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def stacked_bars(buckets: Sequence[str], series: Mapping[str, Sequence[int]], ylabel: str, title: str,
                 size: tuple[float, float] = (7.5, 2.8)) -> Markup:
    """Vertical bars per bucket, stacked by series (incidents over time by severity, alerts per day)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=size, layout="constrained")
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
        return _svg(fig, title)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], xlabel: str, title: str,
                    colours: Sequence[str] | None = None, width: float = 7.5) -> Markup:
    """One bar per label, largest at the top (by severity, store, channel, entity)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, 0.6 + 0.28 * max(len(labels), 1)), layout="constrained")
        ax = fig.add_subplot()
        positions = range(len(labels))[::-1]
        ax.barh(list(positions), values, color=list(colours) if colours else BAR_COLOUR)
        ax.set_yticks(list(positions), [_short(str(label)) for label in labels])
        ax.set_xlabel(xlabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        for y, v in zip(positions, values):
            ax.annotate(f"{v:,.0f}", (v, y), xytext=(3, 0), textcoords="offset points", va="center")
        return _svg(fig, title)
