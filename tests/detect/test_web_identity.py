"""Storefront and identity detections: credential stuffing, admin and SSH brute force, account takeover,
scraping bots and gift-card enumeration. Found on simulated estates of several seeds and sizes, silent on
their benign look-alikes, and checked on hand-written events for the edge cases (office NAT, verified
crawlers, uptime monitors, a customer changing their own password)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import orjson
import pyarrow as pa
import pytest

from storewatch.detect.windows.loader import RULES_DIR, load_rule
from storewatch.evaluate import matches
from storewatch.store import db, schema

SCENARIOS = {
    "credential_stuffing": "identity_credential_stuffing.yml",
    "admin_bruteforce": "web_login_bruteforce.yml",
    "ssh_bruteforce": "ssh_bruteforce.yml",
    "account_takeover": "identity_account_takeover.yml",
    "scraping_bot": "web_scraping_bot.yml",
    "giftcard_enumeration": "web_giftcard_enumeration.yml",
}
RULE_IDS = {load_rule(RULES_DIR / f).id: f for f in SCENARIOS.values()}
T0 = datetime(2026, 11, 16, 8, tzinfo=timezone.utc)


# --- simulated estates -------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_labelled_attack_is_alerted(estate, scenario: str) -> None:
    labels = estate.label(scenario)
    assert labels, f"the simulator injected no {scenario}"
    alerts = estate.alerts(scenario=scenario)
    missed = [lb["id"] for lb in labels if not any(matches(a, lb) for a in alerts)]
    assert not missed, f"{scenario}: no alert for {missed}"


def test_alerts_name_the_entities_the_labels_name(estate) -> None:
    """Brute force names the account that got in; takeover names account, address, both emails, card."""
    for scenario, wanted in (("admin_bruteforce", {"ip", "user"}), ("ssh_bruteforce", {"ip", "host", "user"}),
                             ("account_takeover", {"ip", "user", "email", "card"})):
        for lb in estate.label(scenario):
            values = {(e["type"], e["value"].lower()) for e in lb["entities"] if e["type"] in wanted}
            named = {(e["type"], e["value"].lower()) for a in estate.alerts(scenario=scenario) for e in a["entities"]}
            assert values <= named, f"{scenario}: missing {values - named}"


def test_no_false_positive_alerts(estate) -> None:
    """Every alert of these detections overlaps a labelled attack; none lands only on a benign look-alike."""
    attacks = [lb for lb in estate.labels if lb["severity"] != "benign"]
    for rule_id in RULE_IDS:
        for alert in estate.alerts(rule_id=rule_id):
            a = alert
            assert any(matches(a, lb) for lb in attacks), f"{rule_id} false positive: {alert['key']}"
            on_benign = [lb["scenario"] for lb in estate.benign if matches(a, lb)]
            if on_benign:  # a real victim may also be a staff account; the alert must still be an attack
                assert any(matches(a, lb) for lb in attacks)


def test_successful_attacks_are_critical(estate) -> None:
    for scenario in ("admin_bruteforce", "ssh_bruteforce", "account_takeover"):
        assert any(a["severity"] == "critical" for a in estate.alerts(scenario=scenario)), scenario


# --- hand-written events -----------------------------------------------------------------------------

def _store(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding just these events (missing columns NULL)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    db.define_macros(con)
    con.execute(schema.create_table_sql("events"))
    for i, row in enumerate(rows):
        row.setdefault("event_id", f"e{i}")
        if isinstance(row.get("attributes"), dict):
            row["attributes"] = orjson.dumps(row["attributes"]).decode()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    batch = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])  # noqa: F841 - read below
    con.execute("INSERT INTO events BY NAME SELECT * FROM batch")
    return con


def _alerts(file: str, rows: list[dict]) -> list[dict]:
    return load_rule(RULES_DIR / file).query(_store(rows)).to_pylist()


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _auth(minutes: float, ip: str, account: str, outcome: str, user_id: str | None = None, **kw) -> dict:
    return {"time": _at(minutes), "class_name": "Authentication", "channel": "identity", "activity": "logon",
            "outcome": outcome, "src_ip": ip, "user_name": account, "email": account, "user_id": user_id, **kw}


def _http(minutes: float, ip: str, path: str, status: int = 200, method: str = "GET", ua: str = "Mozilla/5.0",
          referrer: str | None = None, user: str | None = None, query: str | None = None) -> dict:
    return {"time": _at(minutes), "class_name": "HTTP Activity", "channel": "web", "src_ip": ip,
            "http_method": method, "url_path": path, "url_query": query, "http_status": status,
            "outcome": "success" if status < 400 else "failure", "user_agent": ua, "referrer": referrer,
            "user_name": user}


def _customers(n: int) -> list[dict]:
    """Ordinary shoppers: each logs in from their own address, one in twenty after a typo."""
    rows = []
    for k in range(n):
        ip, who = f"198.51.{k // 200}.{k % 200 + 1}", f"shopper{k}@example.com"
        if k % 20 == 0:
            rows.append(_auth(k, ip, who, "failure", f"auth0|c{k}"))
        rows.append(_auth(k + 0.5, ip, who, "success", f"auth0|c{k}"))
    return rows


def test_distributed_stuffing_fires_and_names_the_accounts_it_got_into() -> None:
    rows = _customers(300)
    for j in range(15):  # fifteen addresses, each slow: six guesses over five hours
        rows += [_auth(50 * g + j, f"203.0.113.{j + 1}", f"guess{j}-{g}@mail.test", "failure") for g in range(6)]
    rows.append(_auth(200, "203.0.113.4", "shopper7@example.com", "success", "auth0|c7"))
    [alert] = _alerts("identity_credential_stuffing.yml", rows)
    values = {e["value"] for e in alert["entities"]}
    assert {f"203.0.113.{j + 1}" for j in range(15)} <= values
    assert "shopper7@example.com" in values and alert["severity"] == "critical"


@pytest.mark.parametrize("estate", ["one address working through a list", "quiet shop: the list and two customers",
                                    "stuffers are most of the logins"])
def test_stuffing_floors_hold_in_any_estate(estate: str) -> None:
    """No threshold here is learned (three failed accounts an address, failures above successes, ten
    accounts a campaign), so the campaign is found alone, among two customers or as most of the traffic,
    and the office NAT's forty staff and the customers' typos are not part of it."""
    ips = 1 if estate.startswith("one") else 3 if estate.startswith("quiet") else 50
    rows = [_auth(g * 0.5 + j, f"203.0.113.{j + 1}", f"guess{j}-{g}@mail.test", "failure")
            for j in range(ips) for g in range(40 // ips if ips < 10 else 4)]
    rows += _customers(2 if estate.startswith("quiet") else 40)
    rows += [_auth(300 + s, "192.0.2.10", f"staff{s}@shop.test", "success", f"auth0|s{s}") for s in range(40)]
    rows += [_auth(400 + s, "192.0.2.10", f"staff{s}@shop.test", "failure", f"auth0|s{s}") for s in range(4)]
    [alert] = _alerts("identity_credential_stuffing.yml", rows)
    assert {e["value"] for e in alert["entities"]} == {f"203.0.113.{j + 1}" for j in range(ips)}
    assert orjson.loads(alert["evidence"])["unknown_pct"] == 100


def test_office_nat_with_many_staff_logins_is_silent() -> None:
    office = "192.0.2.10"
    rows = _customers(300)
    for day in range(2):
        for s in range(40):
            rows.append(_auth(day * 1440 + s, office, f"staff{s}@shop.test", "success", f"auth0|s{s}"))
            rows.append(_http(day * 1440 + s, office, "/admin/login", 302, "POST"))
        rows += [_auth(day * 1440 + 60 + s, office, f"staff{s}@shop.test", "failure", f"auth0|s{s}") for s in range(4)]
    assert _alerts("identity_credential_stuffing.yml", rows) == []
    assert _alerts("web_login_bruteforce.yml", rows) == []


def test_admin_bruteforce_names_the_account_that_got_in() -> None:
    rows = [_http(k * 0.1, f"198.51.100.{k % 250}", "/account/login", 302, "POST") for k in range(500)]
    rows += [_http(60 + k * 0.2, "203.0.113.9", "/admin/login", 401, "POST") for k in range(120)]
    rows.append(_http(90, "203.0.113.9", "/admin/login", 302, "POST"))
    rows.append(_http(91, "203.0.113.9", "/admin/customers/export", user="jdoe"))
    [alert] = _alerts("web_login_bruteforce.yml", rows)
    assert {(e["type"], e["value"]) for e in alert["entities"]} == {("ip", "203.0.113.9"), ("user", "jdoe")}
    assert alert["severity"] == "critical" and alert["last_seen"] == _at(91)


def _ssh(minutes: float, ip: str, user: str, ok: bool, host: str = "web-01") -> dict:
    return {"time": _at(minutes), "class_name": "Authentication", "channel": "endpoint", "activity": "logon",
            "outcome": "success" if ok else "failure", "protocol": "ssh", "event_code": "sshd",
            "src_ip": ip, "user_name": user, "host": host}


def test_ssh_bruteforce_then_login_and_sudo_is_critical_background_is_not() -> None:
    rows = [_ssh(k * 3 + d, f"198.51.{k}.{d + 1}", "admin", False) for k in range(100) for d in range(3)]
    rows += [_ssh(k * 7, "192.0.2.1", "ops", True) for k in range(20)]  # staff from the bastion
    rows += [_ssh(600 + k * 0.2, "203.0.113.7", ("root", "ops", "oracle")[k % 3], False) for k in range(200)]
    rows.append(_ssh(645, "203.0.113.7", "ops", True))
    rows.append({"time": _at(646), "class_name": "Authentication", "activity": "sudo", "outcome": "success",
                 "user_name": "ops", "host": "web-01", "command_line": "/bin/bash"})
    [alert] = _alerts("ssh_bruteforce.yml", rows)
    assert {(e["type"], e["value"]) for e in alert["entities"]} == {
        ("ip", "203.0.113.7"), ("host", "web-01"), ("user", "ops")}
    assert alert["severity"] == "critical" and orjson.loads(alert["evidence"])["sudo"] is True


def test_ssh_bruteforce_counts_rsyslog_repeats_and_reports_a_refused_sudo_as_refused() -> None:
    """`message repeated N times: [...]` is N failures (attributes.repeat); a refused sudo is no privilege use,
    and the alert says it was refused rather than that it ran."""
    def portless(minutes: float, repeat: int | None) -> dict:  # e.g. `User root from X not allowed because ...`
        return {**_ssh(minutes, "203.0.113.7", "root", False), "attributes": {"repeat": repeat} if repeat else {}}

    background = [_ssh(k, f"198.51.100.{k}", "admin", False) for k in range(100)]  # one try per scanner
    assert not _alerts("ssh_bruteforce.yml", background + [portless(k, None) for k in range(4)])
    rows = background + [portless(k, 6) for k in range(4)] + [_ssh(10, "203.0.113.7", "ops", True)]
    rows.append({"time": _at(11), "class_name": "Authentication", "activity": "sudo", "outcome": "failure",
                 "user_name": "ops", "host": "web-01", "command_line": "/bin/bash", "reason": "user NOT in sudoers"})
    [alert] = _alerts("ssh_bruteforce.yml", rows)
    evidence = orjson.loads(alert["evidence"])
    assert (evidence["failures"], evidence["sudo"], alert["severity"]) == (24, False, "critical")
    assert evidence["sudo_refused"] == "user NOT in sudoers"
    assert evidence["then"] == ", then logged in as ops; its sudo /bin/bash was refused (user NOT in sudoers)"


@pytest.mark.parametrize(("tool", "command", "said"), [
    ("su", None, ", then logged in as ops and ran su"),
    ("pkexec", "/usr/bin/bash", ", then logged in as ops and ran pkexec /usr/bin/bash"),
])
def test_ssh_bruteforce_names_the_privilege_tool_the_intruder_used(tool: str, command: str | None, said: str) -> None:
    """An intruder who got in with `su -` or `pkexec` did not run sudo: the alert says what ran."""
    rows = [_ssh(k * 3 + d, f"198.51.{k}.{d + 1}", "admin", False) for k in range(100) for d in range(3)]
    rows += [_ssh(600 + k * 0.2, "203.0.113.7", ("root", "ops", "oracle")[k % 3], False) for k in range(200)]
    rows.append(_ssh(645, "203.0.113.7", "ops", True))
    rows.append({"time": _at(646), "class_name": "Authentication", "activity": tool, "outcome": "success",
                 "user_name": "ops", "host": "web-01", "command_line": command})
    [alert] = _alerts("ssh_bruteforce.yml", rows)
    evidence = orjson.loads(alert["evidence"])
    assert (evidence["then"], evidence["privilege_tool"], evidence["sudo"]) == (said, tool, True)


def _sshd(minutes: float, ip: str, pid: int, message: str, user: str | None, ok: bool = False, port: int | None = None,
          repeat: int | None = None) -> dict:
    """One sshd line as the auth.log reader stores it: the message, the process id, the port when logged."""
    attributes = {"pid": str(pid), **({"repeat": repeat} if repeat else {})}
    return {**_ssh(minutes, ip, user, ok), "src_port": port, "message": message, "attributes": attributes}


def test_ssh_attempts_are_counted_per_password_tried_not_per_line() -> None:
    """sshd writes several lines per try (`Invalid user`, `Failed password`, a `[preauth]` disconnect) and
    several tries per connection (MaxAuthTries): each `Failed` line is one guess, every other line of the
    same process is the same guess, and a connection with none (a key-only server) is one."""
    def guessing(ip: str, start: float, connections: int, tries: int) -> list[dict]:
        rows = []
        for c in range(connections):
            pid, port, at = 4000 + c, 50000 + c, start + c * 0.3
            rows.append(_sshd(at, ip, pid, f"Invalid user admin from {ip}", "admin"))  # old sshd: no port
            rows.append(_sshd(at, ip, pid, f"Failed password for invalid user admin from {ip} port {port} ssh2", "admin", port=port))
            if tries > 1:
                rows.append(_sshd(at, ip, pid, f"Failed password for invalid user admin from {ip} port {port} ssh2",
                                  "admin", port=port, repeat=tries - 1))
            rows.append(_sshd(at, ip, pid, f"Connection closed by invalid user admin {ip} port {port} [preauth]", "admin", port=port))
        return rows

    # Six passwords a connection, four connections: 24 guesses, found. The same 24 lines' worth from an
    # address trying once a connection over four connections is 4 guesses: background.
    [alert] = _alerts("ssh_bruteforce.yml", guessing("203.0.113.7", 0, 4, 6) + guessing("198.51.100.9", 30, 4, 1))
    assert {(e["type"], e["value"]) for e in alert["entities"]} == {("ip", "203.0.113.7"), ("host", "web-01")}
    assert orjson.loads(alert["evidence"])["failures"] == 24
    # A key-only server logs no `Failed` line: each connection that names a user is one try.
    key_only = [_sshd(k * 0.1, "203.0.113.8", 7000 + k, f"Invalid user u{k} from 203.0.113.8", f"u{k}") for k in range(25)]
    [alert] = _alerts("ssh_bruteforce.yml", key_only)
    assert (orjson.loads(alert["evidence"])["failures"], orjson.loads(alert["evidence"])["users_tried"]) == (25, 25)


def test_ssh_bar_is_set_by_the_hosts_own_users_not_by_the_other_attackers() -> None:
    """An exposed sshd's failing addresses are nearly all attackers of every size. The bar is what the
    host's own users (addresses that log in there) get wrong: forty guesses from an address that never gets
    in are an attack however many twelve-guess addresses surround it (counted in, those would put the bar at
    120), and neither the admin's mistypes nor the small guessers are."""
    rows = [_ssh(a * 9 + k * 0.1, f"198.51.{a}.9", "root", False) for a in range(40) for k in range(12)]  # 12 each
    rows += [_ssh(500 + k * 0.2, "203.0.113.7", "root", False) for k in range(40)]
    rows += [_ssh(700 + k, "192.0.2.10", "ops", False) for k in range(3)]  # the admin's mistypes
    rows += [_ssh(710, "192.0.2.10", "ops", True), _ssh(1500, "192.0.2.10", "ops", True)]
    # another host's users are clumsier: their normal is theirs, it does not lift this host's bar
    rows += [_ssh(800 + k, "192.0.2.20", "dba", False, host="db-01") for k in range(8)]
    rows.append(_ssh(810, "192.0.2.20", "dba", True, host="db-01"))
    alerts = _alerts("ssh_bruteforce.yml", rows)
    assert [{e["value"] for e in a["entities"] if e["type"] == "ip"} for a in alerts] == [{"203.0.113.7"}]
    assert orjson.loads(alerts[0]["evidence"])["typical_failures_p99"] == 3


