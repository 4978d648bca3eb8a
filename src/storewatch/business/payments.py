"""Payment health as the card networks measure it: their monitoring programmes' ratios, month by month.

A merchant whose fraud and dispute ratio crosses a network's threshold is enrolled in a programme (fees,
remediation plans, in the end the loss of card acceptance): the head of e-commerce needs to see the ratio
climb long before, not in the acquirer's letter. The counts come from the payment processor's events in the
store (Stripe today): settled card-not-present charges, declines, early fraud warnings (the issuers' TC40
fraud reports) and disputes (TC15 chargebacks), each by card brand (a dispute or a warning takes the brand of
the charge it names). The programmes and their thresholds are data (`programs.yml`), overridable per
workspace (`payments.thresholds`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from importlib import resources
from typing import Any

import duckdb
import yaml

from storewatch.store import db

# One row per month and card brand: the counts every programme is computed from.
_COUNTS_SQL = """
WITH p AS (
  SELECT time, activity, outcome, lower(coalesce(card_brand, '')) AS brand, transaction_id
  FROM events WHERE class_name = 'Payment' AND source_format = 'stripe'
), brands AS (  -- a dispute or an early fraud warning names its charge: the charge's brand is its brand
  SELECT transaction_id, any_value(brand) AS brand FROM p
  WHERE activity = 'charge' AND brand <> '' AND transaction_id IS NOT NULL GROUP BY transaction_id
)
SELECT strftime(date_trunc('month', p.time), '%Y-%m') AS month,
       coalesce(nullif(p.brand, ''), b.brand, 'unknown') AS brand,
       count(*) FILTER (WHERE p.activity = 'charge' AND p.outcome = 'success') AS settled_sales,
       count(*) FILTER (WHERE p.activity = 'charge' AND p.outcome = 'failure') AS declines,
       count(*) FILTER (WHERE p.activity = 'early_fraud_warning') AS fraud_reports,
       count(*) FILTER (WHERE p.activity = 'dispute') AS disputes,
       max(p.time) AS last_seen
FROM p LEFT JOIN brands b USING (transaction_id)
GROUP BY ALL ORDER BY month, brand
"""
COUNTS = ("settled_sales", "declines", "fraud_reports", "disputes")


@dataclass(frozen=True)
class Programme:
    key: str
    name: str
    brands: tuple[str, ...]
    numerator: tuple[str, ...]
    denominator: str  # settled_sales (this month) or previous_month_sales
    threshold: float
    minimum_count: int
    warn_at: float


def programmes(overrides: list[str] | None = None) -> list[Programme]:
    """The shipped programmes, with thresholds replaced by `programme=ratio` overrides (a workspace setting)."""
    doc = yaml.safe_load(resources.files("storewatch.business").joinpath("programs.yml").read_text(encoding="utf-8"))
    given: dict[str, float] = {}
    for item in overrides or []:
        key, _, value = item.partition("=")
        if key.strip() not in doc:
            raise ValueError(f"payments.thresholds: unknown programme {key.strip()!r}: choose one of {', '.join(doc)}")
        try:
            given[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"payments.thresholds: {item!r} is not programme=ratio (e.g. vamp=0.009)") from None
        if not 0 < given[key.strip()] < 1:
            raise ValueError(f"payments.thresholds: {item!r}: a ratio lies between 0 and 1 (0.009 is 0.9%)")
    return [Programme(key, spec["name"], tuple(spec["brands"]), tuple(spec["numerator"]), spec["denominator"],
                      given.get(key, float(spec["threshold"])), int(spec["minimum_count"]), float(spec["warn_at"]))
            for key, spec in doc.items()]


def monthly_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per month and card brand: settled sales, declines, fraud reports, disputes, and the last event's time."""
    return db.dicts(con, _COUNTS_SQL)


def health(counts: list[dict[str, Any]], progs: list[Programme]) -> dict[str, Any]:
    """Each programme's ratio per month, with its status and, for the month under way, its pace.

    Status: `excessive` (ratio and count both over: enrolment), `over_ratio` (the ratio is over but the count
    is under the programme's minimum: the network would not enrol yet, the acquirer may act), `warning` (at or
    over `warn_at` of the threshold), `ok`; `no_sales` when there is nothing to divide by. The month of the
    newest event is `partial`: its count is also projected to the month's end at the pace so far."""
    months = sorted({c["month"] for c in counts})
    last = max((c["last_seen"] for c in counts), default=None)
    out = []
    for prog in progs:
        rows = []
        for i, month in enumerate(months):
            mine = [c for c in counts if c["month"] == month and c["brand"] in prog.brands]
            numerator = sum(c[k] for c in mine for k in prog.numerator)
            if prog.denominator == "previous_month_sales":
                before = [c for c in counts if i and c["month"] == months[i - 1] and c["brand"] in prog.brands]
                denominator = sum(c["settled_sales"] for c in before) if before else None
            else:
                denominator = sum(c["settled_sales"] for c in mine)
            ratio = numerator / denominator if denominator else None
            partial = last is not None and month == last.strftime("%Y-%m")
            projected = _projected(numerator, last) if partial else numerator
            rows.append({"month": month, "numerator": numerator, "denominator": denominator, "ratio": ratio,
                         "partial": partial, "projected_count": projected,
                         "status": _status(ratio, projected, prog)})
        out.append({"programme": prog.key, "name": prog.name, "brands": list(prog.brands),
                    "threshold": prog.threshold, "minimum_count": prog.minimum_count,
                    "warn_ratio": prog.threshold * prog.warn_at, "months": rows})
    trends = [{"month": m, **{k: sum(c[k] for c in counts if c["month"] == m) for k in COUNTS}} for m in months]
    for t in trends:
        tried = t["settled_sales"] + t["declines"]
        t["decline_rate"] = t["declines"] / tried if tried else None
    return {"programmes": out, "trend": trends}


def _projected(count: int, last) -> int:
    """The month's count at its end, at the pace of the days so far (the newest event's day, not the clock:
    a store loaded from last month's files is not a month in progress)."""
    days = calendar.monthrange(last.year, last.month)[1]
    elapsed = (last - last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 86400
    return round(count * days / max(elapsed, 1.0))


def _status(ratio: float | None, count: int, prog: Programme) -> str:
    if ratio is None:
        return "no_sales"
    if ratio >= prog.threshold:
        return "excessive" if count >= prog.minimum_count else "over_ratio"
    return "warning" if ratio >= prog.threshold * prog.warn_at else "ok"
