"""Plain-language sentences for alerts and incidents, written for the one person on call, not for a SIEM."""

from __future__ import annotations

import string
from typing import Mapping, Sequence

import orjson
import pyarrow as pa

from storewatch.correlate import attack

SCENARIO_NAMES = {
    "credential_stuffing": "credential stuffing", "admin_bruteforce": "a brute-force attack on the admin login",
    "ssh_bruteforce": "an SSH brute-force attack", "account_takeover": "a customer account takeover",
    "card_testing": "card testing", "giftcard_enumeration": "gift-card balance enumeration",
    "scraping_bot": "a scraping bot", "web_attack_scan": "web attack scanning", "pos_malware": "malware on a POS terminal",
    "exfiltration": "data exfiltration", "internal_port_scan": "an internal port scan",
    "bulk_data_read": "a bulk read of customer or payment data", "refund_fraud": "refund or void fraud by an employee",
    "after_hours_intrusion": "an after-hours intrusion", "brand_impersonation": "brand impersonation",
    "leaked_discount_code": "a leaked staff discount code", "promo_abuse": "promotion abuse",
    "chargeback_fraud": "chargeback fraud", "intel_match": "contact with threat-intel-listed infrastructure",
}


class _Lenient(string.Formatter):
    """str.format that leaves a placeholder visible instead of raising when evidence lacks a value."""

    def get_value(self, key, args, kwargs):  # type: ignore[override]
        value = kwargs.get(key) if isinstance(key, str) else None
        return "?" if value is None else value

    def format_field(self, value, format_spec):  # type: ignore[override]
        if isinstance(value, (list, tuple)):  # evidence samples read as a list in a sentence, not as Python
            return _listed([self.format_field(v, format_spec) for v in value])
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


_FORMATTER = _Lenient()
LISTED = 3  # sample values a sentence names before "and N more"


def _listed(values: list[str]) -> str:
    """'a, b, c and 2 more': evidence samples as text (quoted, so a comma inside a command line stays clear)."""
    quoted = [f"“{v}”" for v in values[:LISTED]]
    more = f" and {len(values) - LISTED} more" if len(values) > LISTED else ""
    return (", ".join(quoted) + more) if quoted else "?"


def render(template: str, evidence: Mapping) -> str:
    if not template:
        return ""
    try:
        return _FORMATTER.vformat(template, (), dict(evidence))
    except (ValueError, IndexError, AttributeError):
        return template


def render_alert_summaries(candidates: pa.Table) -> pa.Table:
    """Add a `summary` column: each detection's template filled from its alert's evidence."""
    templates = candidates.column("summary_template").to_pylist()
    evidence = candidates.column("evidence").to_pylist()
    summaries = [render(t or "", orjson.loads(e) if e else {}) for t, e in zip(templates, evidence)]
    return candidates.append_column("summary", pa.array(summaries, pa.string()))


def scenario_name(scenario: str) -> str:
    return SCENARIO_NAMES.get(scenario, scenario.replace("_", " "))


def _entities_text(entities: Sequence[Mapping], limit: int = 6) -> str:
    by_type: dict[str, list[str]] = {}
    for e in entities:
        by_type.setdefault(e["type"], []).append(e["value"])
    parts = []
    for etype, values in by_type.items():
        shown = ", ".join(values[:limit])
        more = f" and {len(values) - limit} more" if len(values) > limit else ""
        parts.append(f"{etype} {shown}{more}")
    return "; ".join(parts)


INVOLVED = " Involved: "  # where the story ends and the particulars (entities, places, score, techniques) begin


def split_summary(text: str) -> tuple[str, str]:
    """(what happened, the particulars): a page that shows entities, score and techniques on their own
    leads with the first part and keeps the second one click away."""
    story, found, rest = text.partition(INVOLVED)
    return (story, INVOLVED.strip() + " " + rest) if found else (text, "")


def incident_summary(incident: Mapping, alerts: Sequence[Mapping]) -> str:
    """One paragraph: what happened, when, who and what was involved, why it ranks where it does."""
    first = incident["first_seen"].strftime("%Y-%m-%d %H:%M")
    last = incident["last_seen"].strftime("%Y-%m-%d %H:%M")
    rules = {a["rule_id"] for a in alerts}
    lines = [s for s in dict.fromkeys(a["summary"] for a in alerts if a.get("summary"))][:3]
    text = (f"Between {first} and {last} UTC, {len(alerts)} alert(s) from {len(rules)} detection(s) point to "
            f"{scenario_name(incident['scenario'])}.")
    if lines:
        text += " " + " ".join(line if line.endswith(".") else line + "." for line in lines)
    text += f"{INVOLVED}{_entities_text(incident['entities'])}."
    where = [*(f"store {s}" for s in incident["stores"]), *(f"{c} channel" for c in incident["channels"])]
    if where:
        text += " Affected: " + ", ".join(where) + "."
    reasons = "; ".join(f["why"] for f in incident["factors"])
    text += f" Risk {incident['risk_score']}/100 ({incident['severity']}): {reasons}."
    if incident["attack"]:
        text += " ATT&CK: " + ", ".join(attack.label(t) for t in incident["attack"]) + "."
    return text
