"""No behaviour detection lets the suspect set its own bar: each is checked on a single-source estate (one
server, one terminal, one database account), on a quiet estate (a handful of events) and on an estate whose
traffic is mostly the attack, and in each it finds the attack and stays silent on the benign look-alike.
"""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from storewatch.detect.behaviour import exfiltration, port_scan, pos_malware
from tests.detect.test_behaviour import _beacon, _process, _store_lan, at, conn, events_store

DAY = 86400


def _saas(src: str, days: int = 2, calls: int = 24, first: int = 1) -> list[dict]:
    """A server's ordinary day: small calls to a dozen SaaS endpoints, a few kilobytes each."""
    return [conn(d * DAY + k * 3000 + first, src, f"203.0.113.{(k + first) % 12 + 1}", sent=2000 + (k * 977) % 9000)
            for d in range(days) for k in range(calls)]


def _push(t0: float, src: str, dst: str, n: int, each: int) -> list[dict]:
    """n connections of about `each` bytes, forty seconds apart."""
    return [conn(t0 + 40 * k, src, dst, sent=each + k * 100_000) for k in range(n)]


def _exfil_keys(rows: list[dict]) -> set[str]:
    return {a["key"] for a in exfiltration.query(events_store(rows)).to_pylist()}


def test_exfiltration_on_a_single_server_estate() -> None:
    """The shop's one server: no peers, so its own other day is the baseline. Its nightly backup recurs and
    a 60 MB upload is under the floor; the one-off 9 GB push on the second day fires."""
    rows = _saas("10.0.0.5")
    for night in range(2):
        rows += _push(night * DAY + 2 * 3600 + 200 * night, "10.0.0.5", "198.51.100.9", 40, 200_000_000)
    rows += _push(DAY + 9 * 3600, "10.0.0.5", "198.51.100.40", 6, 10_000_000)
    rows += _push(DAY + 14 * 3600, "10.0.0.5", "192.0.2.77", 30, 300_000_000)
    [alert] = exfiltration.query(events_store(rows)).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "10.0.0.5>192.0.2.77|2026-11-17"
    assert evidence["z_peer"] is None and evidence["z_host"] >= exfiltration.Z_MIN and evidence["host_pairs"] == 12 + 1  # its SaaS endpoints and backup
    assert evidence["baseline"].endswith("vs its own days")


def test_exfiltration_on_a_quiet_estate_is_judged_against_the_floor() -> None:
    """Two hosts and a few calls each: too little to learn from, so 100 MB to one address decides. The other
    host's 40 MB upload stays under it."""
    rows = _saas("10.0.0.5", days=1, calls=3) + _saas("10.0.0.6", days=1, calls=3, first=5)
    rows += _push(3600, "10.0.0.6", "198.51.100.40", 4, 10_000_000)
    rows += _push(7200, "10.0.0.5", "192.0.2.77", 5, 50_000_000)
    [alert] = exfiltration.query(events_store(rows)).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "10.0.0.5>192.0.2.77|2026-11-16" and evidence["bytes"] >= exfiltration.FLOOR_BYTES
    assert evidence["z_peer"] is None and evidence["z_host"] is None and "floor" in evidence["baseline"]


def test_exfiltration_when_most_of_the_traffic_is_the_theft() -> None:
    """Eight of ten servers push gigabytes to eight buckets each on the second day: most of the estate's
    pair-days are the theft, and each server's other buckets are no alibi. The clean servers' nightly
    backup is not flagged."""
    rows = [r for s in range(1, 11) for r in _saas(f"10.0.0.{s}", calls=3, first=s)]
    for night in range(2):
        rows += _push(night * DAY + 3 * 3600 + 100 * night, "10.0.0.9", "198.51.100.9", 30, 200_000_000)
    thieves = range(1, 9)
    rows += [r for s in thieves for b in range(8)
             for r in _push(DAY + 12 * 3600 + 600 * b + s, f"10.0.0.{s}", f"192.0.2.{10 * b + s}", 10, 500_000_000)]
    assert _exfil_keys(rows) == {f"10.0.0.{s}>192.0.2.{10 * b + s}|2026-11-17" for s in thieves for b in range(8)}


