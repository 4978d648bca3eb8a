"""Behaviour detections: exfiltration, internal port scan, bulk database reads and malware on store
endpoints. Found on simulated estates of several seeds and sizes, silent on their benign look-alikes
(nightly backups, ETL jobs, uptime monitors), and checked on hand-written events for the edge cases: a
scheduled backup, a busy but healthy client, a nightly ETL, fleet-wide update polling, a lone monitor.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import duckdb
import orjson
import pyarrow as pa
import pytest

from storewatch.detect.behaviour import (
    bulk_read,
    detections,
    exfiltration,
    port_scan,
    pos_malware,
)
from storewatch.evaluate import matches
from storewatch.store import db, schema

MINE = {d.id for d in detections()}
SCENARIOS = {"exfiltration", "internal_port_scan", "bulk_data_read", "pos_malware"}
# Entity types each scenario's alerts must name when the label names them.
WANTED = {
    "exfiltration": {"ip"},
    "internal_port_scan": {"ip", "host", "store"},
    "bulk_data_read": {"user", "ip"},
    "pos_malware": {"host", "device", "ip", "domain", "store"},
}
T0 = datetime(2026, 11, 16, tzinfo=timezone.utc)


# --- simulated estates -------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_labelled_attack_is_alerted(estate, scenario: str) -> None:
    labels = estate.label(scenario)
    assert labels, f"the simulator injected no {scenario}"
    alerts = [a for a in estate.alerts(scenario=scenario) if a["rule_id"] in MINE]
    missed = [lb["id"] for lb in labels if not any(matches(a, lb) for a in alerts)]
    assert not missed, f"{scenario}: no alert for {missed}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_alerts_name_the_entities_the_labels_name(estate, scenario: str) -> None:
    named = {(e["type"], e["value"].lower()) for a in estate.alerts(scenario=scenario) if a["rule_id"] in MINE
             for e in a["entities"]}
    for lb in estate.label(scenario):
        wanted = {(e["type"], e["value"].lower()) for e in lb["entities"] if e["type"] in WANTED[scenario]}
        assert wanted <= named, f"{scenario}: alerts do not name {wanted - named}"


def test_no_false_positive_alerts(estate) -> None:
    """Every behaviour alert overlaps a labelled attack; none lands only on a benign look-alike.

    One exception, by necessity: with a single day of data a nightly backup has happened once, and a
    schedule cannot be told from a one-off transfer of the same size (it needs a second night)."""
    attacks = [lb for lb in estate.labels if lb["severity"] != "benign"]
    for rule_id in sorted(MINE):
        for alert in estate.alerts(rule_id=rule_id):
            a = alert
            benign = [lb["scenario"] for lb in estate.benign if matches(a, lb)]
            if estate.days < 2 and benign == ["nightly_backup"]:
                continue
            assert any(matches(a, lb) for lb in attacks), f"{rule_id} false positive: {alert['key']} on {benign}"


def test_intel_confirmed_malware_is_critical(estate) -> None:
    alerts = estate.alerts(rule_id=pos_malware.DETECTION.id)
    assert alerts and all(a["severity"] == "critical" for a in alerts)
    assert all(orjson.loads(a["evidence"])["intel_match"] for a in alerts)


# --- hand-written events -----------------------------------------------------------------------------

def events_store(rows: list[dict], intel: list[dict] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding just these events and indicators (missing columns NULL)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    db.define_macros(con)
    con.execute(schema.create_table_sql("events"))
    con.execute(schema.create_table_sql("intel", schema.INTEL_COLUMNS))
    for table, items in (("events", rows), ("intel", intel)):
        if not items:
            continue
        for i, row in enumerate(items):
            if table == "events":
                row.setdefault("event_id", f"e{i}")
            if isinstance(row.get("attributes"), dict):
                row["attributes"] = orjson.dumps(row["attributes"]).decode()
        columns = list(dict.fromkeys(k for row in items for k in row))
        batch = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in items])  # noqa: F841 - read below
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM batch")
    return con


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def conn(t: float, src: str, dst: str, port: int = 443, sent: int = 2000, state: str = "SF") -> dict:
    """A Zeek conn record."""
    return {"time": at(t), "class_name": "Network Activity", "channel": "network", "source_format": "zeek_json",
            "activity": "conn", "src_ip": src, "dst_ip": dst, "dst_port": port, "bytes_out": sent, "bytes_in": 500,
            "reason": state, "outcome": "success" if state == "SF" else "failure"}


def wobble(k: int, spread: float) -> float:
    """A deterministic, irregular-looking number in [-spread, spread]."""
    return spread * math.sin(k * 12.9898) * 0.999


def _servers_baseline(days: int = 2) -> list[dict]:
    """Ten servers each making thirty small calls a day to a shared pool of SaaS endpoints."""
    return [conn(d * 86400 + k * 2800 + s, f"10.0.0.{s}", f"203.0.113.{(k + s) % 20 + 1}", sent=3000 + (k * 977 + s) % 5000)
            for d in range(days) for s in range(1, 11) for k in range(30)]


def _transfer(t0: float, src: str, dst: str, n: int, each: int) -> list[dict]:
    return [conn(t0 + 40 * k, src, dst, sent=each + k * 1_000_000) for k in range(n)]


def test_exfiltration_fires_on_one_off_transfer_but_not_on_a_nightly_backup() -> None:
    rows = _servers_baseline()
    for night in range(2):  # the backup: same server, same destination, same hour, both nights
        rows += _transfer(night * 86400 + 2 * 3600 + 300 * night, "10.0.0.3", "198.51.100.9", 40, 200_000_000)
    rows += _transfer(86400 + 14 * 3600, "10.0.0.5", "192.0.2.77", 30, 300_000_000)
    [alert] = exfiltration.query(events_store(rows)).to_pylist()
    assert {e["value"] for e in alert["entities"]} >= {"10.0.0.5", "192.0.2.77"}
    evidence = orjson.loads(alert["evidence"])
    assert evidence["data_moved"] is True and evidence["bytes"] > 9e9


def test_exfiltration_ignores_ordinary_busy_uploads() -> None:
    rows = _servers_baseline() + [conn(50000 + k, "10.0.0.7", "203.0.113.3", sent=400_000) for k in range(5)]
    assert exfiltration.query(events_store(rows)).num_rows == 0


def _store_lan(stores: int = 30) -> list[dict]:
    """Back-office PCs with a normal day: forty successful calls each to a handful of services."""
    rows = [conn(3600 + k * 600 + s, f"10.{s}.3.10", f"10.0.{k % 4}.{k % 9 + 1}", port=443 + k % 3)
            for s in range(1, stores + 1) for k in range(40)]
    rows += [{"time": at(3600), "class_name": "Network Activity", "channel": "endpoint", "source_format": "windows",
              "host": f"BO-{s:04d}", "src_ip": f"10.{s}.3.10", "dst_ip": "10.0.0.1"} for s in range(1, stores + 1)]
    rows += [{"time": at(3600), "class_name": "POS Transaction", "channel": "pos", "store_id": f"{s:04d}"}
             for s in range(1, stores + 1)]
    return rows


def test_port_scan_fires_on_a_failed_sweep_and_names_host_and_store() -> None:
    rows = _store_lan()
    rows += [conn(40000 + k * 0.5, "10.17.3.10", f"10.17.{k % 5}.{k // 5 % 250 + 1}", port=(22, 445, 3389)[k % 3],
                  sent=0, state="REJ" if k % 10 else "S0") for k in range(900)]
    [alert] = port_scan.query(events_store(rows)).to_pylist()
    assert {(e["type"], e["value"]) for e in alert["entities"]} >= {("ip", "10.17.3.10"), ("host", "BO-0017"),
                                                                   ("store", "0017")}


def test_port_scan_on_a_busy_pc_counts_the_pairs_that_failed_not_the_connections() -> None:
    """A back-office PC that calls its few usual services a thousand times a day and also sweeps 600
    host:port pairs: the sweep is fewer than half of its connections but nearly all of the pairs it touched."""
    rows = _store_lan()
    rows += [conn(3600 + k * 30, "10.17.3.10", f"10.0.0.{k % 4 + 1}") for k in range(1_000)]
    rows += [conn(40000 + k * 0.5, "10.17.3.10", f"10.17.{k % 5}.{k // 5 % 250 + 1}", port=(22, 445, 3389)[k % 3],
                  sent=0, state="REJ") for k in range(600)]
    [alert] = port_scan.query(events_store(rows)).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert evidence["ip"] == "10.17.3.10" and evidence["failed_targets"] == 600 and evidence["failed_share"] > 0.9


def test_port_scan_ignores_a_busy_client_whose_connections_succeed() -> None:
    """A proxy or monitoring box talks to hundreds of host:port pairs, and they answer."""
    rows = _store_lan() + [conn(40000 + k, "10.9.3.10", f"10.0.{k % 50}.{k // 50 + 1}", port=443 + k % 7)
                           for k in range(800)]
    assert port_scan.query(events_store(rows)).num_rows == 0


def _db_session(t: float, pid: int, ip: str, user: str, reads: list[tuple[str, int]]) -> list[dict]:
    rows = [{"time": at(t), "class_name": "Authentication", "channel": "database", "activity": "logon",
             "outcome": "success", "src_ip": ip, "attributes": {"pid": str(pid)}}]
    rows += [{"time": at(t + 30 * (i + 1)), "class_name": "Datastore Activity", "channel": "database",
              "activity": "select", "outcome": "success", "reason": "READ", "user_name": user, "query": q,
              "attributes": {"pid": str(pid), "rows": n}} for i, (q, n) in enumerate(reads)]
    return rows


def _app_traffic(days: int) -> list[dict]:
    """The shop application: short lookups all day, from app servers that are present every hour."""
    rows = []
    for h in range(24 * days):
        rows += _db_session(h * 3600, 100 + h % 7, f"10.0.1.{h % 3 + 1}", "shop_app",
                            [(f"SELECT * FROM customers WHERE id = {k}", k % 6) for k in range(20)])
    return rows


def _etl(days: int) -> list[dict]:
    """The nightly ETL from its server, which also shows up in network telemetry every hour."""
    rows = [conn(h * 3600 + 60, "10.0.3.24", "203.0.113.1") for h in range(24 * days)]
    for d in range(days):
        rows += _db_session(d * 86400 + 5400 + 60 * d, 9000 + d, "10.0.3.24", "etl_svc",
                            [("SELECT * FROM orders", 80_000), ("SELECT * FROM customers", 20_000)])
    return rows


DUMP = [("SELECT * FROM customers", 20_000), ("SELECT * FROM payments", 60_000)]


@pytest.mark.parametrize("days", [1, 2])
def test_bulk_read_fires_on_a_dump_but_not_on_the_nightly_etl(days: int) -> None:
    rows = _app_traffic(days) + _etl(days) + _db_session(15 * 3600, 7777, "10.0.9.200", "mallory", DUMP)
    [alert] = bulk_read.query(events_store(rows)).to_pylist()
    assert {(e["type"], e["value"]) for e in alert["entities"]} == {("user", "mallory"), ("ip", "10.0.9.200")}
    evidence = orjson.loads(alert["evidence"])
    assert evidence["rows"] == 80_000 and "payments" in evidence["tables"]


def test_bulk_read_fires_when_a_known_user_dumps_from_a_new_client() -> None:
    """An established host is no alibi when this user never worked from it before."""
    rows = _app_traffic(2) + _etl(2)
    rows += _db_session(3600, 501, "10.0.9.50", "analyst", [("SELECT count(*) FROM orders", 1)])
    rows += _db_session(86400 + 11 * 3600, 502, "10.0.3.24", "analyst", DUMP)
    [alert] = bulk_read.query(events_store(rows)).to_pylist()
    assert orjson.loads(alert["evidence"])["user"] == "analyst"


FLEET = 12


def _process(t: float, host: str, image: str, sha: str) -> dict:
    return {"time": at(t), "class_name": "Process Activity", "channel": "endpoint", "source_format": "windows",
            "host": host, "process_name": image, "file_hash": sha}


def _fleet() -> list[dict]:
    """Twelve POS terminals running the same software, all polling the vendor's update service every 10 min."""
    rows = []
    for k in range(1, FLEET + 1):
        host, ip = f"POS-{k:04d}-01", f"10.{k}.2.11"
        rows += [_process(3600 + 600 * j + k, host, "C:\\Retail\\pos.exe", "a" * 64) for j in range(5)]
        rows.append({"time": at(3600), "class_name": "Network Activity", "channel": "endpoint", "source_format": "windows",
                     "host": host, "src_ip": ip, "dst_ip": "10.0.1.41"})
        rows.append({"time": at(3600), "class_name": "POS Transaction", "channel": "pos", "store_id": f"{k:04d}"})
        rows += [conn(k * 7 + 600 * j, ip, "192.0.2.10") for j in range(100)]
    return rows


