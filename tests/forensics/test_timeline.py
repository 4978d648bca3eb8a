"""Timelines of simulated brute forces: the attacker's events, the pivot to the account, entry point, reach."""

from __future__ import annotations

from datetime import datetime

import pytest

from storewatch.forensics.timeline import UnknownIncident, build_timeline
from storewatch.store import db


def _timeline(estate, incident_id: str, limit: int | None = None) -> dict:
    with db.opened(estate.ws, read_only=True) as con:
        return build_timeline(con, incident_id, limit=limit)


def _ids(estate, sql: str, params: list) -> set[str]:
    with db.opened(estate.ws, read_only=True) as con:
        return {r[0] for r in con.execute(sql, params).fetchall()}


@pytest.fixture(scope="module")
def admin(estate) -> dict:
    return _timeline(estate, estate.admin.incident_id)


@pytest.fixture(scope="module")
def ssh(estate) -> dict:
    return _timeline(estate, estate.ssh.incident_id)


def test_every_event_of_the_attacker_ip_is_in_time_order(estate, admin) -> None:
    attacker = _ids(estate, "SELECT event_id FROM events WHERE src_ip = ?", [estate.admin.ip])
    shown = {e["event_id"] for e in admin["events"]}
    assert attacker and attacker <= shown
    assert admin["omitted"] == 0 and admin["total_events"] == len(admin["events"])
    times = [e["time"] for e in admin["events"]]
    assert times == sorted(times)
    fails = [e for e in admin["events"] if e["summary"] == "POST /admin/login → 401"]
    assert len(fails) >= 150 and all(not e["reached"] and e["pivot"]["hop"] == 0 for e in fails)
    assert any(e["summary"] == "POST /admin/login → 302" for e in admin["events"])


def test_pivot_from_the_ip_to_the_account_and_its_later_activity(estate, admin) -> None:
    via_user = [e for e in admin["events"] if e["pivot"]["hop"] == 1]
    assert via_user
    assert {e["pivot"]["path"] for e in via_user} == {f"ip {estate.admin.ip} → user {estate.admin.user}"}
    assert all({"type": "user", "value": estate.admin.user} in e["entities"] for e in via_user)
    # The account used elsewhere (its owner's address), including after the break-in.
    assert all({"type": "ip", "value": estate.admin.ip} not in e["entities"] for e in via_user)
    assert any(datetime.fromisoformat(e["time"]) > estate.admin.success for e in via_user)
    followed = {(p["type"], p["value"]) for p in admin["pivots"] if p["followed"]}
    assert ("user", estate.admin.user) in followed


def test_root_cause_is_the_first_attacker_event_and_the_foothold_the_success(estate, admin) -> None:
    first = _ids(estate, "SELECT arg_min(event_id, time) FROM events WHERE src_ip = ?", [estate.admin.ip])
    cause = admin["root_cause"]
    assert {cause["event_id"]} == first
    assert cause["entity"] == {"type": "ip", "value": estate.admin.ip}
    assert cause["event"]["summary"] == "POST /admin/login → 401"
    assert "external address" in cause["reason"]
    assert cause["foothold"]["summary"] == "POST /admin/login → 302"
    assert cause["foothold"]["time"].startswith(estate.admin.success.strftime("%Y-%m-%dT%H:%M:%S"))


def test_blast_radius_counts_the_account_reached(estate, admin) -> None:
    blast = admin["blast_radius"]
    assert blast["reached"]["user"] == {"count": 1, "values": [estate.admin.user]}
    assert estate.admin.ip in blast["reached"]["ip"]["values"]
    assert blast["money"] == []
    assert admin["gaps"] == []


def test_ssh_timeline_separates_guessed_accounts_from_the_one_taken(estate, ssh) -> None:
    accepted = [e for e in ssh["events"] if e["class_name"] == "Authentication" and e["outcome"] == "success"
                and {"type": "ip", "value": estate.ssh.ip} in e["entities"]]
    assert accepted and f"for {estate.ssh.user}" in accepted[0]["summary"]
    assert ssh["root_cause"]["event_id"] in _ids(
        estate, "SELECT arg_min(event_id, time) FROM events WHERE src_ip = ?", [estate.ssh.ip])
    assert ssh["root_cause"]["foothold"]["event_id"] == accepted[0]["event_id"]
    blast = ssh["blast_radius"]
    assert estate.ssh.user in blast["reached"]["user"]["values"]
    assert blast["attempted_only"]["user"] >= 3  # invalid users the attacker guessed (root, admin, oracle...)
    guessed = _ids(estate, "SELECT DISTINCT user_name FROM events WHERE src_ip = ? AND outcome = 'failure'",
                   [estate.ssh.ip]) - _ids(estate, "SELECT DISTINCT user_name FROM events WHERE outcome = 'success' "
                                                   "AND user_name IS NOT NULL", [])
    assert guessed and not guessed & set(blast["reached"]["user"]["values"])
    # What the taken account did next without the attacker's address (sudo) came in through the account.
    via_user = [e for e in ssh["events"] if e["pivot"]["path"].endswith(f"→ user {estate.ssh.user}")]
    assert via_user and all(e["time"] > ssh["root_cause"]["event"]["time"] for e in via_user)


def test_limit_reports_what_it_leaves_out_and_keeps_every_kind(estate, admin) -> None:
    capped = _timeline(estate, estate.admin.incident_id, limit=12)
    assert capped["shown"] == 12 == len(capped["events"])
    assert capped["total_events"] == admin["total_events"]
    assert capped["omitted"] == admin["total_events"] - 12
    assert sum(h["shown"] for h in capped["by_hop"]) == 12
    assert sum(h["events"] for h in capped["by_hop"]) == capped["total_events"]
    kinds = {e["summary"] for e in capped["events"]}
    assert {"POST /admin/login → 401", "POST /admin/login → 302"} <= kinds
    assert capped["root_cause"] == admin["root_cause"] and capped["blast_radius"] == admin["blast_radius"]


def test_unknown_incident_is_a_clear_error(estate) -> None:
    with db.opened(estate.ws, read_only=True) as con, pytest.raises(UnknownIncident, match="no single incident"):
        build_timeline(con, "INC-NOPE")
    with db.opened(estate.ws, read_only=True) as con, pytest.raises(UnknownIncident):
        build_timeline(con, "INC-")  # a prefix matching both incidents is not one incident
