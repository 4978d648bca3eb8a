"""Stand-ins for the vendors (a real HTTP server on 127.0.0.1 that records every request and can answer
401, 429 with Retry-After, 500 or hang), a tiny SMTP server, an nft runner that needs no root, and an
incident to respond to."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from subprocess import CompletedProcess
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from storewatch.respond import engine, http
from tests.respond.support import SECRETS, SLACK_PATH, T0, add_incident, alert


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Vendor:
    """Routes answer (status, json body, headers); `fail` queues faults for the next requests to a path."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    routes: dict = field(default_factory=dict)
    faults: list = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def route(self, method: str, path: str, body=None, status: int = 200, headers: dict | None = None) -> None:
        self.routes[(method, path)] = (status, body, headers or {})

    def fail(self, path: str, *kinds: str | tuple) -> None:
        """Faults for the next requests whose path starts with `path`: "401", "500", "hang", ("429", secs)."""
        self.faults += [(path, k) for k in kinds]

    def calls(self, method: str | None = None, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or r.path == path)]


def _handler(vendor: Vendor):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                          {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            vendor.requests.append(req)
            fault = next((f for f in vendor.faults if req.path.startswith(f[0])), None)
            if fault:
                vendor.faults.remove(fault)
                kind = fault[1]
                if kind == "hang":
                    vendor.release.wait(10)
                    return
                if isinstance(kind, tuple):
                    return self._reply(429, {"error": "rate limited"}, {"Retry-After": str(kind[1])})
                return self._reply(int(kind), {"message": f"stand-in fault {kind}"}, {})
            status, body, headers = vendor.routes.get((req.method, req.path), (404, {"message": "no route"}, {}))
            self._reply(status, body, headers)

        def _reply(self, status: int, body, headers: dict) -> None:
            data = b"" if body is None else (body.encode() if isinstance(body, str) else orjson.dumps(body))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler


@pytest.fixture
def vendor():
    v = Vendor()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(v))
    server.daemon_threads = True
    v.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield v
    v.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Waits between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "SLEEP", recorded.append)
    return recorded


@pytest.fixture
def configured(monkeypatch, vendor, waits):
    """Every adapter pointed at the stand-in, short timeouts, secrets from the environment."""
    env = {
        "STOREWATCH_HTTP_TIMEOUT": "0.5", "STOREWATCH_HTTP_RETRIES": "2", "STOREWATCH_HTTP_MAX_RETRY_WAIT": "5",
        "STOREWATCH_AUTH0_DOMAIN": "shop.eu.auth0.com", "STOREWATCH_AUTH0_CLIENT_ID": "m2m-client",
        "STOREWATCH_AUTH0_BASE_URL": vendor.url,
        "STOREWATCH_CROWDSTRIKE_CLIENT_ID": "falcon-client", "STOREWATCH_CROWDSTRIKE_BASE_URL": vendor.url,
        "STOREWATCH_SHOPIFY_SHOP": "my-shop.myshopify.com", "STOREWATCH_SHOPIFY_BASE_URL": vendor.url,
        "STOREWATCH_STRIPE_BASE_URL": vendor.url, "STOREWATCH_STRIPE_CARD_LIST": "rsl_cards",
        "STOREWATCH_STRIPE_EMAIL_LIST": "rsl_emails", "STOREWATCH_STRIPE_IP_LIST": "rsl_ips",
        "STOREWATCH_POS_URL": f"{vendor.url}/pos/hook",
        "STOREWATCH_SLACK_WEBHOOK_URL": f"{vendor.url}{SLACK_PATH}",
        "STOREWATCH_WEBHOOK_URL": f"{vendor.url}/hook",
        **SECRETS,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("STOREWATCH_TEAMS_WEBHOOK_URL", "STOREWATCH_EMAIL_HOST"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("STOREWATCH_ACTOR", "analyst-kim")
    return env


TAKEOVER_ENTITIES = [("email", "kim@example.com"), ("user", "auth0|abc123"), ("ip", "81.2.69.142"),
                     ("ip", "10.0.0.5"), ("card", "A0eD26C470b1Ac95")]


@pytest.fixture
def takeover(ws) -> str:
    """An account takeover: a customer (Auth0 id and e-mail), a public and a private IP, a card, and an
    order placed by the customer during the incident (found through the events, not an entity)."""
    events = [{"event_id": "ev-order-1", "time": T0 + timedelta(minutes=10), "class_name": "Order", "channel": "orders",
               "email": "kim@example.com", "order_id": "5017998538686", "source_format": "shopify"}]
    return add_incident(ws, [alert("a-ato", "account_takeover", TAKEOVER_ENTITIES)], events)


@pytest.fixture
def nft() -> tuple[engine.Hooks, list[list[str]]]:
    """Hooks whose command runner records `nft -f` calls instead of needing root; and the record."""
    ran: list[list[str]] = []

    def run(argv):
        ran.append(list(argv))
        return CompletedProcess(argv, 0, "", "")

    return engine.Hooks(run=run), ran


class SmtpServer:
    """Just enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to receive one message per session;
    `temporary` sessions answer MAIL FROM with 451 first."""

    def __init__(self, temporary: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict] = []
        self.auth: list[str] = []
        self.temporary = temporary
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rf:
                self._session(conn, rf)

    def _session(self, conn, rf) -> None:
        conn.sendall(b"220 stand-in ESMTP\r\n")
        envelope: dict = {"rcpt": []}
        while line := rf.readline():
            cmd = line.decode().strip()
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                conn.sendall(b"250-stand-in\r\n250-AUTH PLAIN\r\n250 OK\r\n")
            elif verb == "AUTH":
                self.auth.append(cmd)
                conn.sendall(b"235 OK\r\n")
            elif verb == "MAIL":
                if self.temporary:
                    self.temporary -= 1
                    conn.sendall(b"451 try again later\r\n")
                    continue
                envelope["from"] = cmd
                conn.sendall(b"250 OK\r\n")
            elif verb == "RCPT":
                envelope["rcpt"].append(cmd)
                conn.sendall(b"250 OK\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go on\r\n")
                data = b""
                while (chunk := rf.readline()) not in (b".\r\n", b""):
                    data += chunk
                envelope["data"] = data.decode()
                self.messages.append(envelope)
                envelope = {"rcpt": []}
                conn.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 OK\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.close()
