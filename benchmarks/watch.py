"""`storewatch watch` fed a simulated estate as a live stream: latency, sustained rate, memory.

    python benchmarks/watch.py                                  # 2,000 ev/s for 180 s, scale-1 one-day estate
    python benchmarks/watch.py --rate 5000 --seconds 60 --rotate 20
    python benchmarks/watch.py --burst                          # also: the rate it drains a backlog at
    python benchmarks/watch.py --window 1h                      # detection over the last hour of event time

Setup, not measured: a one-day estate is simulated (`--scale`, seed 7); its line files (web, auth, network,
endpoint JSON lines, payments, orders, social; not the POSLog and camera documents, not the multi-line
PostgreSQL log) are replayed.

Live stream: `storewatch watch` runs on an empty folder (detection on, window 24 h); a writer appends the
estate's lines to files of the same names at `--rate` lines per second, in ticks of 0.1 s, each file in
proportion to its size, and rotates every file every `--rotate` seconds (rename to `.1`, the previous
`.1` deleted, a new file started), as logrotate does. Writing stops after `--seconds`; the run ends when
watch has read every line written (or 120 s later).

Latency of a line: from its write to the end of the first pass that read it, detected and published a
read snapshot; at that moment any incident the line makes or grows is visible to `incidents`, `status`
and the dashboard. The watch's JSON log gives each pass's end and the records it read; lines are
counted in write order (watch reads every file to its end at each look, so a pass that read up to the
k-th record written has read the first k). A reader (`storewatch.store.reader`) is also opened every
second during the run: it must never fail, and the incidents it sees are reported.

Sustained rate: the backlog (lines written, not yet read) sampled every second; a rate is sustained when
the backlog does not grow over the run (its last quarter is no higher than its second). With `--burst`,
the whole estate is written at once into a fresh workspace and the rate watch drains it at is reported
(with and without detection): the ceiling a live stream can approach.

Memory: the watch process's RSS (VmRSS), sampled every second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE_FILES = ("web/access.log", "web/admin-access.log", "linux/auth.log", "network/conn.log",
              "network/dc_conn.log", "auth/auth0.jsonl", "endpoint/sysmon.jsonl", "payments/stripe_events.jsonl",
              "orders/shopify_orders.jsonl", "social/posts.jsonl")


def storewatch(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-m", "storewatch.cli", *args], env=env, **kw)


def records(path: Path) -> list[bytes]:
    """The file's lines that are records (zeek's `#` header lines and blank lines are not)."""
    return [ln for ln in path.read_bytes().splitlines(keepends=True) if ln.strip() and not ln.startswith(b"#")]


def headers(path: Path) -> bytes:
    return b"".join(ln for ln in path.read_bytes().splitlines(keepends=True) if ln.startswith(b"#"))


def rss_mb(pid: int) -> float:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def passes(log: Path) -> list[dict]:
    if not log.exists():
        return []
    out = []
    for row in log.read_text().splitlines():
        try:
            event = json.loads(row)
        except ValueError:
            continue  # a line being written
        if event["event"] == "pass":
            out.append(event)
    return out


def stream(estate: Path, work: Path, rate: int, seconds: float, rotate: float, window: str) -> dict:
    home, watched, log = work / "home", work / "watched", work / "watch.jsonl"
    watched.mkdir()
    files = {name: records(estate / name) for name in LINE_FILES if (estate / name).exists()}
    total_lines = sum(map(len, files.values()))
    share = {name: len(lines) / total_lines for name, lines in files.items()}
    head = {name: headers(estate / name) for name in files}
    watch = storewatch("watch", str(watched), "--home", str(home), "--log-file", str(log), "--log-json",
                       "--interval", "0.2", "--window", window, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    written: list[tuple[float, int]] = []  # (time, lines written so far), per tick
    samples: list[tuple[float, float, int, int, int]] = []  # (t, rss, written, read, incidents seen)
    reader_failures: list[str] = []
    done = threading.Event()

    def sample() -> None:
        from storewatch.store import reader
        from storewatch.workspace import Workspace
        ws = Workspace.at(home)
        while not done.is_set():
            seen = 0
            try:
                if any((home / "snapshots").glob("*.duckdb")):  # (a new store: before watch's first snapshot,
                    # a reader is told to retry, see docs/operations.md)
                    with reader.opened(ws) as con:
                        seen = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
            except Exception as exc:  # what the contract forbids: counted and shown
                reader_failures.append(f"{exc.__class__.__name__}: {exc}")
            read = sum(p["read"] for p in passes(log))
            samples.append((time.monotonic(), rss_mb(watch.pid), written[-1][1] if written else 0, read, seen))
            done.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    time.sleep(3)  # watch starting (imports, rules): not part of the stream
    start = time.monotonic()
    sampler.start()
    taken = {name: 0 for name in files}
    count, last_rotation, tick = 0, start, 0
    wall_start = time.time()
    while (now := time.monotonic()) - start < seconds:
        if now - last_rotation >= rotate:
            for name in files:
                live = watched / name
                if live.exists():
                    old = live.with_name(live.name + ".1")
                    old.unlink(missing_ok=True)
                    live.rename(old)
            last_rotation = now
        due = int((now - start) * rate)
        for name, lines in files.items():
            want = min(int(due * share[name]) - taken[name], len(lines) - taken[name])
            if want <= 0:
                continue
            path = watched / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as fh:
                if fh.tell() == 0:
                    fh.write(head[name])
                fh.writelines(lines[taken[name]:taken[name] + want])
            taken[name] += want
            count += want
        written.append((time.time(), count))
        tick += 1
        time.sleep(max(start + tick * 0.1 - time.monotonic(), 0))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(p["read"] for p in passes(log)) < count:
        time.sleep(0.5)
    time.sleep(2)
    done.set()
    sampler.join()
    watch.send_signal(signal.SIGTERM)
    exit_code = watch.wait(120)
    return summarize(written, passes(log), samples, reader_failures, exit_code, rate, seconds, wall_start)


def summarize(written, all_passes, samples, reader_failures, exit_code, rate, seconds, wall_start) -> dict:
    """Per-line latencies from the write log and the pass log (see the module's docstring)."""
    ends, cumulative = [], 0
    for p in all_passes:
        cumulative += p["read"]
        ends.append((_epoch(p["ts"]), cumulative))
    latencies, previous = [], 0
    i = 0
    for t, upto in written:  # the lines of a tick were written at t
        n = upto - previous
        previous = upto
        while i < len(ends) and ends[i][1] < upto:
            i += 1
        if n and i < len(ends):
            latencies += [ends[i][0] - t] * n
    latencies.sort()
    q = lambda f: round(latencies[min(int(f * len(latencies)), len(latencies) - 1)], 2) if latencies else None
    backlog = [w - r for _, _, w, r, _ in samples]
    quarter = max(len(backlog) // 4, 1)
    rss = [s[1] for s in samples if s[1]]
    detect = [p.get("detect_seconds", 0) for p in all_passes if "detect_seconds" in p]
    return {
        "rate": rate, "seconds": seconds, "lines": written[-1][1] if written else 0,
        "read": sum(p["read"] for p in all_passes), "passes": len(all_passes),
        "latency_p50": q(0.50), "latency_p95": q(0.95), "latency_p99": q(0.99),
        "pass_seconds_median": round(statistics.median(p["seconds"] for p in all_passes), 2) if all_passes else None,
        "detect_seconds_median": round(statistics.median(detect), 2) if detect else None,
        "backlog_second_quarter": max(backlog[quarter:2 * quarter], default=0),
        "backlog_last_quarter": max(backlog[-quarter:], default=0),
        "rss_mb_first": round(rss[min(3, len(rss) - 1)], 1) if rss else None,
        "rss_mb_last": round(rss[-1], 1) if rss else None, "rss_mb_max": round(max(rss), 1) if rss else None,
        "incidents_seen": samples[-1][4] if samples else 0, "reader_failures": len(reader_failures),
        "reader_failure_examples": reader_failures[:3], "watch_exit": exit_code,
        "rss_series": [round(s[1]) for s in samples[::10]],
    }


def _epoch(ts: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(ts).timestamp()


def burst(estate: Path, work: Path, detect: bool) -> dict:
    """The whole estate's line files at once: how fast watch drains them."""
    home, watched, log = work / "home", work / "watched", work / "watch.jsonl"
    lines = 0
    for name in LINE_FILES:
        if (estate / name).exists():
            (watched / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(estate / name, watched / name)
            lines += len(records(estate / name))
    watch = storewatch("watch", str(watched), "--home", str(home), "--log-file", str(log), "--log-json",
                       "--interval", "0.2", *(() if detect else ("--no-detect",)),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline and sum(p["read"] for p in passes(log)) < lines:
        time.sleep(0.5)
    watch.send_signal(signal.SIGTERM)
    watch.wait(300)
    ps = passes(log)
    span = _epoch(ps[-1]["ts"]) - (_epoch(ps[0]["ts"]) - ps[0]["seconds"]) if ps else 0
    return {"detect": detect, "lines": lines, "read": sum(p["read"] for p in ps), "passes": len(ps),
            "seconds": round(span, 1), "events_per_second": round(sum(p["read"] for p in ps) / span) if span else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--rotate", type=float, default=60)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--window", default="24h", help="watch's detection window (event time)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-watch-bench-") as tmp:
        work = Path(tmp)
        estate = work / "estate"
        print(f"simulating a one-day estate at scale {args.scale} (not measured)...", flush=True)
        sim = storewatch("simulate", "--out", str(estate), "--days", "1", "--scale", str(args.scale), "--seed", "7",
                         stdout=subprocess.DEVNULL)
        if sim.wait():
            sys.exit("simulate failed")
        (work / "live").mkdir()
        result = stream(estate, work / "live", args.rate, args.seconds, args.rotate, args.window)
        print(json.dumps(result, indent=2), flush=True)
        if args.burst:
            for detect in (False, True):
                (work / f"burst-{detect}").mkdir()
                print(json.dumps(burst(estate, work / f"burst-{detect}", detect), indent=2), flush=True)


if __name__ == "__main__":
    main()