def test_ssh_success_named_is_the_account_the_guessing_was_for() -> None:
    """A client that logs in as several accounts all day, then guesses one account's password a hundred
    times and gets in: the account named is the guessed one, not the one it logged in as before."""
    rows = [_ssh(k * 15, "203.0.113.7", f"tester{k % 3}", True) for k in range(8)]
    rows += [_ssh(20, "203.0.113.7", "tester1", False), _ssh(21, "203.0.113.7", "tester1", False)]  # typos
    rows += [_ssh(130 + k * 0.05, "203.0.113.7", "tester9", False) for k in range(100)]
    rows.append(_ssh(136, "203.0.113.7", "tester9", True))
    [alert] = _alerts("ssh_bruteforce.yml", rows)
    evidence = orjson.loads(alert["evidence"])
    assert (evidence["user"], evidence["success_after"], alert["severity"]) == ("tester9", True, "critical")
    assert ("user", "tester9") in {(e["type"], e["value"]) for e in alert["entities"]}


def _order(minutes: float, ip: str, email: str, amount: float, gateways: list[str]) -> dict:
    return {"time": _at(minutes), "class_name": "Order", "channel": "orders", "src_ip": ip, "email": email,
            "amount": amount, "order_id": f"o{minutes}", "attributes": {"name": f"#{int(minutes)}", "gateways": gateways}}


