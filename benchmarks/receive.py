"""How fast `storewatch receive` spools: syslog over TCP and UDP, JSON lines over HTTP (every batch fsynced).

    python benchmarks/receive.py                      # 200,000 TCP frames, 20,000 datagrams, 400 HTTP requests
    python benchmarks/receive.py --tcp 1000000 --clients 16

The receiver runs in this process, on loopback, into a temporary workspace; senders are plain sockets (one TCP
connection, octet-counted; UDP paced at about 100 datagrams per millisecond; HTTP with keep-alive). Prints a
Markdown table for docs/ingest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from storewatch.receive.config import ReceiveConfig  # noqa: E402
from storewatch.receive.server import Receiver  # noqa: E402
from storewatch.workspace import Workspace  # noqa: E402

TOKEN = "bench-" + "k3Jq9XwP2mZr7TbV5nLc8HdY4sGf6Ae1"
MESSAGE = (b"<38>1 2026-12-08T01:00:00Z web-02 sshd 77 - - Failed password for invalid user oracle "
           b"from 198.51.100.7 port 4243 ssh2")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int, default=200_000)
    ap.add_argument("--udp", type=int, default=20_000)
    ap.add_argument("--http", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        receiver = Receiver(Workspace.at(tmp), ReceiveConfig(jsonl_token=TOKEN), syslog_udp=0, syslog_tcp=0, http=0)
        ready, box = threading.Event(), {}

        async def run() -> None:
            box["loop"] = asyncio.get_running_loop()
            await receiver.run(lambda listening: ready.set())

        thread = threading.Thread(target=lambda: asyncio.run(run()))
        thread.start()
        ready.wait()
        port = {k: int(v.rsplit(":", 1)[1]) for k, v in receiver.listening.items()}
        accepted = receiver.counters.accepted
        rows = [("syslog TCP, octet-counted, 1 connection", *_tcp(port["syslog-tcp"], args.tcp, accepted)),
                ("syslog UDP, paced", *_udp(port["syslog-udp"], args.udp, accepted)),
                (f"JSON lines over HTTP, 10 per request, {args.clients} clients", *_http(port["http"], args.http, args.clients))]
        box["loop"].call_soon_threadsafe(receiver.stop.set)
        thread.join()
    print("| sent | taken | seconds | per second |\n|---|---|---|---|")
    for name, sent, taken, seconds in rows:
        print(f"| {name}: {sent:,} | {taken:,} | {seconds:.2f} | {taken / seconds:,.0f} |")


def _wait(accepted, target: int, limit: float = 120) -> None:
    end = time.monotonic() + limit
    while accepted["syslog"] < target and time.monotonic() < end:
        time.sleep(0.01)


def _tcp(port: int, n: int, accepted) -> tuple[int, int, float]:
    frame = str(len(MESSAGE)).encode() + b" " + MESSAGE
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(frame * n)
    _wait(accepted, n)
    return n, accepted["syslog"], time.monotonic() - start


def _udp(port: int, n: int, accepted) -> tuple[int, int, float]:
    before = accepted["syslog"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    for i in range(n):
        sock.sendto(MESSAGE, ("127.0.0.1", port))
        if i % 100 == 99:
            time.sleep(0.001)
    _wait(accepted, before + n, limit=10)
    return n, accepted["syslog"] - before, time.monotonic() - start


def _http(port: int, n: int, clients: int) -> tuple[int, int, float]:
    body = b'{"a": 1}\n' * 10
    request = (f"POST /ingest/jsonl HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    done: list[int] = []

    def client(count: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for _ in range(count):
                sock.sendall(request)
                answer = b""
                while b"}" not in answer:
                    answer += sock.recv(4096)
                done.append(b" 200 " in answer)

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(n // clients,)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n, sum(done), time.monotonic() - start


if __name__ == "__main__":
    main()
