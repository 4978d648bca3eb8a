"""Incident notifications through the real adapters to real local receivers: an HTTP server (threads) in place
of the Slack, Teams and webhook URLs, and an SMTP sink for e-mail. Sent once per incident and level, again
when it escalates, rate-limited with one digest, linked to the dashboard, secrets never in what is kept."""

from __future__ import annotations

import email
import http.server
import json
import socketserver
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from storewatch import audit
from storewatch.respond.notify import dispatch
from storewatch.store import db
from storewatch.workspace import Workspace

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
SECRET = "T000-B000-XXXXsecretpath"


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.got.append((self.path, dict(self.headers), body))
        self.send_response(400 if self.path.startswith("/refuse") else 200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib to hand over a message: every command accepted."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        lines: list[bytes] | None = None
        while line := self.rfile.readline():
            if lines is not None:
                if line == b".\r\n":
                    self.server.got.append(email.message_from_bytes(b"".join(lines)))
                    lines = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                lines = []
                self.wfile.write(b"354 end with .\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def _serve(server) -> Iterator:
    server.got = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[http.server.ThreadingHTTPServer]:
    yield from _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver))


@pytest.fixture
def smtp() -> Iterator[socketserver.ThreadingTCPServer]:
    yield from _serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink))


def _environ(receiver, smtp=None, only: tuple[str, ...] = ("slack", "teams", "webhook", "email")) -> dict[str, str]:
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    env = {"STOREWATCH_SLACK_WEBHOOK_URL": f"{base}/slack/{SECRET}",
           "STOREWATCH_TEAMS_WEBHOOK_URL": f"{base}/teams/{SECRET}",
           "STOREWATCH_WEBHOOK_URL": f"{base}/hook", "STOREWATCH_WEBHOOK_TOKEN": "hook-token-secret"}
    if smtp is not None:
        env |= {"STOREWATCH_EMAIL_HOST": "127.0.0.1", "STOREWATCH_EMAIL_PORT": str(smtp.server_address[1]),
                "STOREWATCH_EMAIL_SENDER": "storewatch@shop.example", "STOREWATCH_EMAIL_TO": "soc@shop.example",
                "STOREWATCH_EMAIL_STARTTLS": "false"}
    return {k: v for k, v in env.items() if k.split("_")[1].lower() in only}


def _incident(ws: Workspace, iid: str, severity: str, risk: int, rules: list[str]) -> None:
    """Write one incident and its alerts as correlation would have (replacing an earlier state of it)."""
    with db.opened(ws) as con:
        con.execute("DELETE FROM incidents WHERE incident_id = ?", [iid])
        con.execute("DELETE FROM incident_alerts WHERE incident_id = ?", [iid])
        con.execute("""INSERT INTO incidents BY NAME SELECT ? AS incident_id, ? AS title, 'card_testing' AS scenario,
                       ? AS severity, ? AS risk_score, ? AS first_seen, ? AS last_seen, 'Cards tried <@channel>' AS summary,
                       'open' AS status, ? AS created_at, ? AS updated_at, 1 AS alert_count""",
                    [iid, f"Card testing on {iid}", severity, risk, NOW - timedelta(hours=1), NOW, NOW, NOW])
        for rule in rules:
            con.execute("INSERT OR REPLACE INTO alerts (alert_id, rule_id, severity) VALUES (?, ?, ?)",
                        [f"{iid}-{rule}", rule, severity])
            con.execute("INSERT INTO incident_alerts VALUES (?, ?)", [iid, f"{iid}-{rule}"])


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.at(tmp_path / "ws")
    ws.set_setting("dashboard.url", ["https://sw.shop.example/"])
    return ws


def test_a_new_incident_is_sent_once_to_every_channel_with_its_link(ws, receiver, smtp) -> None:
    env = _environ(receiver, smtp)
    _incident(ws, "INC-AAA", "high", 72, ["web.card_testing"])
    _incident(ws, "INC-BBB", "medium", 45, ["web.card_testing"])  # below the default threshold (high)
    [sent] = dispatch(ws, NOW, env)
    assert (sent["incident_id"], sent["kind"], sent["failed"]) == ("INC-AAA", "incident", {})
    assert sorted(sent["channels"]) == ["email", "slack", "teams", "webhook"]
    bodies = {path.split("/")[1]: (headers, body) for path, headers, body in receiver.got}
    assert set(bodies) == {"slack", "teams", "hook"}
    slack = bodies["slack"][1]["text"]
    assert slack.startswith("storewatch: new high incident INC-AAA (card_testing, risk 72/100)")
    assert "https://sw.shop.example/incidents/INC-AAA" in slack and "&lt;@channel&gt;" in slack  # escaped for Slack
    card = bodies["teams"][1]["attachments"][0]["content"]["body"]
    assert card[0]["text"] == "[storewatch] high incident INC-AAA: Card testing on INC-AAA"
    headers, hook = bodies["hook"]
    assert hook["incident"]["id"] == "INC-AAA" and hook["incident"]["risk_score"] == 72
    assert headers["Authorization"] == "Bearer hook-token-secret" and headers["Idempotency-Key"].startswith("NOTE-")
    [mail] = smtp.got
    assert mail["To"] == "soc@shop.example" and "INC-AAA" in mail["Subject"]
    assert "https://sw.shop.example/incidents/INC-AAA" in mail.get_payload()

    assert dispatch(ws, NOW + timedelta(minutes=5), env) == []  # the same level is never sent twice
    assert len(receiver.got) == 3 and len(smtp.got) == 1
    kept = audit.log_path(ws).read_text()
    assert "notify.sent" in kept and SECRET not in kept and "hook-token-secret" not in kept