def _change(minutes: float, ip: str, user_id: str, email: str, kind: str) -> dict:
    return {"time": _at(minutes), "class_name": "Account Change", "channel": "identity", "activity": kind,
            "outcome": "success", "src_ip": ip, "user_id": user_id, "user_name": email, "email": email}


def _shop() -> list[dict]:
    return _customers(100) + [_order(k, f"198.51.0.{k + 1}", f"shopper{k}@example.com", 40 + k, ["stripe"])
                              for k in range(100)]


def test_takeover_from_a_new_address_then_gift_card_order_fires() -> None:
    rows = _shop()
    rows += [_auth(300, "203.0.113.50", "shopper3@example.com", "success", "auth0|c3"),
             _change(303, "203.0.113.50", "auth0|c3", "evil@mail.test", "email_change"),
             _change(305, "203.0.113.50", "auth0|c3", "evil@mail.test", "password_change"),
             _order(330, "203.0.113.50", "evil@mail.test", 900, ["gift_card", "stripe"]),
             {"time": _at(330.1), "class_name": "Payment", "channel": "payments", "src_ip": "203.0.113.50",
              "email": "evil@mail.test", "amount": 400, "card_fingerprint": "fpCARD"}]
    [alert] = _alerts("identity_account_takeover.yml", rows)
    assert {(e["type"], e["value"]) for e in alert["entities"]} == {
        ("user", "auth0|c3"), ("ip", "203.0.113.50"), ("email", "shopper3@example.com"),
        ("email", "evil@mail.test"), ("card", "fpCARD")}


