"""Jinja filters shared by the report and the dashboard, so both show times, money and techniques alike."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from storewatch.correlate import attack
from storewatch.report.aggregate import format_money
from storewatch.report.appendix import clip, clip_words


def when(value: Any) -> str:
    """'2026-11-16 09:01:02' from an ISO 8601 UTC time (or a datetime); blank for none."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.replace("T", " ").replace("+00:00", "").removesuffix("Z")[:19]


def shown(value: Any) -> str:
    """A value from the logs or evidence as one line of text (lists joined); escaping is left to autoescape."""
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def environment(env: Environment) -> Environment:
    env.filters.update(when=when, shown=shown, money=format_money, attack_label=attack.label, clip=clip,
                       clip_words=clip_words)
    return env
