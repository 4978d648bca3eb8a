"""An incident's business impact: money lost and money at risk, per currency, from the events its alerts cite.

The earlier figure (the forensic blast radius) summed every amount the incident's entities touched in the
incident's span, so a break-in at a busy store counted the store's ordinary sales that night. Here only the
events an alert cites count, with the events of the same kind by the same actors in the alert's span (an
alert keeps only a sample), and each counts as the rule of `impact.yml` says: a dispute or
a refund is money lost, a successful charge on a tested card or an order placed is money at risk. Amounts
are never summed across currencies; the `basis` says what was counted, from how many events.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from importlib import resources
from typing import Any, Iterable

import duckdb
import yaml

from storewatch.store import db

# An alert keeps a sample of its events (the first 20), so a large fraud would be undercounted: the events it
# cites name the kinds of money (channel and activity) and its actor entities (not a store or a host, whose
# ordinary business is not the incident's) bound the rest, within the alert's own span.
_ACTORS = ("employee", "user", "email", "ip", "card", "account", "customer")
_CITED_SQL = f"""
WITH inc AS (
  SELECT l.incident_id, a.alert_id, a.first_seen, a.last_seen, a.entities, a.event_ids
  FROM incident_alerts l JOIN alerts a USING (alert_id) WHERE list_contains($ids, l.incident_id)
), cited AS (
  SELECT inc.incident_id, inc.alert_id, e.event_id
  FROM inc, unnest(inc.event_ids) AS u(event_id) JOIN events e ON e.event_id = u.event_id WHERE e.amount IS NOT NULL
), kinds AS (
  SELECT DISTINCT c.incident_id, c.alert_id, e.channel, e.activity FROM cited c JOIN events e USING (event_id)
), actors AS (
  SELECT DISTINCT inc.incident_id, inc.alert_id, inc.first_seen, inc.last_seen, x.e.type AS entity_type, x.e.value AS value
  FROM inc, unnest(inc.entities) AS x(e) WHERE list_contains({list(_ACTORS)}, x.e.type)
), more AS (
  SELECT k.incident_id, ee.event_id
  FROM kinds k JOIN actors a USING (incident_id, alert_id)
  JOIN event_entities ee ON ee.entity_type = a.entity_type AND ee.value = a.value AND ee.time BETWEEN a.first_seen AND a.last_seen
  JOIN events e ON e.event_id = ee.event_id AND e.channel = k.channel AND e.activity = k.activity
)
SELECT DISTINCT x.incident_id, e.event_id, e.channel, e.activity, e.outcome, e.amount, upper(e.currency) AS currency,
       e.transaction_id
FROM (SELECT incident_id, event_id FROM cited UNION SELECT incident_id, event_id FROM more) x
JOIN events e USING (event_id) WHERE e.amount IS NOT NULL
"""


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(resources.files("storewatch.business").joinpath("impact.yml").read_text(encoding="utf-8"))
    return doc["rules"]


def _rule(event: dict[str, Any], table: list[dict[str, Any]]) -> dict[str, Any] | None:
    for r in table:
        if all(r[k] in ("*", event[k]) for k in ("channel", "activity", "outcome")):
            return r
    return None


def impact(events: Iterable[dict[str, Any]], table: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """{"loss": {currency: amount}, "exposure": {...}, "basis": "..."} over cited events (empty objects when none)."""
    table = rules() if table is None else table
    sums: dict[str, dict[str, Decimal]] = {"loss": defaultdict(Decimal), "exposure": defaultdict(Decimal)}
    parts: dict[tuple[str, str, str], list] = defaultdict(lambda: [0, Decimal(0)])
    ruled = [(e, r) for e in events if (r := _rule(e, table)) is not None and e["currency"]]
    # A charge disputed or refunded among the cited events is lost, no longer at risk: counted once.
    lost = {e.get("transaction_id") for e, r in ruled if r["kind"] == "loss"} - {None}
    for e, rule in ruled:
        if rule["kind"] == "exposure" and e.get("transaction_id") in lost:
            continue
        amount = Decimal(e["amount"]) + Decimal(str(rule.get("fee", 0)))
        sums[rule["kind"]][e["currency"]] += amount
        part = parts[(rule["kind"], rule["what"], e["currency"])]
        part[0] += 1
        part[1] += amount
    basis = "; ".join(f"{kind}: {n} {what} ({currency} {total:,.2f}" + (" with fees" if _fee(what, table) else "") + ")"
                      for (kind, what, currency), (n, total) in sorted(parts.items()))
    return {"loss": {c: float(v) for c, v in sorted(sums["loss"].items())},
            "exposure": {c: float(v) for c, v in sorted(sums["exposure"].items())},
            "basis": (basis + ". Only events the alerts cite count; amounts are never added across currencies.")
            if basis else "No cited event moved money."}


def _fee(what: str, table: list[dict[str, Any]]) -> bool:
    return any(r["what"] == what and r.get("fee") for r in table)


def for_incidents(con: duckdb.DuckDBPyConnection, incident_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The impact of each incident (every id gets one, empty when its alerts cite no money)."""
    cited: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in db.dicts(con, _CITED_SQL, {"ids": incident_ids}):
        cited[event["incident_id"]].append(event)
    table = rules()
    return {i: impact(cited.get(i, []), table) for i in incident_ids}