def test_owner_changing_their_password_at_home_is_silent() -> None:
    rows = _shop()  # shopper3 logged in from 198.51.0.4 earlier in the day
    rows += [_auth(300, "198.51.0.4", "shopper3@example.com", "success", "auth0|c3"),
             _change(303, "198.51.0.4", "auth0|c3", "shopper3@example.com", "password_change"),
             _order(330, "198.51.0.4", "shopper3@example.com", 900, ["gift_card", "stripe"])]
    assert _alerts("identity_account_takeover.yml", rows) == []


def test_new_address_change_without_a_risky_order_is_silent() -> None:
    rows = _shop() + [_auth(300, "203.0.113.50", "shopper3@example.com", "success", "auth0|c3"),
                      _change(305, "203.0.113.50", "auth0|c3", "shopper3@example.com", "password_change"),
                      _order(330, "203.0.113.50", "shopper3@example.com", 45, ["stripe"])]
    assert _alerts("identity_account_takeover.yml", rows) == []


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _browsing() -> list[dict]:
    """Shoppers clicking through pages (referrers set after the landing page)."""
    rows = []
    for k in range(400):
        ip = f"198.{51 + k // 200}.{k % 200}.1"
        rows.append(_http(k, ip, "/"))
        rows += [_http(k + p, ip, f"/products/p{(k + p) % 50}", referrer="https://shop.test/") for p in range(1, 5)]
    return rows


