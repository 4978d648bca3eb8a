"""Threat-intel feeds kept current, against real servers started here: OASIS's medallion (a TAXII 2.1 server,
memory backend) in a subprocess, and Python's http.server for a block list by URL.

TAXII: the first pull takes every page; indicators added later come alone with the next pull (added_after);
a revoked indicator and one whose new version expired stop matching; source, confidence and TLP are kept.
Block lists: a new indicator is matched against the events already stored (retro-hunt, through detection
and correlation), only inside the window, and never on a look-alike (same /24, a subdomain of an exact name).
"""

from __future__ import annotations

import functools
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pytest
from taxii2client.v21 import Collection

from storewatch.detect.intel_feeds import due_pulls, pull, state
from storewatch.ingest import feeds, taxii
from storewatch.store import db
from storewatch.workspace import Workspace
from tests.respond.test_notify import receiver  # noqa: F401  (fixture)

LISTS = Path(__file__).resolve().parents[1] / "data" / "real" / "intel" / "blocklists"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "analyst", "s3cret-taxii-pass"
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"  # TLP 2.0 AMBER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _indicator(n: int, pattern: str, modified: datetime, **extra) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": _stamp(NOW - timedelta(days=10)), "modified": _stamp(modified), "pattern": pattern,
            "pattern_type": "stix", "valid_from": _stamp(NOW - timedelta(days=10)), "name": f"indicator {n}", **extra}


