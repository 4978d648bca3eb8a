"""The exceptions' condition language: what it matches, what it refuses, and the look-alikes it must not match."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest
import yaml

from storewatch.learn import conditions, exceptions


def _alert(user: str = "etl_nightly", ip: str = "10.20.3.4", hour: int = 2, rule: str = "behaviour.db.bulk_read") -> dict:
    return {"alert_id": f"a-{user}-{ip}-{hour}", "rule_id": rule, "kind": "behaviour", "scenario": "bulk_data_read",
            "severity": "high", "first_seen": datetime(2026, 11, 21, hour, 30, tzinfo=timezone.utc),  # a Saturday
            "entities": [{"type": "user", "value": user}, {"type": "ip", "value": ip}],
            "evidence": {"user_agent": "HealthCheck/2.1", "rows": 5000}}


def _match(text: str, alert: dict) -> bool:
    return conditions.matches(conditions.parse(text), alert)


def test_db_user_in_a_time_window_matches_only_that_user_at_that_time() -> None:
    cond = "db_user = etl_nightly and time between 01:00 and 03:00"
    assert _match(cond, _alert())
    assert not _match(cond, _alert(hour=4))  # the same job at another hour is worth a look
    assert not _match(cond, _alert(user="etl_nightly2"))  # a look-alike name is not the job


def test_cidr_contains_startswith_lists_days_and_or() -> None:
    assert _match('user_agent contains "healthcheck/2" and src_ip in 10.20.0.0/16', _alert())
    assert not _match('user_agent contains "healthcheck/2" and src_ip in 10.20.0.0/16', _alert(ip="10.21.0.4"))
    assert _match("rule_id startswith behaviour.db and day in (sat, sun)", _alert())
    assert not _match("day in (mon, tue)", _alert())
    assert _match("ip in (192.168.0.0/16, 10.20.3.4)", _alert())
    assert _match("user = nobody or (severity = high and rows = 5000)", _alert())
    assert not _match("user = nobody or (severity = low and rows = 5000)", _alert())
    assert _match("time between 23:00 and 03:00", _alert(hour=2))  # a window across midnight
    assert not _match("time between 23:00 and 01:00", _alert(hour=2))


@pytest.mark.parametrize("text, says", [
    ("", "empty"), ("user = ", "ends"), ("user like x", "unknown operator"), ("user between 01:00 and 02:00", "time of day"),
    ("ip in 10.0.0.0/33", "not a network"), ("day in (someday)", "day"), ("user = a b", "unexpected"),
    ("time between 1am and 02:00", "HH:MM"), ("(user = a", "expected"),
])
def test_bad_conditions_are_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(conditions.ConditionError, match=says):
        conditions.parse(text)


def test_exception_files_load_with_errors_reported_and_expiry_honoured(ws) -> None:
    folder = exceptions.folder(ws)
    folder.mkdir()
    now = datetime.now(timezone.utc)
    good = {"id": "exc-etl", "condition": "user = etl_nightly", "scope": "group:bulk_data_read", "owner": "ana",
            "reason": "nightly ETL", "created": now.isoformat()}
    (folder / "exc-etl.yml").write_text(yaml.safe_dump(good))
    (folder / "old.yml").write_text(yaml.safe_dump({**good, "id": "old", "condition": "user = other",
                                                    "expires": (now - timedelta(days=1)).isoformat()}))
    (folder / "broken.yml").write_text("id: broken\ncondition: user in (a,\nreason: x\n")
    (folder / "notyaml.yml").write_text("id: [unclosed\n")
    found, errors = exceptions.load(ws)
    assert sorted(e.id for e in found) == ["exc-etl", "old"]
    assert sorted(e["file"].rsplit("/", 1)[1] for e in errors) == ["broken.yml", "notyaml.yml"]
    assert "condition" in next(e["error"] for e in errors if e["file"].endswith("broken.yml"))
    alerts = [_alert(), _alert(user="other"), _alert(user="etl_nightly", rule="window.x")]
    alerts[2]["scenario"] = "other_scenario"
    table = pa.Table.from_pylist([{**a, "evidence": "{}"} for a in alerts])
    kept, closed = exceptions.apply(duckdb.connect(), table, found, now)
    assert closed.column("alert_id").to_pylist() == [alerts[0]["alert_id"]]  # scope: only its group
    assert closed.column("exception_id").to_pylist() == ["exc-etl"]
    assert sorted(kept.column("alert_id").to_pylist()) == sorted([alerts[1]["alert_id"], alerts[2]["alert_id"]])  # expired


def test_make_refuses_what_a_reviewer_could_not_trust() -> None:
    with pytest.raises(exceptions.ExceptionError, match="reason"):
        exceptions.make({"id": "x", "condition": "user = a"})
    with pytest.raises(exceptions.ExceptionError, match="id"):
        exceptions.make({"id": "../etc/passwd", "condition": "user = a", "reason": "r"})
    with pytest.raises(exceptions.ExceptionError, match="scope"):
        exceptions.make({"id": "x", "condition": "user = a", "reason": "r", "scope": "everything"})


def test_quoted_values_round_trip_whatever_they_hold() -> None:
    for value in ('<script>alert("x")</script>', 'back\\slash "and" quote', "it's"):
        cond = f"user = {conditions.quoted(value)}"
        assert _match(cond, _alert(user=value))
        assert not _match(cond, _alert(user=value + "x"))
    assert exceptions.suggested_condition([{"type": "user", "value": 'a"b'}, {"type": "ip", "value": "10.1.2.3"}]) == \
        'user = "a\\"b" and ip in 10.1.2.0/24'


def test_files_dropped_edited_or_deleted_by_hand_are_noticed_once(ws) -> None:
    from storewatch.store import db

    folder = exceptions.folder(ws)
    folder.mkdir()
    doc = {"id": "exc-hand", "condition": "user = a", "reason": "r"}
    (folder / "exc-hand.yml").write_text(yaml.safe_dump(doc))
    with db.opened(ws) as con:
        assert exceptions.file_changes(ws, con) == {"added": ["exc-hand"], "removed": [], "changed": []}
        assert exceptions.file_changes(ws, con) == {}
        (folder / "exc-hand.yml").write_text(yaml.safe_dump({**doc, "condition": "user = b"}))
        assert exceptions.file_changes(ws, con)["changed"] == ["exc-hand"]
        (folder / "exc-hand.yml").unlink()
        assert exceptions.file_changes(ws, con)["removed"] == ["exc-hand"]
