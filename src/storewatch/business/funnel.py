"""The web shop's funnel per hour, and how an incident moved it against the same hours of comparable days.

Sessions (distinct client address and user agent in the hour, crawlers and assets left out), product views,
add-to-cart, checkouts (paths in `funnel.yml`), orders (the platform's order events), and payment attempts
and declines. An incident's effect on each is a stated estimate: over the hours of its span, what was seen
against what the same hours of the other days lead to expect, with a 95% prediction interval from the
spread of those days (each hour's variance, or its mean where one other day is all there is, as for Poisson
counts). Conversion (orders per session) is judged on the orders: what the hours' sessions would have
bought at the conversion of all other hours, with the binomial spread and the same day-to-day floor. An effect whose interval holds zero is
reported as "no measurable effect", not as a number.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import duckdb
import yaml

METRICS = ("sessions", "product_views", "add_to_cart", "checkouts", "orders", "payments", "declines")
Z95 = 1.96
OVERDISPERSION = 0.25  # the least day-to-day spread of an hour's count, relative to its mean, beyond Poisson


def _config() -> dict[str, Any]:
    return yaml.safe_load(resources.files("storewatch.business").joinpath("funnel.yml").read_text(encoding="utf-8"))


def hourly(con: duckdb.DuckDBPyConnection) -> dict[datetime, dict[str, int]]:
    """Every hour with web, order or payment events: the funnel's counts."""
    cfg = _config()
    steps = ", ".join(f"count(*) FILTER (WHERE regexp_matches(url_path, ${name}, 'i')) AS {name}"
                      for name in cfg["steps"])
    rows = con.execute(f"""
        WITH web AS (
          SELECT date_trunc('hour', time) AS hour, src_ip, user_agent, url_path FROM events
          WHERE channel = 'web' AND url_path IS NOT NULL AND NOT regexp_matches(url_path, $not_visits, 'i')
            AND NOT regexp_matches(coalesce(user_agent, ''), '(?i)bot|crawl|spider|slurp|curl|python|wget|scan')
        ), visits AS (
          SELECT hour, count(DISTINCT (src_ip, user_agent)) AS sessions, {steps} FROM web GROUP BY hour
        ), shop AS (
          SELECT date_trunc('hour', time) AS hour,
                 count(*) FILTER (WHERE channel = 'orders' AND activity = 'order') AS orders,
                 count(*) FILTER (WHERE channel = 'payments' AND activity = 'charge') AS payments,
                 count(*) FILTER (WHERE channel = 'payments' AND activity = 'charge' AND outcome = 'failure') AS declines
          FROM events WHERE channel IN ('orders', 'payments') GROUP BY hour
        )
        SELECT hour, {', '.join(f'coalesce({m}, 0) AS {m}' for m in METRICS)}
        FROM visits FULL JOIN shop USING (hour) ORDER BY hour""",
        {"not_visits": cfg["not_visits"], **cfg["steps"]}).fetchall()
    return {r[0]: dict(zip(METRICS, r[1:])) for r in rows}


def effect(hours: dict[datetime, dict[str, int]], start: datetime, end: datetime) -> dict[str, Any]:
    """Seen against expected over the hours of [start, end], each metric with its 95% prediction interval."""
    first = start.replace(minute=0, second=0, microsecond=0)
    span = [first + timedelta(hours=i) for i in range(int((end - first).total_seconds() // 3600) + 1)]
    covered = _covered(hours)
    inside = set(span)
    others = [h for h in covered if h not in inside]
    out: dict[str, Any] = {"hours": len(span), "comparable_days": 0, "metrics": {}}
    if not inside <= covered:
        out["note"] = "the span reaches hours the web logs do not cover in full: no estimate"
        return out
    baselines: dict[str, list[tuple[float, float]]] = defaultdict(list)  # metric -> (mean, variance) per hour
    seen = {m: sum(hours.get(h, {}).get(m, 0) for h in span) for m in METRICS}
    days = set()
    for h in span:
        same = [o for o in others if o.hour == h.hour]
        days |= {o.date() for o in same}
        for m in METRICS:
            values = [hours[o][m] for o in same]
            if not values:
                continue
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
            floor = mean + (OVERDISPERSION * mean) ** 2  # traffic varies more than Poisson from day to day
            baselines[m].append((mean, max(var, floor) * (1 + 1 / len(values))))
    out["comparable_days"] = len(days)
    for m in METRICS:
        if len(baselines[m]) < len(span):
            continue  # some hour of the span has no comparable hour: no estimate
        expected = sum(b[0] for b in baselines[m])
        se = math.sqrt(sum(b[1] for b in baselines[m]))
        out["metrics"][m] = _estimate(seen[m], expected, se)
    if "orders" in out["metrics"] and "sessions" in out["metrics"]:
        conv_sessions = sum(hours[o]["sessions"] for o in others)
        rate = sum(hours[o]["orders"] for o in others) / conv_sessions if conv_sessions else None
        if rate is not None and seen["sessions"]:
            expected = rate * seen["sessions"]
            spread = seen["sessions"] * rate * (1 - rate) + (OVERDISPERSION * expected) ** 2
            est = _estimate(seen["orders"], expected, max(math.sqrt(spread), 1e-9))
            out["metrics"]["conversion"] = {**est, "seen_rate": seen["orders"] / seen["sessions"], "expected_rate": rate}
    return out


def _covered(hours: dict[datetime, dict[str, int]]) -> set[datetime]:
    """The hours the web logs cover in full: between the first and the last hour with visits, both left out
    (a log starts and ends mid-hour; an hour after it holds only late payments and disputes)."""
    visited = sorted(h for h, v in hours.items() if v["sessions"])
    if len(visited) < 3:
        return set()
    return {h for h in hours if visited[0] < h < visited[-1]}


def _estimate(seen: float, expected: float, se: float) -> dict[str, Any]:
    half = Z95 * se
    diff = seen - expected
    return {"seen": seen, "expected": round(expected, 2), "effect": round(diff, 2),
            "low": round(diff - half, 2), "high": round(diff + half, 2), "interval_halfwidth": round(half, 2),
            "measurable": abs(diff) > half}