def test_an_escalation_is_sent_again_and_only_then(ws, receiver) -> None:
    env = _environ(receiver, only=("webhook",))
    _incident(ws, "INC-AAA", "high", 72, ["web.card_testing"])
    assert len(dispatch(ws, NOW, env)) == 1
    _incident(ws, "INC-AAA", "high", 74, ["web.card_testing"])  # same band, same detections: no news
    assert dispatch(ws, NOW + timedelta(minutes=1), env) == []
    _incident(ws, "INC-AAA", "critical", 91, ["web.card_testing", "payments.card_testing"])
    [again] = dispatch(ws, NOW + timedelta(minutes=2), env)
    assert again["levels"] == ["critical/2 detection(s)/risk 90+"]
    text = receiver.got[-1][2]["text"]
    assert text.startswith("storewatch: escalated to critical/2 detection(s)/risk 90+: critical incident INC-AAA")
    _incident(ws, "INC-AAA", "high", 80, ["web.card_testing", "payments.card_testing"])  # calmer: not news
    assert dispatch(ws, NOW + timedelta(minutes=3), env) == []


def test_past_the_hourly_limit_the_rest_go_in_one_digest(ws, receiver) -> None:
    env = _environ(receiver, only=("webhook",))
    ws.set_setting("notify.max_per_hour", ["2"])
    for n, risk in enumerate((95, 90, 85, 80, 75)):
        _incident(ws, f"INC-{n}", "critical" if risk >= 85 else "high", risk, ["r1"])
    sent = dispatch(ws, NOW, env)
    assert [(s["kind"], s["incident_id"]) for s in sent][:2] == [("incident", "INC-0"), ("incident", "INC-1")]
    digest = sent[2]
    assert digest["kind"] == "digest" and digest["covers"] == ["INC-2", "INC-3", "INC-4"] and len(sent) == 3
    summary = receiver.got[-1][2]["incident"]["summary"]
    assert "INC-3 high risk 75" not in summary and "INC-3 high risk 80" in summary
    _incident(ws, "INC-5", "high", 77, ["r1"])
    assert dispatch(ws, NOW + timedelta(minutes=30), env) == []  # limit reached and this hour's digest sent
    [late] = dispatch(ws, NOW + timedelta(minutes=61), env)  # a new hour: it goes alone
    assert (late["kind"], late["incident_id"]) == ("incident", "INC-5")


def test_a_refused_message_stays_pending_and_says_why(ws, receiver) -> None:
    env = {"STOREWATCH_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_address[1]}/refuse/{SECRET}"}
    _incident(ws, "INC-AAA", "high", 72, ["r1"])
    [failed] = dispatch(ws, NOW, env)
    assert failed["channels"] == [] and "HTTP 400" in failed["failed"]["webhook"]
    assert SECRET not in failed["failed"]["webhook"]
    [again] = dispatch(ws, NOW + timedelta(minutes=1), env)  # not recorded as sent: tried again
    assert again["incident_id"] == "INC-AAA" and len(receiver.got) == 2


def test_nothing_is_sent_or_kept_without_a_configured_channel(ws) -> None:
    _incident(ws, "INC-AAA", "critical", 95, ["r1"])
    assert dispatch(ws, NOW, {}) == []


def test_an_incident_marked_false_positive_is_not_sent(ws, receiver) -> None:
    from storewatch.learn.feedback import record_feedback

    _incident(ws, "INC-AAA", "critical", 95, ["r1"])
    _incident(ws, "INC-BBB", "critical", 95, ["r1"])
    record_feedback(ws, "INC-AAA", "false_positive")
    assert [s["incident_id"] for s in dispatch(ws, NOW, _environ(receiver, only=("webhook",)))] == ["INC-BBB"]
