"""Real senders to a running receiver, then `ingest <home>/inbox`: the stored events' fields, and no card number
on disk or in the store."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from storewatch.receive.server import Receiver
from storewatch.receive.spool import Limits
from tests.receive.conftest import (
    AUTH0_BATCH, AUTH0_TOKEN, CONFIG, SHOPIFY_ORDER, shopify_headers, stripe_event, stripe_headers,
)

DEADLINE = 30  # seconds a test waits for something that takes milliseconds before it calls it lost


class Running:
    """A receiver on ephemeral loopback ports, in a thread of its own."""

    def __init__(self, ws, config=CONFIG) -> None:
        self.receiver = Receiver(ws, config, "127.0.0.1", syslog_udp=0, syslog_tcp=0, http=0)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.receiver.run(lambda listening: self.ready.set())

    def __enter__(self) -> "Running":
        self.thread.start()
        assert self.ready.wait(DEADLINE)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.receiver.stop.set)
        self.thread.join(DEADLINE)

    def port(self, name: str) -> int:
        return int(self.receiver.listening[name].rsplit(":", 1)[1])

    def wait_for(self, predicate) -> None:
        end = time.monotonic() + DEADLINE
        while not predicate():
            assert time.monotonic() < end, "not received in time"
            time.sleep(0.05)


def syslog_handler(port: int, kind: int) -> logging.Logger:
    logger = logging.getLogger(f"sender-{port}")
    logger.propagate = False
    handler = logging.handlers.SysLogHandler(("127.0.0.1", port), facility=logging.handlers.SysLogHandler.LOG_AUTH,
                                             socktype=kind)
    handler.setFormatter(logging.Formatter("sshd[%(process)d]: %(message)s"))
    logger.handlers = [handler]
    return logger


def counted(*frames: bytes) -> bytes:
    return b"".join(str(len(f)).encode() + b" " + f for f in frames)


def test_syslog_from_real_senders_is_ingested_and_malformed_frames_are_counted(ws, run, query) -> None:
    with Running(ws) as r:
        accepted = r.receiver.counters.accepted
        udp = syslog_handler(r.port("syslog-udp"), socket.SOCK_DGRAM)
        udp.warning("Failed password for invalid user admin from 203.0.113.4 port 4242 ssh2")
        tcp = syslog_handler(r.port("syslog-tcp"), socket.SOCK_STREAM)
        tcp.warning("Accepted password for root from 203.0.113.5 port 4250 ssh2")
        tcp.handlers[0].close()
        good = b"<38>1 2026-12-08T01:00:00Z web-02 sshd 77 - - Invalid user oracle from 198.51.100.7 port 4243"
        with socket.create_connection(("127.0.0.1", r.port("syslog-tcp"))) as sock:  # octet counting, with damage
            sock.sendall(counted(good) + b"12x garbage\n" + b"\x00\x01\x02\x03\x04\x05\x06\x07\n"
                         + counted(good.replace(b"oracle", b"mysql")) + b"\n")
        r.wait_for(lambda: accepted["syslog"] >= 4)
        assert sum(r.receiver.counters.malformed.values()) == 2
    spool = ws.home / "inbox" / "syslog" / "syslog.log"
    assert "4111" not in spool.read_text()
    report = run(ws.home / "inbox")
    assert report.files[0].source_format == "linux_auth" and report.totals["stored"] == 4
    rows = query("SELECT activity, outcome, user_name, src_ip, host FROM events ORDER BY src_ip, user_name")
    assert rows == [
        {"activity": "logon", "outcome": "failure", "user_name": "mysql", "src_ip": "198.51.100.7", "host": "web-02"},
        {"activity": "logon", "outcome": "failure", "user_name": "oracle", "src_ip": "198.51.100.7", "host": "web-02"},
        {"activity": "logon", "outcome": "failure", "user_name": "admin", "src_ip": "203.0.113.4", "host": "127.0.0.1"},
        {"activity": "logon", "outcome": "success", "user_name": "root", "src_ip": "203.0.113.5", "host": "127.0.0.1"},
    ]
    kept = (ws.home / "receive" / "quarantine" / "syslog.jsonl").read_text()
    assert [line.split('"reason":"')[1].split('"')[0] for line in kept.splitlines()] == [
        "bad octet count", "bytes between octet-counted frames (a count too short before them?)"]
    assert '"sample":"12x garbage"' in kept and '"sample":"\\u0000\\u0001' in kept


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger not installed")
def test_util_linux_logger_rfc5424_octet_counted_and_rfc3164_udp(ws, run, query) -> None:
    with Running(ws) as r:
        subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(r.port("syslog-tcp")), "--tcp", "--octet-count",
                        "--rfc5424", "-t", "sshd", "-p", "auth.info", "Failed password for alice from 192.0.2.10 port 5000 ssh2"],
                       check=True)
        subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(r.port("syslog-udp")), "--udp", "--rfc3164",
                        "-t", "sudo", "-p", "authpriv.notice",
                        "bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id card 4111 1111 1111 1111"],
                       check=True)
        r.wait_for(lambda: r.receiver.counters.accepted["syslog"] >= 2)
    assert "4111 1111 1111 1111" not in (ws.home / "inbox" / "syslog" / "syslog.log").read_text()
    run(ws.home / "inbox")
    rows = query("SELECT activity, outcome, user_name, src_ip, command_line FROM events ORDER BY activity")
    assert [(r["activity"], r["outcome"], r["user_name"]) for r in rows] == [("logon", "failure", "alice"), ("sudo", "success", "bob")]
    assert rows[0]["src_ip"] == "192.0.2.10" and rows[1]["command_line"].startswith("/usr/bin/id card [PAN:last4=1111")


def test_signed_webhooks_are_ingested_with_their_fields_and_no_card_number(ws, run, query) -> None:
    with Running(ws) as r:
        base = f"http://127.0.0.1:{r.port('http')}"
        body = stripe_event("evt_e2e")
        with httpx.Client(base_url=base) as c:
            assert c.post("/webhooks/stripe", content=body, headers=stripe_headers(body, int(time.time()))).status_code == 200
            assert c.post("/webhooks/shopify", content=SHOPIFY_ORDER,
                          headers=shopify_headers(SHOPIFY_ORDER, "orders/create", "wh-e2e")).status_code == 200
            assert c.post("/webhooks/auth0", content=AUTH0_BATCH, headers={"Authorization": AUTH0_TOKEN}).status_code == 200
    for path in (ws.home / "inbox").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "4111111111111111" not in text and "5555 5555 5555 4444" not in text, path
    report = run(ws.home / "inbox")
    formats = {Path(f.source_file).parent.name: f.source_format for f in report.files}
    assert formats == {"stripe": "stripe", "shopify": "shopify", "auth0": "auth0"}
    charge = query("SELECT activity, outcome, amount, src_ip, email, card_last4, reason, transaction_id FROM events "
                   "WHERE source_format = 'stripe'")[0]
    assert (charge["activity"], charge["outcome"], str(charge["amount"])) == ("charge", "failure", "1299.00")
    assert (charge["src_ip"], charge["email"], charge["card_last4"], charge["transaction_id"]) == (
        "198.51.100.23", "mallory@example.net", "1111", "ch_3Q")
    order = query("SELECT class_name, amount, email, src_ip, attributes->>'$.shopify_topic' AS topic, "
                  "attributes->>'$.shop_domain' AS shop FROM events WHERE source_format = 'shopify'")[0]
    assert (order["class_name"], str(order["amount"]), order["email"], order["src_ip"]) == ("Order", "899.00", "eve@example.org", "203.0.113.77")
    assert (order["topic"], order["shop"]) == ("orders/create", "north-shop.myshopify.com")
    logons = query("SELECT event_code, activity, outcome, src_ip, user_name FROM events WHERE source_format = 'auth0' ORDER BY time")
    assert [(e["event_code"], e["outcome"]) for e in logons] == [("fp", "failure"), ("s", "success")]
    assert {(e["src_ip"], e["user_name"]) for e in logons} == {("198.51.100.9", "victim@example.com")}
    stored = query("SELECT count(*) AS n FROM events WHERE CAST(attributes AS VARCHAR) LIKE '%4111111111111111%' "
                   "OR reason LIKE '%4111111111111111%'")[0]
    assert stored["n"] == 0


def test_a_full_spool_pauses_tcp_and_counts_udp_drops_then_resumes(ws) -> None:
    with Running(ws) as r:
        spool, counters = r.receiver.spool, r.receiver.counters
        spool.limits = Limits(max_bytes=0)  # full
        udp = syslog_handler(r.port("syslog-udp"), socket.SOCK_DGRAM)
        udp.warning("dropped while full")
        r.wait_for(lambda: counters.dropped["syslog-udp: spool full"] == 1)
        with socket.create_connection(("127.0.0.1", r.port("syslog-tcp"))) as sock:
            sock.sendall(counted(b"<13>Dec  8 01:00:00 h app: held back"))
            r.wait_for(lambda: counters.paused["syslog-tcp"] >= 1)
            assert counters.accepted["syslog"] == 0
            spool.limits = Limits()  # room again: the connection is read and nothing was lost
            r.wait_for(lambda: counters.accepted["syslog"] == 1)
    assert (ws.home / "inbox" / "syslog" / "syslog.log").read_text() == "<13>Dec  8 01:00:00 h app: held back\n"
