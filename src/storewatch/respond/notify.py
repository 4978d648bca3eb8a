"""Tell the team about incidents as they appear: once per incident and level, rate-limited, with a link.

An incident is sent when it reaches the configured severity (setting `notify.min_severity`, default high)
and again only when it escalates: its level is (severity, distinct detections, risk in steps of ten) and
a level is sent when it is higher than the last one sent for that incident (the `notifications` table,
keyed by incident and level, so nothing is sent twice, across runs and processes). At most
`notify.max_per_hour` messages (default 10) go out per hour; what is left waits for one digest per hour
that lists them all. Messages go through the notification adapters that are configured (Slack, Teams,
webhook, e-mail: `storewatch.respond.adapters`, settings in respond.yml or the environment) and carry the
dashboard page of the incident (`dashboard.url`). A channel that fails is reported and the incident
stays pending for the next dispatch unless another channel took it. Secrets never reach the output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Optional

from storewatch import audit
from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.correlate.queries import list_incidents
from storewatch.respond import http
from storewatch.respond.adapters import ADAPTERS, NOTIFY_CHANNELS
from storewatch.respond.adapters.base import AdapterError, Job
from storewatch.respond.config import Settings, scrub
from storewatch.store import db, reader
from storewatch.workspace import Workspace

TEMPLATE = ("storewatch: {change} {severity} incident {id} ({scenario}, risk {risk_score}/100)\n{title}\n"
            "{summary}\n{url}")
PERIOD = timedelta(hours=1)
SKIPPED_STATUSES = ("false_positive",)  # an analyst said it is not an attack (the status before cases; now the resolution)


@dataclass(frozen=True)
class Pending:
    incident: dict
    level: str
    rank: tuple[int, int, int]
    escalation: bool


def level_of(incident: Mapping[str, Any], detections: int) -> tuple[str, tuple[int, int, int]]:
    """The incident's notification level, as stored and as compared (higher tuple: escalation)."""
    band = int(incident["risk_score"]) // 10
    rank = (SEVERITY_RANK[incident["severity"]], detections, band)
    return f"{incident['severity']}/{detections} detection(s)/risk {band * 10}+", rank


def pending(incidents: list[dict], detections: Mapping[str, int], sent: Mapping[str, tuple[int, ...]],
            min_severity: str) -> list[Pending]:
    """Incidents to send, most severe first: at or above the threshold and above their last sent level."""
    out = []
    for inc in incidents:
        if SEVERITY_RANK[inc["severity"]] < SEVERITY_RANK[min_severity] or SKIPPED_STATUSES[0] in (inc.get("status"), inc.get("resolution")):
            continue
        level, rank = level_of(inc, detections.get(inc["id"], 1))
        last = sent.get(inc["id"])
        if last is None or rank > tuple(last):
            out.append(Pending(inc, level, rank, last is not None))
    return sorted(out, key=lambda p: (p.rank[0], p.incident["risk_score"]), reverse=True)


def _link(base: str, incident_id: str) -> str:
    return f"{base.rstrip('/')}/incidents/{incident_id}" if base else "(set dashboard.url for a link)"


def _message(p: Pending, base: str) -> dict:
    change = f"escalated to {p.level}:" if p.escalation else "new"
    return {**p.incident, "change": change, "url": _link(base, p.incident["id"])}


def _digest(items: list[Pending], base: str, now: datetime) -> dict:
    top = max(items, key=lambda p: p.rank)
    lines = [f"- {p.incident['id']} {p.incident['severity']} risk {p.incident['risk_score']}: {p.incident['title']} "
             f"{_link(base, p.incident['id'])}" for p in items]
    return {"id": f"DIGEST-{now:%Y%m%dT%H%M}", "change": "digest:", "severity": top.incident["severity"],
            "scenario": "digest", "risk_score": top.incident["risk_score"], "title": f"{len(items)} more incident(s) "
            f"this hour, past the limit of individual messages", "summary": "\n".join(lines),
            "url": base or "", "first_seen": min(p.incident["first_seen"] for p in items),
            "last_seen": max(p.incident["last_seen"] for p in items), "stores": [], "entities": []}


