"""In-store analytics as loss-prevention teams run it: conversion, cashier exceptions, after-hours activity.

- **Conversion**: people-counter entries against POS sales, per store and day.
- **Exception-based reporting**: per cashier, the transactions loss prevention watches (returns without a
  receipt, post-voids, line voids, no-sales, returns), each measured against peers: the other cashiers of the
  same store and the cashiers of the other stores. A cashier never sets their own bar: both peer rates leave
  them out. An outlier is a count the peers' rate makes very unlikely (Poisson tail), with the figures that
  explain it.
- **After hours**: POS activity outside a store's opening hours. The hours come from the settings
  (`stores.hours`, e.g. `0005=08-21`) or, as a fallback, are learned without the day and store judged: an
  hour is open if the store sold in it on another day, or most of the other stores sold in it, so a night of
  fraud cannot teach the store that night is open, and a quiet first hour one day is not "after hours".
"""

from __future__ import annotations


from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
from scipy.stats import poisson

from storewatch.store import db

EXCEPTIONS = {  # exception type -> what it counts
    "no_receipt_returns": "returns without a receipt",
    "post_voids": "post-voided transactions",
    "line_voids": "voided lines",
    "no_sales": "no-sale drawer openings",
    "returns": "returns",
}
GRACE_MINUTES = 30
_CASHIERS_SQL = """
SELECT store_id, employee_id,
       count(*) FILTER (WHERE activity IN ('sale', 'return', 'exchange')) AS transactions,
       coalesce(sum(TRY_CAST(json_extract_string(attributes, '$.return_no_receipt_count') AS INTEGER)), 0) AS no_receipt_returns,
       count(*) FILTER (WHERE activity = 'post_void') AS post_voids,
       coalesce(sum(TRY_CAST(json_extract_string(attributes, '$.line_void_count') AS INTEGER)), 0) AS line_voids,
       count(*) FILTER (WHERE activity = 'no_sale') AS no_sales,
       count(*) FILTER (WHERE activity IN ('return', 'exchange')) AS returns
FROM events
WHERE class_name = 'POS Transaction' AND store_id IS NOT NULL AND employee_id IS NOT NULL
  AND NOT coalesce(TRY_CAST(json_extract_string(attributes, '$.training') AS BOOLEAN), false)
GROUP BY ALL
"""
_CONVERSION_SQL = """
WITH visits AS (
  SELECT store_id, time::DATE AS day, sum(TRY_CAST(json_extract_string(attributes, '$.entries') AS BIGINT)) AS entries
  FROM events WHERE class_name = 'People Count' AND store_id IS NOT NULL GROUP BY ALL
), sales AS (
  SELECT store_id, time::DATE AS day, count(*) AS transactions
  FROM events WHERE class_name = 'POS Transaction' AND activity = 'sale' AND store_id IS NOT NULL GROUP BY ALL
)
SELECT store_id, day, coalesce(entries, 0) AS entries, coalesce(transactions, 0) AS transactions
FROM visits FULL JOIN sales USING (store_id, day) ORDER BY store_id, day
"""
_HOURLY_SQL = """
SELECT store_id, time::DATE AS day, hour(time) AS hour, activity, count(*) AS n,
       list(DISTINCT employee_id) FILTER (WHERE employee_id IS NOT NULL) AS employees, min(time) AS first, max(time) AS last
FROM events WHERE class_name = 'POS Transaction' AND store_id IS NOT NULL GROUP BY ALL ORDER BY ALL
"""


@dataclass(frozen=True)
class Limits:
    p_value: float = 1e-4  # how unlikely a count must be, given the peers' rate
    min_count: int = 3  # fewer exceptions than this are never an outlier, however rare
    min_ratio: float = 3.0  # and the count must be this many times what the peers' rate expects


def cashier_exceptions(con: duckdb.DuckDBPyConnection, limits: Limits = Limits()) -> list[dict[str, Any]]:
    """Cashiers whose exceptions stand out from their peers', most unlikely first, each with its explanation."""
    return outliers(db.dicts(con, _CASHIERS_SQL), limits)


