"""Pivots on a hand-made store: IP → user → IP, IP → card → order, what is not followed, money, gaps."""

from __future__ import annotations

import pytest

from storewatch.forensics.timeline import TraceOptions, build_timeline
from storewatch.store import db
from tests.forensics.conftest import at

A, B, C = "45.13.7.9", "81.2.3.4", "92.5.6.7"


def _login(minute: float, ip: str, user: str, outcome: str = "success", **extra) -> dict:
    return {"time": at(minute), "class_name": "Authentication", "activity": "logon", "outcome": outcome,
            "channel": "identity", "source_format": "auth0", "src_ip": ip, "user_name": user, **extra}


def _money(minute: float, ip: str | None, cls: str, outcome: str, amount: str, **extra) -> dict:
    channel = {"Payment": "payments", "Order": "orders"}[cls]
    return {"time": at(minute), "class_name": cls, "activity": "charge" if cls == "Payment" else "order",
            "outcome": outcome, "channel": channel, "source_format": "stripe" if cls == "Payment" else "shopify",
            "src_ip": ip, "amount": amount, "currency": "USD", **extra}


EVENTS = [
    _login(0, A, "bob", "failure", event_id="bob-guess"),
    _login(1, A, "alice", event_id="alice-by-attacker"),
    _login(2, A, "shared"),
    *[_login(3 + i, f"60.0.0.{i}", "shared", event_id=f"shared-{i}") for i in range(8)],
    _login(20, C, "bob", event_id="bob-elsewhere"),
    _login(30, B, "alice", event_id="alice-elsewhere"),
    _money(31, B, "Order", "success", "120.50", order_id="o-1", card_fingerprint="card-b", event_id="order-by-b"),
    _money(5, A, "Payment", "failure", "5.00", card_fingerprint="card-x", event_id="declined"),
    _money(6, A, "Payment", "success", "10.00", card_fingerprint="card-a", event_id="charge-a"),
    _money(40, "99.9.9.9", "Order", "success", "300.00", order_id="o-77", card_fingerprint="card-a",
           event_id="card-a-order"),
    {"time": at(45), "class_name": "Order", "activity": "refund", "outcome": "success", "channel": "orders",
     "source_format": "shopify", "order_id": "o-77", "event_id": "o-77-refund"},
    _login(60 * 10, B, "alice", event_id="outside-window"),
]


@pytest.fixture
def chain(small) -> dict:
    ws, incident = small(EVENTS, [("ip", A)], 0, 10)
    with db.opened(ws) as con:
        return build_timeline(con, incident)


def _by_id(timeline: dict) -> dict[str, dict]:
    return {e["event_id"]: e for e in timeline["events"]}


def test_ip_to_user_to_ip_and_ip_to_card_to_order(chain) -> None:
    events = _by_id(chain)
    assert events["alice-elsewhere"]["pivot"] == {"hop": 1, "type": "user", "value": "alice",
                                                  "path": f"ip {A} → user alice"}
    assert events["order-by-b"]["pivot"]["path"] == f"ip {A} → user alice → ip {B}"
    assert events["card-a-order"]["pivot"]["path"] == f"ip {A} → card card-a"
    assert events["o-77-refund"]["pivot"]["path"] == f"ip {A} → card card-a → order o-77"
    assert events["o-77-refund"]["pivot"]["hop"] == 2


def test_failed_attempts_and_common_entities_are_not_pivoted_through(chain) -> None:
    events = _by_id(chain)
    assert "bob-guess" in events and not events["bob-guess"]["reached"]
    assert "bob-elsewhere" not in events  # a guessed password names an account, it does not hold it
    assert not any(i.startswith("shared-") for i in events)  # 'shared' is used from 9 addresses
    skipped = {(p["type"], p["value"]): p for p in chain["pivots"] if not p["followed"]}
    assert skipped[("user", "shared")]["peers"] == 9
    assert "outside-window" not in events


def test_blast_radius_reached_attempted_and_money(chain) -> None:
    blast = chain["blast_radius"]
    assert blast["reached"]["user"]["values"] == ["alice", "shared"]
    assert blast["reached"]["card"]["values"] == ["card-a", "card-b"]
    assert blast["reached"]["order"]["values"] == ["o-1", "o-77"]
    assert blast["attempted_only"] == {"card": 1, "user": 1}  # card-x declined, bob guessed
    # The declined charge moved nothing; the refund carries no amount.
    assert blast["money"] == [
        {"currency": "USD", "channel": "orders", "activity": "order", "events": 2, "amount": "420.50"},
        {"currency": "USD", "channel": "payments", "activity": "charge", "events": 1, "amount": "10.00"},
    ]


