"""The lifecycle rules, SLA arithmetic and the migration of older stores' statuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from storewatch.cases import sla
from storewatch.cases.lifecycle import CaseError, in_filter, merged_case, status_change, status_name
from storewatch.store import db
from storewatch.workspace import SettingError, Workspace

NOW = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)


def test_status_names_and_the_resolution_rules():
    assert status_name("In progress") == status_name("in-progress") == "in_progress"
    with pytest.raises(CaseError, match="status must be one of"):
        status_name("closed")
    with pytest.raises(CaseError, match="needs a resolution"):
        status_change({}, "resolved", None, None, NOW)
    with pytest.raises(CaseError, match="duplicate names"):
        status_change({}, "resolved", "duplicate", None, NOW)
    with pytest.raises(CaseError, match="duplicate names"):
        status_change({}, "resolved", "benign", "INC-X", NOW)
    with pytest.raises(CaseError, match="goes with status resolved"):
        status_change({}, "in_progress", "benign", None, NOW)


def test_a_change_stamps_the_clocks_once_and_reopening_clears_the_resolution():
    acked = status_change({}, "acknowledged", None, None, NOW)
    assert acked == {"status": "acknowledged", "resolution": None, "duplicate_of": None, "acknowledged_at": NOW,
                     "resolved_at": None}
    later = NOW + timedelta(hours=2)
    resolved = status_change(acked, "resolved", "benign", None, later)
    assert resolved["acknowledged_at"] == NOW and resolved["resolved_at"] == later  # the first acknowledgement stays
    reopened = status_change(resolved, "in_progress", None, None, later + timedelta(hours=1))
    assert reopened["resolution"] is None and reopened["resolved_at"] is None and reopened["acknowledged_at"] == NOW
    assert status_change({}, "new", None, None, NOW)["acknowledged_at"] is None
    assert in_filter({"status": "in_progress"}, "open") and not in_filter({"status": "resolved"}, "open")


def test_merged_case_keeps_the_survivors_state_and_gathers_the_rest():
    survivor = {"status": "in_progress", "assignee": None, "tags": ["web"]}
    merged = merged_case(survivor, [{"assignee": "kim", "tags": ["scan"]}, {"assignee": "lee", "tags": None}])
    assert (merged["status"], merged["assignee"], merged["tags"]) == ("in_progress", "kim", ["scan", "web"])


def case(severity: str, created: datetime, acked: datetime | None = None, resolved: datetime | None = None) -> dict:
    return {"severity": severity, "status": "resolved" if resolved else "acknowledged" if acked else "new",
            "resolution": "true_positive" if resolved else None, "created_at": created,
            "first_seen": created - timedelta(hours=1), "acknowledged_at": acked, "resolved_at": resolved}


def test_sla_clocks_measure_to_now_while_running_and_flag_breaches():
    targets = sla.DEFAULTS
    running = sla.clocks(case("critical", NOW - timedelta(minutes=20)), NOW, targets)
    assert running["acknowledge"] == {"seconds": 1200.0, "target_seconds": 900.0, "running": True, "breached": True}
    done = sla.clocks(case("high", NOW - timedelta(hours=5), NOW - timedelta(hours=4, minutes=30), NOW), NOW, targets)
    assert done["acknowledge"]["seconds"] == 1800.0 and not done["acknowledge"]["breached"]
    assert done["resolve"] == {"seconds": 18000.0, "target_seconds": 86400.0, "running": False, "breached": False}


def test_mttd_mtta_mttr_are_means_over_the_cases_that_have_them():
    rows = [case("high", NOW - timedelta(hours=4), NOW - timedelta(hours=3), NOW - timedelta(hours=1)),
            case("high", NOW - timedelta(hours=2), NOW - timedelta(hours=1)),
            case("low", NOW - timedelta(minutes=30))]
    figures = sla.stats(rows, NOW, sla.DEFAULTS)
    assert figures["mttd_seconds"] == 3600.0  # each first seen an hour before it was detected
    assert figures["mtta_seconds"] == 3600.0  # (1 h + 1 h) / 2; the unacknowledged one is not counted
    assert figures["mttr_seconds"] == 3 * 3600.0
    assert figures["by_status"] == {"resolved": 1, "acknowledged": 1, "new": 1}
    assert figures["breached"] == {"acknowledge": 0, "resolve": 0}
    assert sla.stats([], NOW, sla.DEFAULTS)["mttr_seconds"] is None
    assert sla.duration(3 * 86400 + 7200) == "3d 2h" and sla.duration(3900) == "1h 05m" and sla.duration(None) == "-"


def test_targets_come_from_settings_and_bad_ones_are_refused(tmp_path):
    ws = Workspace.at(tmp_path / "ws")
    ws.set_setting("sla.acknowledge", ["critical=5m", "HIGH=2h"])
    chosen = sla.targets(ws)
    assert chosen["acknowledge"]["critical"] == timedelta(minutes=5) and chosen["acknowledge"]["high"] == timedelta(hours=2)
    assert chosen["acknowledge"]["low"] == sla.DEFAULTS["acknowledge"]["low"]
    with pytest.raises(SettingError, match="severity=duration"):
        ws.set_setting("sla.resolve", ["urgent=1h"])


def test_an_older_store_is_migrated_once_and_its_statuses_mean_the_same(tmp_path):
    ws = Workspace.at(tmp_path / "ws")
    old = duckdb.connect(str(ws.db_path))  # the incidents table as it was before cases
    old.execute(next(t for t in db.TABLES if "TABLE IF NOT EXISTS incidents" in t))
    stamp = "2026-11-16 10:00:00+00"
    for n, status in enumerate(["open", "confirmed", "false_positive"]):
        old.execute("INSERT INTO incidents (incident_id, title, severity, status, created_at, updated_at) "
                    "VALUES (?, 't', 'high', ?, ?, ?)", [f"INC-{n}", status, stamp, stamp])
    old.close()
    for _ in range(2):  # opening again changes nothing more
        with db.opened(ws) as con:
            rows = con.execute("SELECT incident_id, status, resolution, resolved_at IS NOT NULL FROM incidents "
                               "ORDER BY 1").fetchall()
            columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'incidents'").fetchall()]
        assert rows == [("INC-0", "new", None, False), ("INC-1", "resolved", "true_positive", True),
                        ("INC-2", "resolved", "false_positive", True)]
        assert columns[:17] == ["incident_id", "title", "scenario", "severity", "risk_score", "factors", "first_seen",
                                "last_seen", "entities", "alert_count", "attack", "stores", "channels", "summary",
                                "status", "created_at", "updated_at"]  # added at the end, never reordered