# --- internal port scan ---------------------------------------------------------------------------------

def _sweep(src: str, n: int, t0: float = 40000) -> list[dict]:
    """A host trying n host:port pairs on its store's LAN, refused or unanswered."""
    net = src.split(".")[1]
    return [conn(t0 + k * 0.5, src, f"10.{net}.{k % 5}.{k // 5 % 250 + 1}", port=(22, 445, 3389)[k % 3], sent=0,
                 state="REJ" if k % 10 else "S0") for k in range(n)]


def _busy_proxy(src: str, n: int = 800) -> list[dict]:
    """A proxy reaching hundreds of host:port pairs, all of which answer."""
    return [conn(40000 + k, src, f"10.0.{k % 50}.{k // 50 + 1}", port=443 + k % 7) for k in range(n)]


def _scanners(rows: list[dict]) -> set[str]:
    return {orjson.loads(a["evidence"])["ip"] for a in port_scan.query(events_store(rows)).to_pylist()}


def _dead_printer(src: str, n: int = 40) -> list[dict]:
    """A PC retrying a printer that is switched off: one target, every attempt unanswered."""
    return [conn(30000 + k * 60, src, src.rsplit(".", 2)[0] + ".1.50", port=9100, sent=0, state="S0") for k in range(n)]


def _next_day(rows: list[dict]) -> list[dict]:
    return [{**r, "time": r["time"] + timedelta(days=1)} for r in rows]


def test_port_scan_on_a_single_host_estate() -> None:
    """One PC and nothing else. Busy and answered, or retrying a dead printer, it stays below the floor;
    its sweep is judged against its own ordinary day when there is one, else against the floor alone."""
    assert _scanners(_busy_proxy("10.4.3.10") + _dead_printer("10.4.3.10")) == set()
    ordinary = [conn(3600 + k * 600, "10.4.3.10", f"10.0.{k % 4}.{k % 9 + 1}", port=443 + k % 3) for k in range(40)]
    day_one = ordinary + _dead_printer("10.4.3.10")
    [alert] = port_scan.query(events_store(day_one + _next_day(_sweep("10.4.3.10", 300)))).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "10.4.3.10|2026-11-17" and evidence["failed_targets"] == 300
    assert evidence["baseline_days"] == 1 and evidence["p90_targets"] == len({(r["dst_ip"], r["dst_port"]) for r in day_one})
    [alone] = port_scan.query(events_store(_sweep("10.4.3.10", 60))).to_pylist()
    assert orjson.loads(alone["evidence"])["normal"] == "no normal host to compare with"


def test_port_scan_on_a_quiet_estate() -> None:
    """Two PCs with a few calls each: the other PC's day is the whole baseline; a 60-pair sweep is far above
    it, while the PC retrying its dead printer is below the floor."""
    rows = [conn(3600 + k * 600, f"10.{s}.3.10", f"10.0.0.{k + 1}") for s in (1, 2) for k in range(3)]
    rows += _dead_printer("10.1.3.10", 20) + _sweep("10.2.3.10", 60)
    assert _scanners(rows) == {"10.2.3.10"}


def test_port_scan_when_most_hosts_are_scanning() -> None:
    """A worm: thirty office PCs sweep their LANs the same day while twenty-five stay clean, so most
    source-days are scans and the median day is one. The normal is learned from the clean PCs and a busy
    proxy, which stays silent, as does a PC retrying its dead printer."""
    rows = _store_lan(stores=55) + _busy_proxy("10.0.9.9") + _dead_printer("10.3.3.10")
    worms = [f"10.{s}.3.10" for s in range(26, 56)]
    rows += [r for i, ip in enumerate(worms) for r in _sweep(ip, 300 + 40 * i, t0=40000 + 600 * i)]
    assert _scanners(rows) == set(worms)


# --- malware on store endpoints (beaconing) -------------------------------------------------------------