def test_verified_crawler_and_uptime_monitor_are_silent_fake_crawler_fires() -> None:
    rows = _browsing()
    rows += [_http(m / 10, "66.249.66.1", f"/products/p{m % 300}", ua=GOOGLEBOT) for m in range(3000)]
    rows += [_http(m, "192.0.2.99", "/healthz", ua="UptimeRobot/2.0") for m in range(0, 1440)]
    assert _alerts("web_scraping_bot.yml", rows) == []
    rows += [_http(m / 20, f"203.0.113.{m % 40 + 1}", f"/products/p{m % 300}", ua=GOOGLEBOT) for m in range(1200)]
    [alert] = _alerts("web_scraping_bot.yml", rows)
    ips = {e["value"] for e in alert["entities"]}
    assert ips == {f"203.0.113.{i}" for i in range(1, 41)}
    assert orjson.loads(alert["evidence"])["fake_crawler_requests"] == 1200


def _probes(ip: str, start: float, n: int, ua: str = "Mozilla/5.0", prefix: str = "") -> list[dict]:
    """A wordlist scan: n different scripts and files the shop does not have, a few a second."""
    return [_http(start + k / 200, ip, f"{prefix}/{word}{k}.php", 404, ua=ua)
            for k, word in zip(range(n), ["admin", "config", "shell", "backup", "setup"] * n)]


