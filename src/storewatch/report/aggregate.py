"""Figures a report is made of, computed from incident dicts (pure: no store, no I/O).

Incidents come in the shape of `correlate.queries.get_incident`, each with its `timeline` added.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from numbers import Number
from typing import Any, Iterable, Mapping

from storewatch.correlate.incidents import SEVERITY_RANK

SEVERITIES = tuple(sorted(SEVERITY_RANK, key=SEVERITY_RANK.get, reverse=True))  # critical first
# Entities that are where an attack happened, not who did it.
NOT_ATTACKERS = {"store"}
# Among equally frequent entities, the attacker's side first: where it came from, then who acted, then
# what it touched (tested cards are the attack's tools, but also someone else's cards).
ATTACKER_SIDE = ("ip", "domain", "url", "hash", "user", "email", "employee", "device", "host", "card")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def severity_counts(incidents: Iterable[Mapping]) -> dict[str, int]:
    found = Counter(i["severity"] for i in incidents)
    return {s: found.get(s, 0) for s in SEVERITIES}


def over_time(incidents: list[Mapping]) -> tuple[list[str], dict[str, list[int]]]:
    """Incidents started per day (per hour when they all fall within two days), per severity."""
    if not incidents:
        return [], {}
    starts = [parse_time(i["first_seen"]) for i in incidents]
    hourly = max(starts) - min(starts) <= timedelta(days=2)
    step, fmt = (timedelta(hours=1), "%m-%d %H:00") if hourly else (timedelta(days=1), "%Y-%m-%d")
    floor = (lambda t: t.replace(minute=0, second=0, microsecond=0)) if hourly else \
        (lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0))
    buckets, t = [], floor(min(starts))
    while t <= max(starts):
        buckets.append(t)
        t += step
    index = {b: n for n, b in enumerate(buckets)}
    series = {s: [0] * len(buckets) for s in SEVERITIES}
    for inc, start in zip(incidents, starts):
        series[inc["severity"]][index[floor(start)]] += 1
    return [b.strftime(fmt) for b in buckets], {s: v for s, v in series.items() if any(v)}


def counted(incidents: Iterable[Mapping], field: str) -> list[tuple[str, int]]:
    """Incidents per value of a list field (stores, channels), most first."""
    return Counter(v for i in incidents for v in i[field]).most_common()


def top_entities(incidents: Iterable[Mapping], limit: int = 10) -> list[dict]:
    """Entities named by the most incidents (then the most risk): who keeps coming back."""
    seen: dict[tuple[str, str], dict] = {}
    for inc in incidents:
        for e in {(e["type"], e["value"]) for e in inc["entities"] if e["type"] not in NOT_ATTACKERS}:
            row = seen.setdefault(e, {"type": e[0], "value": e[1], "incidents": 0, "risk": 0, "ids": []})
            row["incidents"] += 1
            row["risk"] += inc["risk_score"]
            row["ids"].append(inc["id"])
    side = {t: i for i, t in enumerate(ATTACKER_SIDE)}
    ranked = sorted(seen.values(), key=lambda r: (-r["incidents"], side.get(r["type"], len(side)), -r["risk"],
                                                   r["type"], r["value"]))
    return ranked[:limit]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Number):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _blast_money(blast: Mapping) -> dict[str, float]:
    """Money moved per currency as the forensic blast radius lists it (per currency, channel and activity).

    An order and the charge paying it are the same money in two channels, so channels are not added up:
    per currency the busiest channel's total stands.
    """
    per_channel: dict[tuple[str, str], float] = defaultdict(float)
    for row in blast.get("money") or []:
        per_channel[(str(row.get("currency") or "").upper(), row.get("channel") or "")] += _number(row["amount"]) or 0.0
    best: dict[str, float] = {}
    for (currency, _), amount in per_channel.items():
        best[currency] = max(best.get(currency, 0.0), amount)
    return {c: v for c, v in best.items() if v}


def money_at_risk(incident: Mapping) -> dict[str, float]:
    """Money involved per currency: the alerts' evidence `amount`s, or the blast radius when it says more.

    Both describe the same money, so they are not added: per currency the larger figure stands.
    """
    from_alerts: dict[str, float] = defaultdict(float)
    for alert in incident["alert_details"]:
        evidence = alert["evidence"] if isinstance(alert["evidence"], Mapping) else {}
        amount = _number(evidence.get("amount"))
        if amount:
            from_alerts[str(evidence.get("currency") or "").upper()] += amount
    blast = _blast_money(incident.get("timeline", {}).get("blast_radius") or {})
    if "" in from_alerts and len(blast) == 1:
        # Detections state amounts without a currency; the events behind them name one: the same money.
        (currency,) = blast
        from_alerts[currency] += from_alerts.pop("")
    return {c: round(max(from_alerts.get(c, 0.0), blast.get(c, 0.0)), 2)
            for c in sorted(set(from_alerts) | set(blast))}


def total_money(incidents: Iterable[Mapping]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for inc in incidents:
        for currency, amount in inc["money"].items():
            total[currency] += amount
    return {c: round(v, 2) for c, v in sorted(total.items())}


def format_money(money: Mapping[str, float]) -> str:
    """'USD 1,025.50 + EUR 10.00'; an amount whose currency is unknown says so."""
    return " + ".join(f"{c} {v:,.2f}" if c else f"{v:,.2f} (currency not stated)" for c, v in money.items()) or "none"