def _read(ws: Workspace, since: datetime) -> tuple[list[dict], dict[str, int], dict[str, tuple], int, bool]:
    """Incidents, distinct detections per incident, last level sent per incident, messages and digests sent
    within the period, from the read snapshot."""
    with reader.opened(ws) as con:
        incidents = list_incidents(con)
        detections = dict(con.execute("SELECT l.incident_id, count(DISTINCT a.rule_id) FROM incident_alerts l "
                                      "JOIN alerts a USING (alert_id) GROUP BY 1").fetchall())
        sent = {i: tuple(r) for i, r in con.execute(
            "SELECT incident_id, max(rank) FROM notifications GROUP BY 1").fetchall()}
        recent, digests = con.execute(
            "SELECT count(*) FILTER (WHERE kind = 'incident'), count(*) FILTER (WHERE kind = 'digest') "
            "FROM notifications WHERE sent_at > ?", [since]).fetchone()
    return incidents, detections, sent, recent, bool(digests)


def dispatch(ws: Workspace, now: Optional[datetime] = None, environ: Optional[Mapping[str, str]] = None) -> list[dict]:
    """Send what is due (see the module docstring); returns one record per message sent or failed."""
    now = now or datetime.now(timezone.utc)
    settings = Settings.load(ws, environ)
    channels = [c for c in NOTIFY_CHANNELS if not settings.missing(c, ADAPTERS[c].settings)]
    if not channels:
        return []
    incidents, detections, sent, recent, digest_sent = _read(ws, now - PERIOD)
    todo = pending(incidents, detections, sent, ws.setting("notify.min_severity", "high"))
    if not todo:
        return []
    base = ws.setting("dashboard.url", "")
    budget = max(0, int(ws.setting("notify.max_per_hour", "10")) - recent)
    secrets = settings.secret_values({**{c: ADAPTERS[c].settings for c in NOTIFY_CHANNELS}, "http": http.SETTINGS})
    client = http.Http.from_settings(settings.section("http", http.SETTINGS))
    results: list[dict] = []
    try:
        for p in todo[:budget]:
            results.append(_send(ws, settings, client, channels, secrets, _message(p, base), now,
                                 [(p.incident["id"], p.level, p.rank)], "incident"))
        rest = todo[budget:]
        if rest and not digest_sent:
            results.append(_send(ws, settings, client, channels, secrets, _digest(rest, base, now), now,
                                 [(p.incident["id"], p.level, p.rank) for p in rest], "digest"))
    finally:
        client.close()
    _record(ws, [r for r in results if r["channels"]], now)
    return results


def _send(ws: Workspace, settings: Settings, client: http.Http, channels: list[str], secrets: list[str],
          incident: dict, now: datetime, covers: list[tuple[str, str, tuple]], kind: str) -> dict:
    """One message through every configured channel; the record of who took it and who failed."""
    action = "NOTE-" + hashlib.sha256(f"{incident['id']}\x1f{covers[0][1]}\x1f{kind}".encode()).hexdigest()[:12].upper()
    job = Job(action_id=action, incident=incident, why=f"incident {incident['change']} at or above the notify threshold",
              expires_at=now + PERIOD, ws=ws)
    took, failed = [], {}
    for name in channels:
        adapter = ADAPTERS[name](settings.section(name, ADAPTERS[name].settings), http=client)
        try:
            adapter.apply("notify", "incident", {"text": TEMPLATE}, job)
            took.append(name)
        except AdapterError as exc:
            failed[name] = scrub(str(exc), secrets)
    result = {"incident_id": incident["id"], "kind": kind, "covers": [c[0] for c in covers],
              "levels": [c[1] for c in covers], "ranks": [list(c[2]) for c in covers], "channels": took,
              "failed": failed}
    audit.append(ws, "notify.sent" if took else "notify.failed",
                 {"incident": incident["id"], "kind": kind, "covers": result["covers"], "channels": took},
                 job.why, f"sent via {', '.join(took)}" if took else "every channel failed"
                 + "".join(f"; {k}: {v}" for k, v in failed.items()))
    return result


def _record(ws: Workspace, results: list[dict], now: datetime) -> None:
    """Remember what went out, so that the same level of the same incident is never sent again."""
    if not results:
        return
    rows = [(inc, level, rank, r["kind"], r["channels"], now, r["incident_id"])
            for r in results for inc, level, rank in zip(r["covers"], r["levels"], r["ranks"])]
    with db.opened(ws) as con:
        con.executemany("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