VENDOR, MOVED, C2 = "192.0.2.10", "192.0.2.11", "198.51.100.66"
DROPPER = "C:\\Users\\Public\\svch0st.exe"


def _terminals(n: int, days: int, moved: bool = False) -> list[dict]:
    """n POS terminals running the till software every day and polling the vendor's update service every
    ten minutes; with `moved`, the vendor serves from a new address from the second day on."""
    rows = []
    for k in range(1, n + 1):
        host, ip = f"POS-{k:04d}-01", f"10.{k}.2.11"
        rows.append({"time": at(60), "class_name": "Network Activity", "channel": "endpoint",
                     "source_format": "windows", "host": host, "src_ip": ip, "dst_ip": "10.0.1.41"})
        rows.append({"time": at(60), "class_name": "POS Transaction", "channel": "pos", "store_id": f"{k:04d}"})
        rows += [_process(d * DAY + 3600 * (j + 7) + k, host, "C:\\Retail\\pos.exe", "a" * 64)
                 for d in range(days) for j in range(5)]
        rows += [conn(k * 7 + 600 * j, ip, MOVED if moved and j * 600 >= DAY else VENDOR)
                 for j in range(days * DAY // 600)]
    return rows


def _infect(k: int, t0: float, beats: int = 200) -> list[dict]:
    """Terminal k runs the dropper at t0 and beacons to the C2 every two minutes from five seconds later."""
    return [_process(t0, f"POS-{k:04d}-01", DROPPER, "b" * 64)] + _beacon(f"10.{k}.2.11", C2, 120, beats, start=t0 + 5)


def _convicted(rows: list[dict]) -> dict[str, dict]:
    return {a["key"]: orjson.loads(a["evidence"]) for a in pos_malware.query(events_store(rows)).to_pylist()}


def test_malware_on_a_one_terminal_shop() -> None:
    """One terminal: nothing to be rare among, so its history is the baseline. Its vendor polls, even from
    the vendor's new address on the second day, convict nothing; a beacon to a new address right after a
    new program first ran does, and names only that address."""
    assert _convicted(_terminals(1, days=2, moved=True)) == {}
    cases = _convicted(_terminals(1, days=2, moved=True) + _infect(1, DAY + 10 * 3600))
    assert list(cases) == ["POS-0001-01"]
    evidence = cases["POS-0001-01"]
    assert evidence["c2"] == C2 and evidence["processes"] == DROPPER and evidence["new_destination"] is True


def test_malware_on_a_quiet_fleet() -> None:
    """Five terminals and three hours of telemetry: the beacon's forty minutes are enough, and the monitoring
    server's steady poll of an outside health check (a lone server, not a fleet device) is not malware."""
    rows = [r for r in _terminals(5, days=1) if r["time"] < at(3 * 3600)] + _infect(3, 3600, beats=20)
    rows += _beacon("10.0.9.31", "203.0.113.200", 60, 150)
    rows.append({"time": at(60), "class_name": "Network Activity", "channel": "endpoint", "host": "mon-01",
                 "src_ip": "10.0.9.31", "dst_ip": "10.0.0.1"})
    cases = _convicted(rows)
    assert list(cases) == ["POS-0003-01"] and cases["POS-0003-01"]["c2"] == C2
    assert cases["POS-0003-01"]["fleet_talkers"] == 1


def test_malware_on_most_of_the_fleet() -> None:
    """Nine of twelve terminals catch the same dropper on the second day and beacon to one C2: the C2 is the
    most popular new address of the day, and the dropper is no rare process. History convicts all nine;
    the vendor's move to a new address the same morning convicts no one."""
    rows = _terminals(12, days=2, moved=True)
    infected = range(2, 11)
    rows += [r for k in infected for r in _infect(k, DAY + 8 * 3600 + 900 * k)]
    cases = _convicted(rows)
    assert set(cases) == {f"POS-{k:04d}-01" for k in infected}
    assert all(e["c2"] == C2 and e["fleet_talkers"] == len(infected) for e in cases.values())