FIRST = [
    _indicator(1, "[ipv4-addr:value = '203.0.113.7']", NOW - timedelta(days=9), confidence=85,
               object_marking_refs=[TLP_AMBER]),
    _indicator(2, "[domain-name:value = 'c2.example.net']", NOW - timedelta(days=9)),
    _indicator(3, "[file:name = 'invoice.exe']", NOW - timedelta(days=9)),  # nothing to match on: a note
]


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    """A real TAXII 2.1 server: medallion with its memory backend, on a free port, these objects loaded."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    added = _stamp(NOW - timedelta(days=1)).replace(".000Z", ".000000Z")
    data = {
        "/discovery": {"title": "test", "description": "storewatch tests", "contact": "-",
                       "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {"information": {"title": "api1", "description": "-", "max_content_length": 9765625,
                                 "versions": ["application/taxii+json;version=2.1"]},
                 "status": [],
                 "collections": [{"id": COLLECTION, "title": "indicators", "description": "-", "can_read": True,
                                  "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                                  "objects": FIRST,
                                  "manifest": [{"id": o["id"], "date_added": added, "version": o["modified"],
                                                "media_type": "application/stix+json;version=2.1"} for o in FIRST]}]},
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "config.json").write_text(json.dumps({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(tmp_path / "data.json")},
        "users": {USER: PASSWORD}, "taxii": {"max_page_size": 2}}))
    proc = subprocess.Popen([sys.executable, "-c", "from medallion.scripts.run import main; main()", "--host",
                             "127.0.0.1", "--port", str(port), str(tmp_path / "config.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("medallion exited")
                time.sleep(0.05)
        yield f"{base}/api1/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _events(ws: Workspace, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(["event_id", *(k for row in rows for k in row)]))
    table = pa.Table.from_pylist([{c: row.get(c, f"ev{n}" if c == "event_id" else None) for c in columns}
                                  for n, row in enumerate(rows)])
    with db.opened(ws) as con:
        db.append_events(con, table)


def _conn(t: datetime, src: str, dst: str) -> dict:
    return {"time": t, "class_name": "Network Activity", "channel": "network", "activity": "conn", "src_ip": src,
            "dst_ip": dst, "dst_port": 443, "host": None}


def _dns(t: datetime, host: str, name: str) -> dict:
    return {"time": t, "class_name": "DNS Activity", "channel": "endpoint", "host": host, "url_host": name}


def _intel_alerts(ws: Workspace) -> dict[str, dict]:
    """Intel alerts by the indicator value they name, with their event ids."""
    with db.opened(ws, read_only=True) as con:
        rows = con.execute("SELECT evidence->>'indicator', event_ids, first_seen FROM alerts "
                           "WHERE rule_id = 'intel.match'").fetchall()
    return {v: {"event_ids": ids, "first_seen": first} for v, ids, first in rows}


def _intel(ws: Workspace) -> dict[str, dict]:
    with db.opened(ws, read_only=True) as con:
        cur = con.execute("SELECT * FROM intel")
        names = [d[0] for d in cur.description]
        return {r["value"]: r for r in (dict(zip(names, row)) for row in cur.fetchall())}


def test_taxii_pull_is_incremental_and_honours_revocation_and_expiry(medallion: str, tmp_path: Path,
                                                                     monkeypatch) -> None:
    ws = Workspace.at(tmp_path / "ws")
    monkeypatch.setenv("STOREWATCH_INTEL_ISAC_PASSWORD", PASSWORD)
    _events(ws, [_conn(NOW - timedelta(days=2), "10.1.2.3", "203.0.113.7"),
                 _conn(NOW - timedelta(days=2), "10.1.2.4", "203.0.113.8"),  # same /24, not listed
                 _dns(NOW - timedelta(days=2), "POS-0001-01", "api.c2.example.net"),
                 _conn(NOW - timedelta(days=1), "10.1.2.5", "198.51.100.9")])
    feeds.save(ws, {"isac": feeds.Feed("isac", "taxii", medallion, collection=COLLECTION, user=USER, confidence=40,
                                       tlp="green").check()})

    reports, detected = pull(ws, ["isac"])
    [first] = reports
    assert (first.status, first.added, first.updated, first.removed) == ("ok", 2, 0, 0)
    assert any("invoice.exe" not in n and "file:name" in n for n in first.notes)  # the unusable pattern, said why
    held = _intel(ws)
    assert (held["203.0.113.7"]["tlp"], held["203.0.113.7"]["confidence"], held["203.0.113.7"]["source"]) == ("amber", 85, "isac")
    assert (held["c2.example.net"]["tlp"], held["c2.example.net"]["confidence"]) == ("green", 40)  # feed defaults
    alerts = _intel_alerts(ws)
    assert set(alerts) == {"203.0.113.7", "c2.example.net"} and detected is not None and detected.incidents >= 1
    cursor = state(ws)["isac"]["cursor"]
    assert cursor is not None

    later = NOW - timedelta(hours=1)
    new = [_indicator(4, "[ipv4-addr:value = '198.51.100.9']", later),
           {**FIRST[0], "modified": _stamp(later), "revoked": True},
           {**FIRST[1], "modified": _stamp(later), "valid_until": _stamp(NOW - timedelta(days=3))}]
    with Collection(f"{medallion}collections/{COLLECTION}/", user=USER, password=PASSWORD) as server:
        server.add_objects({"objects": new})
    since = taxii.poll(medallion, COLLECTION, cursor, user=USER, password=PASSWORD)
    assert sorted(o["id"] for o in since.objects) == sorted(o["id"] for o in new)  # only what was added

    [second], _ = pull(ws, ["isac"])
    assert (second.added, second.updated, second.removed) == (1, 1, 2)
    held = _intel(ws)
    assert "203.0.113.7" not in held  # revoked: gone
    assert held["c2.example.net"]["valid_until"] == NOW - timedelta(days=3)
    alerts = _intel_alerts(ws)
    assert set(alerts) == {"198.51.100.9"}  # the revoked and the expired one stopped matching
    assert alerts["198.51.100.9"]["event_ids"] == ["ev3"]
    [third], again = pull(ws, ["isac"])
    assert (third.added, third.updated, third.removed, again) == (0, 0, 0, None)  # nothing new: no re-detection


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def list_server() -> Iterator[str]:
    """Python's http.server publishing the block-list samples."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(LISTS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_new_block_list_entries_are_retro_hunted_in_the_window_only(list_server: str, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("# exact host names\npayload.example.net\nunused.example.org\n")
    _events(ws, [_conn(NOW - timedelta(days=2), "10.1.2.3", "198.51.100.23"),   # listed by Feodo
                 _conn(NOW - timedelta(days=2), "10.1.2.3", "198.51.100.24"),   # same /24, not listed
                 _conn(NOW - timedelta(days=40), "10.1.2.9", "198.51.100.23"),  # before the retro-hunt window
                 _dns(NOW - timedelta(days=3), "POS-0002-01", "payload.example.net"),
                 _dns(NOW - timedelta(days=3), "POS-0003-01", "cdn.payload.example.net")])  # not in an exact list
    feeds.save(ws, {"feodo": feeds.Feed("feodo", "url", f"{list_server}/feodo_ipblocklist.txt", format="ip").check(),
                    "hosts": feeds.Feed("hosts", "file", str(hosts), format="domain", tlp="amber").check()})
    assert due_pulls(ws) == ["feodo", "hosts"]

    reports, detected = pull(ws)
    assert [(r.feed, r.status, r.added) for r in reports] == [("feodo", "ok", 2), ("hosts", "ok", 2)]
    alerts = _intel_alerts(ws)
    assert set(alerts) == {"198.51.100.23", "payload.example.net"}  # 203.0.113.77 and unused.example.org: nothing
    assert alerts["198.51.100.23"]["event_ids"] == ["ev0"]  # not the event 40 days back
    assert alerts["payload.example.net"]["event_ids"] == ["ev3"]  # not cdn.payload.example.net
    with db.opened(ws, read_only=True) as con:
        incidents = con.execute("SELECT entities FROM incidents").fetchall()
    assert any({"type": "ip", "value": "198.51.100.23"} in ents for (ents,) in incidents)
    assert due_pulls(ws, NOW + timedelta(minutes=5)) == []
    assert due_pulls(ws, NOW + timedelta(hours=2)) == ["feodo", "hosts"]

    hosts.write_text("unused.example.org\n")  # a full list: what it no longer carries is removed
    [_, again], _ = pull(ws)
    assert (again.added, again.removed, again.total) == (0, 1, 1)
    assert set(_intel_alerts(ws)) == {"198.51.100.23"}


