"""Ingest speed and memory on the simulated estate, beside DuckDB alone reading the same raw files.

    python benchmarks/ingest.py                   # 2 days at scale 1, plus scale 2 for memory growth
    python benchmarks/ingest.py --scales 1 --data /path/to/estate

The estate is simulated first, outside any measurement. Each measurement then runs in its own process,
so its peak RSS is that run's alone; only the `ingest()` call is timed (wall clock, and the CPU time of
all the process's threads). The 1-minute load average before each ingest is printed too: on a shared
machine, other processes' load slows the run down. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DUCKDB_READ = r"""
import duckdb, sys, json, time
from pathlib import Path
files = [p for p in Path(sys.argv[1]).rglob('*') if p.is_file() and p.suffix not in ('.txt',) and p.name not in ('labels.jsonl', 'benign.jsonl')]
con = duckdb.connect()
t = time.perf_counter(); lines = 0
for p in files:
    if p.suffix == '.xml':
        lines += con.execute("SELECT len(string_split(content, chr(10))) FROM read_text(?)", [str(p)]).fetchone()[0]
    else:
        lines += con.execute("SELECT count(*) FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='', auto_detect=false, max_line_size=268435456, ignore_errors=true, strict_mode=false)", [str(p)]).fetchone()[0]
import resource
print(json.dumps({"seconds": time.perf_counter() - t, "lines": lines, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

INGEST = r"""
import json, os, sys, time
from pathlib import Path
from storewatch.ingest.engine import ingest
from storewatch.workspace import Workspace
data, home = Path(sys.argv[1]), Path(sys.argv[2])
files = [p for p in data.rglob('*') if p.is_file() and p.name not in ('labels.jsonl', 'benign.jsonl', 'pans.txt', 'README.txt')]
load = os.getloadavg()[0]
t, cpu = time.perf_counter(), time.process_time()
report = ingest(files, Workspace.at(home))
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
import resource
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "load": load, **report.totals,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, *args: str) -> dict:
    """Run a snippet in a fresh interpreter, which reports its own result and peak RSS as JSON."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--scales", default="1,2", help="Comma-separated scales.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, help="Use this estate instead of simulating (one scale).")
    args = ap.parse_args()

    from storewatch.simulate import simulate

    rows = []
    scales = [None] if args.data else [float(s) for s in args.scales.split(",")]
    with tempfile.TemporaryDirectory(prefix="sw-bench-") as tmp:
        estates = {scale: args.data or Path(tmp, f"estate-{scale}") for scale in scales}
        if not args.data:  # all estates first: simulating is not part of any measurement
            for scale, data in estates.items():
                t = time.perf_counter()
                simulate(data, days=args.days, scale=scale, seed=args.seed)
                print(f"simulated scale {scale} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        for scale, data in estates.items():
            duck = measure(DUCKDB_READ, str(data))
            ing = measure(INGEST, str(data), str(Path(tmp, f"home-{scale}")))
            rows.append({"scale": scale, "mb": size_mb(data), "duck": duck, "ingest": ing})
            print(json.dumps(rows[-1]), file=sys.stderr)

    print(f"\nMachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| estate | raw MB | records read | DuckDB raw read (s) | ingest (s) | ingest CPU (s) | events/s | ingest / DuckDB | peak RSS (MB) | load before |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        i, d = r["ingest"], r["duck"]
        label = f"{args.days} days, scale {r['scale']}" if r["scale"] is not None else str(args.data)
        print(f"| {label} | {r['mb']:.0f} | {i['read']:,} | {d['seconds']:.2f} | {i['seconds']:.1f} | {i['cpu_seconds']:.1f} | "
              f"{i['read'] / i['seconds']:,.0f} | {i['seconds'] / d['seconds']:.1f}x | {i['peak_rss_mb']:.0f} | {i['load']:.1f} |")


if __name__ == "__main__":
    main()
