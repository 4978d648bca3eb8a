"""The incident list under 20 concurrent clients while `storewatch ingest` writes, against a baseline commit.

    python benchmarks/web_concurrency.py                       # scale-1 estate, against main 9448710
    python benchmarks/web_concurrency.py --home WS --more DIR  # reuse a detected workspace and an estate
    python benchmarks/web_concurrency.py --rounds 3 --clients 20 --baseline 9448710

Setup, outside any measurement: a 2-day scale-1 estate (seed 1) is simulated, ingested and detected into
a workspace, and a second estate (seed 2, scale 0.5) is simulated for the ingest that runs during the
measurement. The baseline's `src` is taken from git (`git archive`) into a temporary folder.

Each round measures the baseline and this checkout one after the other, alternating which goes first
(the machine is shared and noisy), each on a fresh copy of the workspace: `storewatch serve` is started
from that variant's source, `storewatch ingest` of the second estate is started from the same source,
and `--clients` clients (asyncio, one thread), each with its own keep-alive connection, ask
`GET /api/incidents` again and again until the ingest ends. Every answer's latency and status is kept; the ingest's exit code and
duration too. Before the rounds, what publishing a snapshot of the estate's tables costs the writer and
what taking it costs a reader (this checkout, medians of 5). Prints per variant: requests, answers by status, requests/s, p50/p95/p99 of the answers,
and whether the ingest succeeded. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def storewatch(src: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.Popen([sys.executable, "-m", "storewatch.cli", *args], env=env, **kw)


def run(src: Path, *args: str) -> None:
    proc = storewatch(src, *args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate()
    if proc.returncode:
        sys.exit(f"storewatch {' '.join(args)} failed: {err[-2000:]}")


def prepare(work: Path, home: Path | None, more: Path | None) -> tuple[Path, Path]:
    """The detected scale-1 workspace and the estate to ingest during the measurement."""
    src = ROOT / "src"
    if home is None:
        estate, home = work / "estate", work / "home"
        print("simulating, ingesting and detecting the scale-1 estate (not measured)...", flush=True)
        run(src, "simulate", "--out", str(estate), "--scale", "1", "--seed", "1")
        run(src, "ingest", str(estate), "--home", str(home), "--json")
        run(src, "detect", "--home", str(home))
    if more is None:
        more = work / "more"
        run(src, "simulate", "--out", str(more), "--scale", "0.5", "--seed", "2")
    return home, more


def baseline_src(commit: str, work: Path) -> Path:
    out = work / f"baseline-{commit}"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REQUEST = b"GET /api/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """One GET on a keep-alive connection; the status (the body is read and dropped)."""
    writer.write(REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:]) if k.lower() == "content-length"), 0)
    await reader.readexactly(length)
    if any(line.lower() == "connection: close" for line in lines):
        raise ConnectionResetError("the server closed the connection")
    return int(lines[0].split()[1])


async def clients(port: int, count: int, done: asyncio.Event) -> list[tuple[float, int]]:
    """`count` clients, each asking again as soon as it has its answer, until `done`. One thread and an
    event loop: threads would add the interpreter lock's waits to the latencies measured."""
    async def one() -> list[tuple[float, int]]:
        seen: list[tuple[float, int]] = []
        connection = None
        while not done.is_set():
            started = time.perf_counter()
            try:
                connection = connection or await asyncio.open_connection("127.0.0.1", port)
                status = await ask(*connection)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0  # refused or dropped (a server that closes after an error): a failure
                if connection:
                    connection[1].close()
                connection = None
            seen.append((time.perf_counter() - started, status))
        if connection:
            connection[1].close()
        return seen

    return [x for part in await asyncio.gather(*(one() for _ in range(count))) for x in part]


def wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/incidents", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer within 120 s")