def _beacon(src: str, dst: str, period: float, n: int, start: float = 7200) -> list[dict]:
    return [conn(start + period * j + wobble(j, period * 0.05), src, dst, sent=600) for j in range(n)]


def test_beaconing_fleet_device_with_rare_process_is_malware() -> None:
    rows = _fleet() + _beacon("10.7.2.11", "198.51.100.66", 120, 300)
    rows.append(_process(7100, "POS-0007-01", "C:\\Users\\Public\\svch0st.exe", "b" * 64))
    con = events_store(rows)
    [alert] = pos_malware.query(con).to_pylist()
    assert {(e["type"], e["value"]) for e in alert["entities"]} >= {
        ("host", "POS-0007-01"), ("device", "POS-0007-01"), ("store", "0007"), ("ip", "10.7.2.11"),
        ("ip", "198.51.100.66"), ("hash", "b" * 64)}
    evidence = orjson.loads(alert["evidence"])
    assert evidence["intel_match"] is False and alert["severity"] is None  # high, the detection's default
    assert abs(evidence["period_s"] - 120) <= 2


def test_intel_listed_c2_makes_it_critical() -> None:
    rows = _fleet() + _beacon("10.7.2.11", "198.51.100.66", 120, 300)
    intel = [{"indicator_id": "indicator--1", "ioc_type": "ip", "value": "198.51.100.66", "name": "PoS C2",
              "valid_from": T0 - timedelta(days=30)}]
    [alert] = pos_malware.query(events_store(rows, intel)).to_pylist()
    assert alert["severity"] == "critical" and orjson.loads(alert["evidence"])["intel_match"] is True