def outliers(cashiers: list[dict[str, Any]], limits: Limits = Limits()) -> list[dict[str, Any]]:
    """The exception report over per-cashier counts (pure: `cashier_exceptions` reads them from the store)."""
    found = []
    for me in cashiers:
        if not me["transactions"]:
            continue
        store = [c for c in cashiers if c["store_id"] == me["store_id"] and c is not me]
        others = [c for c in cashiers if c["store_id"] != me["store_id"]]
        for kind, what in EXCEPTIONS.items():
            count = me[kind]
            if count < limits.min_count:
                continue
            tests = []
            for group, peers in (("store", store), ("estate", others)):
                txns = sum(c["transactions"] for c in peers)
                if txns < 10 * me["transactions"] ** 0.5:  # too few peer transactions for a rate
                    continue
                rate = (sum(c[kind] for c in peers) + 0.5) / (txns + 1)  # half a count: no peer rate is quite zero
                expected = rate * me["transactions"]
                tests.append((group, rate, expected, float(poisson.sf(count - 1, max(expected, 1e-9)))))
            if not tests or any(p >= limits.p_value or count < limits.min_ratio * max(e, 1e-9) for _, _, e, p in tests):
                continue  # unusual against every peer group that has a rate, or not reported
            rate = 100 * count / me["transactions"]
            peers_text = "; ".join(f"{100 * r:.1f} for the {'other cashiers of the store' if g == 'store' else 'cashiers of other stores'}"
                                   for g, r, _, _ in tests)
            found.append({
                "store_id": me["store_id"], "employee_id": me["employee_id"], "exception": kind,
                "count": count, "transactions": me["transactions"], "per_100": round(rate, 2),
                "peers": {g: {"per_100": round(100 * r, 2), "expected": round(e, 2), "p_value": p} for g, r, e, p in tests},
                "explanation": (f"{me['employee_id']} at store {me['store_id']}: {count} {what} in "
                                f"{me['transactions']} transactions ({rate:.1f} per 100) against {peers_text}"),
            })
    return sorted(found, key=lambda f: min(t["p_value"] for t in f["peers"].values()))


def conversion(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per store and day: entries, sales and their ratio, with what does not add up (sales without visitors,
    visitors without a sale)."""
    out = []
    for row in db.dicts(con, _CONVERSION_SQL):
        entries, sales = row["entries"], row["transactions"]
        note = None
        if entries and sales > entries:
            note = "more sales than visitors: a counter down or mis-placed, or sales not made in the store"
        elif entries >= 50 and not sales:
            note = "visitors but no sale: a till not logging, or its log not collected"
        elif sales and not entries:
            note = "sales but no visitor counted: the people counter is silent"
        out.append({"store_id": row["store_id"], "day": str(row["day"]), "entries": entries, "transactions": sales,
                    "conversion": round(sales / entries, 4) if entries else None, "note": note})
    return out


def parse_hours(values: list[str]) -> dict[str, tuple[int, int]]:
    """`stores.hours` values (`STORE=HH-HH`, closing hour exclusive, `*` for every store) as {store: (open, close)}."""
    hours = {}
    for value in values:
        store, _, span = value.partition("=")
        start, _, end = span.partition("-")
        if not (start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24 and store.strip()):
            raise ValueError(f"stores.hours: {value!r} is not STORE=HH-HH (e.g. 0005=08-21 or *=09-20)")
        hours[store.strip()] = (int(start), int(end))
    return hours


def after_hours(con: duckdb.DuckDBPyConnection, configured: dict[str, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """POS activity in hours the store is closed: configured hours first (`*` for all stores), else hours
    learned from the store's other days and the other stores (see the module docstring)."""
    configured = configured or {}
    rows = db.dicts(con, _HOURLY_SQL)
    sales_hours: dict[str, dict[Any, set[int]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        if r["activity"] == "sale":
            sales_hours[r["store_id"]][r["day"]].add(r["hour"])
    found = []
    for r in rows:
        store = r["store_id"]
        span = configured.get(store) or configured.get("*")
        if span is not None:
            open_hours, basis = set(range(*span)), f"opening hours {span[0]:02d}-{span[1]:02d} (settings)"
        else:
            own = set().union(*(h for day, h in sales_hours[store].items() if day != r["day"]))
            chain = [set().union(*days.values()) for other, days in sales_hours.items() if other != store]
            usual = {h for h in range(24) if sum(h in hs for hs in chain) * 2 > len(chain)} if chain else set()
            if not own and not usual:
                continue  # nothing to learn the hours from without the day and store judged
            open_hours = own | usual
            basis = ("hours with sales at this store on its other days or at most of the other "
                     f"{len(chain)} stores")
        if r["hour"] in open_hours or _at_the_edge(r, open_hours):
            continue
        found.append({"store_id": store, "day": str(r["day"]), "hour": r["hour"], "activity": r["activity"],
                      "count": r["n"], "employees": sorted(r["employees"] or []), "first": str(r["first"]),
                      "last": str(r["last"]), "basis": basis})
    return found


def report(con: duckdb.DuckDBPyConnection, hours: dict[str, tuple[int, int]] | None = None) -> dict[str, Any]:
    """The three views together, as `storewatch stores --json` prints them."""
    return {"conversion": conversion(con), "cashier_exceptions": cashier_exceptions(con),
            "after_hours": after_hours(con, hours)}


def _at_the_edge(row: dict[str, Any], open_hours: set[int]) -> bool:
    """Activity within half an hour of opening or closing (the last customer, the first float count): not
    after hours."""
    hour = row["hour"]
    return ((hour - 1) % 24 in open_hours and row["last"].minute < GRACE_MINUTES
            or (hour + 1) % 24 in open_hours and row["first"].minute >= 60 - GRACE_MINUTES)