async def during_ingest(src: Path, ws: Path, more: Path, port: int, count: int) -> tuple[list, subprocess.Popen, float]:
    done = asyncio.Event()
    started = time.perf_counter()
    ingest = storewatch(src, "ingest", str(more), "--home", str(ws), "--json",
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    work = asyncio.ensure_future(clients(port, count, done))
    while ingest.poll() is None:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    done.set()
    return await work, ingest, elapsed


def measure(src: Path, home: Path, more: Path, count: int, work: Path) -> dict:
    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(home, ws, ignore=shutil.ignore_patterns("snapshots"))  # both start from the same store
    port = free_port()
    server = storewatch(src, "serve", "--home", str(ws), "--port", str(port),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, server)
        seen, ingest, elapsed = asyncio.run(during_ingest(src, ws, more, port, count))
    finally:
        server.terminate()
        server.wait(timeout=60)
    statuses = Counter(status for _, status in seen)
    latencies = sorted(seconds for seconds, status in seen if status == 200)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    error = ingest.stderr.read().strip().splitlines()[-1:] if ingest.returncode else []
    return {"requests": len(seen), "statuses": dict(statuses), "seconds": elapsed,
            "per_s": len(seen) / elapsed, "ok_per_s": statuses[200] / elapsed,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "ingest_rc": ingest.returncode, "ingest_error": error}


SNAPSHOT_COST = r"""
import json, shutil, statistics, sys, time
from pathlib import Path
from storewatch.store import db, reader, snapshot
from storewatch.workspace import Workspace
ws = Workspace.at(sys.argv[1])
with db.opened(ws) as con:
    publish = []
    for _ in range(5):
        t = time.perf_counter(); snapshot.publish(con, ws); publish.append(time.perf_counter() - t)
read = []
for _ in range(5):
    t = time.perf_counter(); reader.connect(ws).close(); read.append(time.perf_counter() - t)
size = snapshot.latest(ws).stat().st_size
print(json.dumps({"publish": statistics.median(publish), "read": statistics.median(read), "bytes": size}))
"""


def snapshot_cost(home: Path, work: Path) -> dict:
    """What a writer pays to publish a snapshot of the estate's tables, and a reader to take it (this checkout)."""
    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(home, ws)
    out = subprocess.run([sys.executable, "-c", SNAPSHOT_COST, str(ws)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="A workspace already ingested and detected (default: build one)")
    parser.add_argument("--more", type=Path, help="Estate to ingest during the measurement (default: simulate one)")
    parser.add_argument("--baseline", default="9448710")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="web-concurrency-"))
    try:
        home, more = prepare(work, args.home, args.more)
        cost = snapshot_cost(home, work)
        print(f"snapshot of the estate's tables: {cost['bytes'] / 1e6:.1f} MB, published in {cost['publish'] * 1000:.0f} ms, "
              f"taken by a reader in {cost['read'] * 1000:.0f} ms (medians of 5)", flush=True)
        variants = {f"main {args.baseline}": baseline_src(args.baseline, work), "this checkout": ROOT / "src"}
        results: dict[str, list[dict]] = {name: [] for name in variants}
        for r in range(args.rounds):
            order = list(variants) if r % 2 == 0 else list(variants)[::-1]
            for name in order:
                load = os.getloadavg()[0]
                result = measure(variants[name], home, more, args.clients, work)
                results[name].append(result)
                print(f"round {r + 1} {name}: load {load:.1f}, {result['requests']} requests in {result['seconds']:.1f} s "
                      f"({result['per_s']:.1f}/s), statuses {result['statuses']}, p50 {result['p50']:.1f} ms, "
                      f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, ingest exit {result['ingest_rc']} "
                      f"{' '.join(result['ingest_error'])}", flush=True)
        print(f"\n| variant | requests/s (200 only) | non-200 answers | p50 ms | p95 ms | p99 ms | ingest ok | ingest s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, rs in results.items():
            def med(key: str) -> str:
                values = [x[key] for x in rs]
                return f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})"
            errors = sum(n for x in rs for s, n in x["statuses"].items() if s != 200)
            total = sum(x["requests"] for x in rs)
            ok = sum(1 for x in rs if x["ingest_rc"] == 0)
            print(f"| {name} | {med('per_s')} ({med('ok_per_s')}) | {errors:,} of {total:,} | {med('p50')} | {med('p95')} | "
                  f"{med('p99')} | {ok} of {len(rs)} | {med('seconds')} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