def test_no_malware_on_fleet_polling_random_traffic_or_a_lone_monitor() -> None:
    rows = _fleet()
    # a terminal reaching a rare address at random moments (Poisson): rare, but no rhythm
    rng, t = random.Random(7), 7200.0
    for _ in range(200):
        t += rng.expovariate(1 / 90)
        rows.append(conn(t, "10.3.2.11", "198.51.100.99"))
    # the monitoring server polls an outside health endpoint every minute: a rhythm, but a lone server
    rows += _beacon("10.0.9.31", "203.0.113.200", 60, 500)
    rows.append({"time": at(3600), "class_name": "Network Activity", "channel": "endpoint", "host": "mon-01",
                 "src_ip": "10.0.9.31", "dst_ip": "10.0.0.1"})
    assert pos_malware.query(events_store(rows)).num_rows == 0


def _unlogged(rows: list[dict]) -> list[dict]:
    """The same sessions as pgaudit logs them by default: no row counts."""
    return [{**r, "attributes": {k: v for k, v in r["attributes"].items() if k != "rows"}} if "attributes" in r else r
            for r in rows]


@pytest.mark.parametrize("days", [1, 2])
def test_bulk_read_by_the_statements_shape_when_no_row_count_is_logged(days: int) -> None:
    """COPY ... TO and unfiltered SELECTs of customer and payment tables; the app's lookups and counts,
    and the nightly ETL's whole-table reads from its own server, stay quiet."""
    dump = [("COPY public.customers (id, email, phone) TO stdout", 0), ("SELECT * FROM billing.card_tokens", 0),
            ("SELECT count(*) FROM orders", 0), ("SELECT * FROM products", 0)]
    rows = _unlogged(_app_traffic(days) + _etl(days) + _db_session(15 * 3600, 7777, "10.0.9.200", "mallory", dump))
    [alert] = bulk_read.query(events_store(rows)).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert evidence["user"] == "mallory" and evidence["statements"] == 2  # not the count, not the catalogue
    assert "public.customers" in evidence["tables"] and evidence["rows_read"] == "an unlogged number of"


