"""Playbook files: the shipped set covers the retail threat catalogue, user files add and override, and
mistakes are reported by file instead of breaking the stage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storewatch.respond.playbook import Conditions, PlaybookError, load_all, load_file, parse_duration, user_folder

CATALOGUE = ("credential_stuffing", "admin_bruteforce", "ssh_bruteforce", "account_takeover", "card_testing",
             "giftcard_enumeration", "scraping_bot", "web_attack_scan", "pos_malware", "exfiltration",
             "internal_port_scan", "bulk_data_read", "refund_fraud", "after_hours_intrusion", "brand_impersonation",
             "leaked_discount_code", "promo_abuse", "chargeback_fraud")


def test_shipped_playbooks_load_and_cover_every_scenario(ws) -> None:
    books, errors = load_all(ws)
    assert errors == []
    assert all(b.origin == "shipped" for b in books)
    named = {s for b in books for s in b.when.scenarios}
    assert set(CATALOGUE) <= named, set(CATALOGUE) - named
    # Anything that locks people or machines out waits for a human.
    disruptive = ("auth0.", "crowdstrike.", "shopify.", "pos.", "nftables.")
    assert all(s.approval for b in books for s in b.steps if s.do.startswith(disruptive))


def test_user_playbook_replaces_shipped_one_and_broken_files_are_reported(ws) -> None:
    folder = user_folder(ws)
    folder.mkdir()
    (folder / "mine.yml").write_text("name: notify-team\nwhen: {min_severity: critical}\n"
                                     "actions:\n  - do: slack.notify\n    approval: false\n")
    (folder / "broken.yml").write_text("name: broken\nactions:\n  - do: firewall.explode\n")
    books, errors = load_all(ws)
    mine = [b for b in books if b.name == "notify-team"]
    assert len(mine) == 1 and mine[0].origin == "user" and mine[0].when.min_severity == "critical"
    assert len(errors) == 1 and "broken.yml" in errors[0] and "firewall.explode" in errors[0]


@pytest.mark.parametrize("body, problem", [
    ("name: x\nactions:\n  - do: edl.block_ip\n    for_each: email\n", "acts on ip, not email"),
    ("name: x\nexpires: soon\nactions:\n  - do: edl.block_ip\n", "not a duration"),
    ("name: x\nactions:\n  - do: edl.block_ip\n    approval: maybe\n", "approval true or false"),
    ("name: x\nactions:\n  - do: notify\n    channels: [pager]\n", "unknown channel"),
    ("name: x\nwhen: {min_severity: huge}\nactions: []\n", "min_severity"),
    ("name: x\nactions:\n  - do: edl.block_ip\n    colour: red\n", "unknown key"),
])
def test_mistakes_name_the_problem(tmp_path, body: str, problem: str) -> None:
    path = tmp_path / "p.yml"
    path.write_text(body)
    with pytest.raises(PlaybookError, match=problem):
        load_file(path, "user")


def test_defaults_are_safe_approval_required_and_a_day(tmp_path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("name: x\nactions:\n  - do: edl.block_ip\n")
    step = load_file(path, "user").steps[0]
    assert step.approval is True and step.expires == timedelta(hours=24) and step.for_each == ("ip",)
    assert parse_duration("2w", "t") == timedelta(weeks=2)


def test_conditions_explain_what_does_not_hold() -> None:
    inc = {"scenario": "card_testing", "severity": "medium", "entities": [{"type": "ip", "value": "192.0.2.1"}]}
    assert Conditions(("card_testing",), "medium", ("ip",)).unmet(inc) == []
    unmet = Conditions(("promo_abuse",), "high", ("card",)).unmet(inc)
    assert len(unmet) == 3 and "below high" in unmet[1] and "no card" in unmet[2]
