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
and `--clients` threads, each with its own keep-alive connection, ask `GET /api/incidents` again and
again until the ingest ends. Every answer's latency and status is kept; the ingest's exit code and
duration too. Prints per variant: requests, answers by status, requests/s, p50/p95/p99 of the answers,
and whether the ingest succeeded. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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


def get(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/api/incidents", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    response.read()
    return response.status


def wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped before answering")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if get(conn) == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer within 120 s")


def measure(src: Path, home: Path, more: Path, clients: int, work: Path) -> dict:
    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(home, ws, ignore=shutil.ignore_patterns("snapshots"))  # both start from the same store
    port = free_port()
    server = storewatch(src, "serve", "--home", str(ws), "--port", str(port),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, server)
        latencies: list[float] = []
        statuses: Counter = Counter()
        lock = threading.Lock()
        done = threading.Event()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine: list[tuple[float, int]] = []
            while not done.is_set():
                started = time.perf_counter()
                try:
                    status = get(conn)
                except (OSError, http.client.HTTPException):
                    status = 0  # connection refused or dropped: counted as a failure
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                mine.append((time.perf_counter() - started, status))
            conn.close()
            with lock:
                for seconds, status in mine:
                    statuses[status] += 1
                    if status == 200:
                        latencies.append(seconds)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        started = time.perf_counter()
        ingest = storewatch(src, "ingest", str(more), "--home", str(ws), "--json",
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for t in threads:
            t.start()
        _, ingest_err = ingest.communicate()
        elapsed = time.perf_counter() - started
        done.set()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=60)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": sum(statuses.values()), "statuses": dict(statuses), "seconds": elapsed,
            "per_s": sum(statuses.values()) / elapsed, "ok_per_s": statuses[200] / elapsed,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "ingest_rc": ingest.returncode, "ingest_error": ingest_err.strip().splitlines()[-1:] if ingest.returncode else []}


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