def test_bulk_read_of_the_only_database_user_is_judged_against_a_floor() -> None:
    """A one-database shop with a single account: no other user to compare with, the floor decides."""
    lookups = [r for h in range(24) for r in _db_session(h * 3600, 10 + h, "10.0.1.1", "shop",
                                                          [(f"SELECT * FROM customers WHERE id = {k}", 1) for k in range(5)])]
    # the dump in 30 chunks, more than 5% of the account's statements: its own p95 would be the dump itself
    dump = _db_session(15 * 3600 + 600, 99, "10.0.9.200", "shop",
                       [(f"SELECT * FROM customers OFFSET {k * 50_000}", 50_000) for k in range(30)])
    [alert] = bulk_read.query(events_store(lookups + dump)).to_pylist()
    assert orjson.loads(alert["evidence"])["rows"] == 30 * 50_000


def test_bulk_read_of_a_small_shops_whole_tables_by_shape_when_rows_are_logged() -> None:
    """A quiet shop's whole customer table is a few hundred rows, no more than its app's busier lookups
    return: the row count cannot tell the dump (z of about 3.5 over the app's statements), the shape does.
    The ETL's nightly whole-table reads from its own server stay quiet."""
    lookups = [r for h in range(48) for r in _db_session(h * 3600, 100 + h % 7, f"10.0.1.{h % 2 + 1}", "shop_app",
                                                          [(f"SELECT id, total FROM orders WHERE customer_id = {k}", k)
                                                           for k in range(1, 21)])]
    etl = [conn(h * 3600 + 60, "10.0.3.24", "203.0.113.1") for h in range(48)]
    for d in range(2):
        etl += _db_session(d * 86400 + 5400, 9000 + d, "10.0.3.24", "etl_svc",
                           [("SELECT * FROM orders", 1_700), ("SELECT * FROM customers", 400)])
    dump = _db_session(86400 + 15 * 3600, 7777, "10.0.9.200", "mallory",
                       [("SELECT * FROM customers", 400), ("SELECT * FROM payments", 1_240)])
    [alert] = bulk_read.query(events_store(lookups + etl + dump)).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert evidence["user"] == "mallory" and evidence["rows"] == 1_640 and evidence["statements"] == 2
    assert alert["confidence"] > 0