def test_forced_browsing_scanner_fires_crawlers_following_broken_links_do_not() -> None:
    """A scanner asks for paths the shop has no section for, nearly all missed. A crawler following broken
    links misses inside the sections it crawls and gets most pages; a verified Googlebot is left out even in a
    404 storm, while the same user agent from outside Google's network is a scanner like any other."""
    rows = _browsing()
    rows += [_http(k / 30, "144.76.95.39", f"/products/p{k % 50}", ua="MJ12bot/v1.4.4") for k in range(100)]
    rows += [_http(k / 30, "144.76.95.39", f"/products/old-{k}", 404, ua="MJ12bot/v1.4.4") for k in range(80)]
    rows += [_http(k / 30, "54.36.148.1", f"/products/renamed-{k}" if k % 3 else f"/products/p{k % 50}",
                   404 if k % 3 else 200, ua="AhrefsBot/7.0") for k in range(150)]  # unverified, two thirds 404
    rows += [_http(k / 30, "157.55.39.1", f"/products/gone-{k}", 404, ua="Mozilla/5.0 (compatible; bingbot/2.0)")
             for k in range(120)]  # verified, and inside a section: a store that moved its catalogue
    rows += _probes("66.249.66.1", 0, 80, ua=GOOGLEBOT)  # verified crawler, foreign paths: left out all the same
    rows += [_http(k, f"198.51.{k}.7", f"/products/missing-{k}", 404) for k in range(30)]  # shoppers' dead links
    assert _alerts("web_forced_browsing.yml", rows) == []
    rows += _probes("203.0.113.5", 30, 80) + _probes("203.0.113.6", 40, 80, ua=GOOGLEBOT)
    alerts = _alerts("web_forced_browsing.yml", rows)
    assert sorted(a["entities"][0]["value"] for a in alerts) == ["203.0.113.5", "203.0.113.6"]
    evidence = orjson.loads(alerts[0]["evidence"])
    assert (evidence["missed"], evidence["miss_pct"], evidence["foreign_pct"]) == (80, 100, 100)


def test_forced_browsers_never_set_their_own_bar() -> None:
    """Thirty scanners on one estate (an exposed site's every day) are each found: the bar is the visitors'."""
    rows = _browsing() + [row for s in range(30) for row in _probes(f"203.0.{s}.9", s, 60)]
    found = {a["entities"][0]["value"] for a in _alerts("web_forced_browsing.yml", rows)}
    assert found == {f"203.0.{s}.9" for s in range(30)}


def test_giftcard_guessing_fires_shoppers_checking_their_cards_do_not() -> None:
    rows = _browsing()
    rows += [_http(k, f"198.51.0.{k + 1}", "/api/gift_cards/balance", 200, query=f"code=MINE-{k}") for k in range(30)]
    assert _alerts("web_giftcard_enumeration.yml", rows) == []
    rows += [_http(100 + k * 0.1, "203.0.113.3", "/api/gift_cards/balance", 200 if k == 7 else 404,
                   query=f"code=G{k:05d}") for k in range(200)]
    [alert] = _alerts("web_giftcard_enumeration.yml", rows)
    assert alert["entities"] == [{"type": "ip", "value": "203.0.113.3"}]
    evidence = orjson.loads(alert["evidence"])
    assert evidence["found"] == 1 and evidence["success_after"] is True


