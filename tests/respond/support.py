"""Helpers the respond tests share: incidents put straight into a workspace, and the secrets to look for."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pyarrow as pa

from storewatch.correlate.incidents import correlate
from storewatch.store import db
from storewatch.workspace import Workspace

T0 = datetime(2026, 11, 16, 10, tzinfo=timezone.utc)
SECRETS = {  # distinctive values that must never appear in output, audit or store
    "STOREWATCH_AUTH0_CLIENT_SECRET": "auth0-s3cr3t-value",
    "STOREWATCH_CROWDSTRIKE_CLIENT_SECRET": "falcon-s3cr3t-value",
    "STOREWATCH_SHOPIFY_ACCESS_TOKEN": "shpat_s3cr3t_value",
    "STOREWATCH_STRIPE_SECRET_KEY": "sk_test_s3cr3t_value",
    "STOREWATCH_POS_TOKEN": "pos-s3cr3t-value",
    "STOREWATCH_WEBHOOK_TOKEN": "hook-s3cr3t-value",
}
SLACK_PATH = "/services/T000/B000/slack-s3cr3t-path"  # a Slack webhook's path is its secret
SECRET_VALUES = [*SECRETS.values(), "slack-s3cr3t-path"]


def alert(aid: str, scenario: str, entities: list[tuple[str, str]], severity: str = "critical",
          event_ids: list[str] | None = None, store: str | None = None) -> dict:
    return {
        "alert_id": aid, "rule_id": f"rule.{scenario}", "kind": "window", "title": f"{scenario} seen",
        "scenario": scenario, "severity": severity, "confidence": 1.0, "first_seen": T0,
        "last_seen": T0 + timedelta(minutes=30), "event_count": 10,
        "entities": [{"type": t, "value": v} for t, v in entities], "evidence": "{}", "event_ids": event_ids or [],
        "attack": ["T1078"], "store_id": store, "channel": "web", "summary": f"{scenario} summary", "detected_at": T0,
    }


def add_incident(ws: Workspace, alerts: list[dict], events: list[dict] | None = None) -> str:
    """Insert events and alerts, correlate, return the id of the incident holding the first alert."""
    with db.opened(ws) as con:
        if events:
            db.append_events(con, pa.Table.from_pylist(events))
        con.register("_a", pa.Table.from_pylist(alerts))
        con.execute("INSERT INTO alerts BY NAME SELECT * REPLACE (evidence::JSON AS evidence, "
                    "entities::STRUCT(type VARCHAR, value VARCHAR)[] AS entities, event_ids::VARCHAR[] AS event_ids) FROM _a")
        con.unregister("_a")
        correlate(con, now=time.time())
        return con.execute("SELECT incident_id FROM incident_alerts WHERE alert_id = ?", [alerts[0]["alert_id"]]).fetchone()[0]