def test_bulk_read_client_is_judged_against_the_other_clients_presence() -> None:
    """One day, three database clients: the app server (every hour), a reporting box (8 hours) and the
    laptop that dumps the tables (5 hours). With the laptop in the median, the typical client would be the
    reporting box and the laptop would look established; against the others it is rare. The reporting
    box's own whole-table read stays quiet: against the app server and the laptop it is not rare."""
    rows = [r for h in range(24) for r in _db_session(h * 3600, 100 + h % 7, "10.0.1.1", "shop_app",
                                                       [(f"SELECT * FROM customers WHERE id = {k}", 1) for k in range(5)])]
    rows += [conn(h * 3600 + 120, "10.0.4.7", "10.0.1.1", port=443) for h in range(8, 16)]
    rows += _db_session(9 * 3600, 4001, "10.0.4.7", "reporting", [("SELECT * FROM customers", 0)])
    rows += [conn(h * 3600 + 300, "10.0.9.200", "10.0.1.1", port=443) for h in range(10, 15)]
    rows += _db_session(14 * 3600, 7777, "10.0.9.200", "mallory", DUMP)
    [alert] = bulk_read.query(events_store(_unlogged(rows))).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert evidence["user"] == "mallory" and evidence["rare_source"] is True
    assert evidence["source_hours"] == 5 and evidence["typical_source_hours"] == (24 + 8) / 2