def test_an_unreachable_feed_fails_alone_and_says_why(list_server: str, tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    feeds.save(ws, {"gone": feeds.Feed("gone", "url", f"{list_server}/missing.txt", format="ip").check(),
                    "feodo": feeds.Feed("feodo", "url", f"{list_server}/feodo_ipblocklist.txt", format="ip").check()})
    reports, _ = pull(ws)
    ok, gone = reports  # in name order
    assert gone.status == "failed" and "HTTP 404" in gone.detail and ok.status == "ok" and ok.total == 2
    assert state(ws)["gone"]["status"] == "failed"


def test_cli_follows_a_feed_pulls_it_and_notifies_the_incident_it_finds(tmp_path: Path, receiver, monkeypatch) -> None:
    import orjson
    from typer.testing import CliRunner

    from storewatch.cli import app

    ws = Workspace.at(tmp_path / "ws")
    home = str(ws.home)
    _events(ws, [_conn(NOW - timedelta(days=1), "10.1.2.3", "198.51.100.23")])
    ws.set_setting("notify.min_severity", ["low"])
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook/secret-path-0042"
    monkeypatch.setenv("STOREWATCH_WEBHOOK_URL", hook)

    def cli(*args: str):
        return CliRunner().invoke(app, [*args, "--home", home], catch_exceptions=False)

    refused = cli("intel", "feeds", "add", "feodo", "--file", str(LISTS / "feodo_ipblocklist.txt"), "--kind", "ipv4")
    assert refused.exit_code == 2 and "--kind must be one of" in refused.output
    added = cli("intel", "feeds", "add", "feodo", "--file", str(LISTS / "feodo_ipblocklist.txt"), "--kind", "ip",
                "--tlp", "green", "--interval", "6h")
    assert added.exit_code == 0, added.output
    out = cli("intel", "pull", "--json")
    assert out.exit_code == 0, out.output
    result = orjson.loads(out.stdout)
    assert [(f["feed"], f["added"]) for f in result["feeds"]] == [("feodo", 2)]
    assert result["detect"]["alerts"] >= 1 and result["notified"][0]["channels"] == ["webhook"]
    assert "secret-path-0042" not in out.output
    [(path, _, body)] = receiver.got
    assert any(e == {"type": "ip", "value": "198.51.100.23"} for e in body["incident"]["entities"])
    listed = orjson.loads(cli("intel", "feeds", "list", "--json").stdout)
    assert [(f["name"], f["tlp"], f["interval"], f["status"], f["total"]) for f in listed] == [("feodo", "green", 21600, "ok", 2)]
    assert [e["action"] for e in audit_entries(ws)][:1] == ["intel.feed_added"]


def audit_entries(ws: Workspace) -> list[dict]:
    from storewatch import audit

    return list(audit.entries(ws))


def test_detect_command_notifies_what_it_found(tmp_path: Path, receiver, monkeypatch) -> None:
    import orjson
    from typer.testing import CliRunner

    from storewatch.cli import app

    ws = Workspace.at(tmp_path / "ws")
    _events(ws, [_conn(NOW - timedelta(days=1), "10.1.2.3", "203.0.113.77")])
    ws.set_setting("notify.min_severity", ["low"])
    feeds.save(ws, {"feodo": feeds.Feed("feodo", "file", str(LISTS / "feodo_ipblocklist.txt"), format="ip").check()})
    pull(ws, hunt=False)
    assert receiver.got == []
    monkeypatch.setenv("STOREWATCH_WEBHOOK_URL", f"http://127.0.0.1:{receiver.server_address[1]}/hook")
    out = CliRunner().invoke(app, ["detect", "--json", "--home", str(ws.home)], catch_exceptions=False)
    [sent] = orjson.loads(out.stdout)["notified"]
    assert sent["channels"] == ["webhook"] and receiver.got[0][2]["incident"]["id"] == sent["incident_id"]
    again = CliRunner().invoke(app, ["detect", "--json", "--home", str(ws.home)], catch_exceptions=False)
    assert orjson.loads(again.stdout)["notified"] == [] and len(receiver.got) == 1