def test_fewer_hops_reach_less(small) -> None:
    ws, incident = small(EVENTS, [("ip", A)], 0, 10)
    with db.opened(ws) as con:
        one = build_timeline(con, incident, options=TraceOptions(hops=1))
    events = _by_id(one)
    assert "alice-elsewhere" in events and "card-a-order" in events
    assert "order-by-b" not in events and "o-77-refund" not in events


def _web(minute: float, ip: str, **extra) -> dict:
    return {"time": at(minute), "class_name": "HTTP Activity", "activity": "get", "outcome": "success",
            "channel": "web", "source_format": "nginx", "src_ip": ip, "http_method": "GET", "url_path": "/",
            "http_status": 200, **extra}


def _conn(minute: float, fmt: str, src: str, dst: str, **extra) -> dict:
    return {"time": at(minute), "class_name": "Network Activity", "activity": "conn", "outcome": "success",
            "channel": "network" if fmt.startswith("zeek") else "endpoint", "source_format": fmt,
            "src_ip": src, "dst_ip": dst, **extra}


def test_gaps_silence_silent_source_and_unseen_host(small) -> None:
    events = [
        *[_web(m, A) for m in range(11)], *[_web(m, A) for m in range(50, 61)],  # 40 silent minutes
        *[_conn(m, "zeek_json", "10.9.9.1", "10.9.9.2") for m in range(-300, 360, 2) if not 0 <= m <= 60],
        *[_conn(m, "zeek_tsv", "10.1.1.6", "10.9.9.2") for m in range(-30, 90, 5)],
        _conn(5, "windows", "10.1.1.5", A, host="POS-1", process_name="C:\\pos.exe"),   # never seen by Zeek
        _conn(6, "windows", "10.1.1.6", A, host="POS-2", process_name="C:\\pos.exe"),   # seen by zeek_tsv
    ]
    ws, incident = small(events, [("ip", A)], 0, 60)
    with db.opened(ws) as con:
        gaps = build_timeline(con, incident)["gaps"]
    silences = [g for g in gaps if g["kind"] == "silence"]
    assert [(g["start"][11:16], g["end"][11:16], g["minutes"]) for g in silences] == [("10:10", "10:50", 40)]
    assert [g["source"] for g in gaps if g["kind"] == "source"] == ["zeek_json"]
    assert [(g["host"], g["addresses"]) for g in gaps if g["kind"] == "host_network"] == [("POS-1", ["10.1.1.5"])]


def test_root_cause_of_an_inside_actor_starts_in_the_span_or_at_earlier_evidence(small) -> None:
    scanner = "10.1.1.9"
    normal = _conn(-60, "zeek_json", scanner, "10.0.0.1", event_id="normal-before")
    probes = [_conn(m, "zeek_json", scanner, f"10.0.0.{m + 2}", event_id=f"probe-{m}") for m in range(5)]
    ws, incident = small([normal, *probes], [("ip", scanner)], 0, 10)
    with db.opened(ws) as con:
        cause = build_timeline(con, incident)["root_cause"]
    assert cause["event_id"] == "probe-0"  # not the ordinary connection an hour earlier
    assert "internal address" in cause["reason"] and "inside the incident span" in cause["reason"]

    door = {"time": at(-1), "class_name": "Physical Access", "activity": "door_forced", "outcome": "unknown",
            "source_format": "onvif", "device": "door-1", "store_id": "0001", "event_id": "door"}
    no_sale = {"time": at(2), "class_name": "POS Transaction", "activity": "no_sale", "outcome": "success",
               "source_format": "poslog", "employee_id": "T1", "store_id": "0001", "event_id": "no-sale"}
    ws, incident = small([door, no_sale], [("employee", "T1"), ("device", "door-1")], 0, 10, evidence=["door"])
    with db.opened(ws) as con:
        cause = build_timeline(con, incident)["root_cause"]
    assert cause["event_id"] == "door" and cause["reason"].startswith("earliest event a detection kept as evidence")
    assert cause["entity"] == {"type": "device", "value": "door-1"} and cause["foothold"] is None