def test_giftcard_guessing_through_a_post_body_or_a_path_segment() -> None:
    """Real storefronts send the code in a POST body or a path segment: one URL, many requests, mostly 4xx."""
    body = [_http(100 + k * 0.1, "203.0.113.3", "/giftcard/check-balance", 422, method="POST") for k in range(60)]
    path = [_http(100 + k * 0.1, "198.51.100.9", f"/api/v2/vouchers/{k:08d}", 404) for k in range(40)]
    shopper = [_http(5 + k, "198.51.0.7", "/giftcard/check-balance", 200 if k else 422, method="POST") for k in range(3)]
    alerts = _alerts("web_giftcard_enumeration.yml", _browsing() + body + path + shopper)
    assert {e["value"] for a in alerts for e in a["entities"]} == {"203.0.113.3", "198.51.100.9"}


@pytest.mark.parametrize("estate", ["quiet shop: the guesser is the only visitor",
                                    "guessers are most of the traffic"])
def test_giftcard_guessers_never_set_their_own_bar(estate: str) -> None:
    """The baseline leaves the suspects out: one lone guesser, or twenty, is still found."""
    guessers = 1 if estate.startswith("quiet") else 20
    rows = [_http(100 + k * 0.2 + g, f"203.0.113.{g + 1}", "/api/gift_cards/balance", 404, method="POST")
            for g in range(guessers) for k in range(25)]
    if not estate.startswith("quiet"):
        rows += [_http(k, f"198.51.0.{k + 1}", "/products/tent", 200) for k in range(10)]
    alerts = _alerts("web_giftcard_enumeration.yml", rows)
    assert len({e["value"] for a in alerts for e in a["entities"]}) == guessers


@pytest.mark.parametrize("estate", ["quiet shop: one attacker and one customer", "attackers are most of the logins"])
def test_login_brute_forcers_never_set_their_own_bar(estate: str) -> None:
    attackers = 1 if estate.startswith("quiet") else 15
    rows = [_http(k * 0.3 + a, f"203.0.113.{a + 1}", "/admin/login", 401, "POST") for a in range(attackers) for k in range(60)]
    rows += [_http(5, "198.51.100.4", "/account/login", 302, "POST")]
    found = {e["value"] for a in _alerts("web_login_bruteforce.yml", rows) for e in a["entities"] if e["type"] == "ip"}
    assert found == {f"203.0.113.{a + 1}" for a in range(attackers)}


def test_scraping_bots_never_set_their_own_bar() -> None:
    """Twenty bot networks and a handful of shoppers: the shoppers' browsing is the bar, not the bots'."""
    rows = [_http(k * 0.05, f"203.0.{n}.9", f"/products/item-{k}", 200) for n in range(20) for k in range(400)]
    rows += _browsing()
    found = {a["key"].split("|")[0] for a in _alerts("web_scraping_bot.yml", rows)}
    assert found == {f"203.0.{n}.0/24" for n in range(20)}


@pytest.mark.parametrize("estate", ["quiet server: one attacker, nothing else", "exposed sshd: brute forcers are most of the addresses"])
def test_ssh_brute_forcers_never_set_their_own_bar(estate: str) -> None:
    """On a real exposed server the attackers are the background: hundreds of root failures from one address
    in minutes must still be found, as must the lone attacker of a quiet estate."""
    attackers = 1 if estate.startswith("quiet") else 30
    rows = [_ssh(a * 20 + k * 0.05, f"203.0.{a}.7", "root", False) for a in range(attackers) for k in range(300)]
    if not estate.startswith("quiet"):
        rows += [_ssh(k, f"198.51.100.{k}", "admin", False) for k in range(60)]  # scanners trying once or twice
        rows += [_ssh(k + 0.5, f"198.51.100.{k}", "test", False) for k in range(0, 60, 3)]
    found = {e["value"] for a in _alerts("ssh_bruteforce.yml", rows) for e in a["entities"] if e["type"] == "ip"}
    assert found == {f"203.0.{a}.7" for a in range(attackers)}