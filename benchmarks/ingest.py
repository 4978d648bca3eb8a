"""Ingest speed and memory on the simulated estate, beside DuckDB alone reading the same raw files.

    python benchmarks/ingest.py                   # 2 days at scale 1, plus scale 2 for memory growth
    python benchmarks/ingest.py --scales 1 --repeat 5 --data /path/to/estate
    python benchmarks/ingest.py --data /path/to/estate --per-folder    # CPU of each source folder alone
    python benchmarks/ingest.py --scales 1 --repeat 5 --baseline /path/to/old/checkout  # old code against this

The estate is simulated first, outside any measurement. Each measurement then runs in its own process,
so its peak RSS is that run's alone; only the `ingest()` call is timed (wall clock, and the CPU time of
all the process's threads), into a new workspace each time. Ingest runs `--repeat` times per estate and
the median is reported with the range: on a shared machine single runs vary by 10-15%. The 1-minute
load average before each run is printed too. DuckDB's native reading (below) runs once per round, beside
ingest, and the ratio is to its median. With `--per-folder`, each top-level folder of the estate is
ingested alone, in its own process, and the CPU seconds of each are reported (where the time goes, by source).
With `--baseline`, the runs alternate between that checkout's code and this one (its `src/` first on the
path), `--repeat` rounds on the same estate, so that both see the same load; each gets its own row, with
its CPU seconds and its events per CPU-second beside the wall-clock figures. On a shared machine the wall
clock follows the other load; CPU seconds move much less (but still some: caches and cores are shared).

Two DuckDB baselines read the same files in the same run:
- "lines": every file read line by line (`read_csv` with one VARCHAR column, `read_text` for XML) and
  the lines counted; the floor any ingest over the same bytes could reach;
- "native": every file read by DuckDB's own reader for its shape into a table (`read_json` for JSON
  lines and documents, `read_csv` for CSV and Zeek TSV, lines for text logs and XML, which DuckDB
  cannot parse), which is what "DuckDB reads about 1.5M JSON lines/s" measures.
Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THIS_SRC = Path(__file__).resolve().parents[1] / "src"  # this checkout's code
SKIP = ("labels.jsonl", "benign.jsonl", "pans.txt", "README.txt")

DUCKDB_READ = r"""
import duckdb, sys, json, time, resource
from pathlib import Path
mode = sys.argv[2]
files = sorted(p for p in Path(sys.argv[1]).rglob('*') if p.is_file() and p.name not in %r)
con = duckdb.connect()
LINES = ("SELECT count(*) FROM read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', "
         "escape='', auto_detect=false, max_line_size=268435456, ignore_errors=true, strict_mode=false)")
def native(p):
    head = p.open('rb').read(4096)
    head = head[2:] if head[:2] == b'\x1f\x8b' else head
    name = p.name.removesuffix('.gz')
    if name.endswith('.xml') or head.lstrip().startswith(b'<'):
        return None
    if name.endswith(('.jsonl', '.json')):
        return "CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_json(?, ignore_errors=true, maximum_object_size=268435456)"
    if name.endswith('.csv'):
        return "CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_csv(?, ignore_errors=true)"
    if head.startswith(b'#separator'):
        return "CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM read_csv(?, delim='\t', comment='#', header=false, ignore_errors=true)"
    return None
t = time.perf_counter(); rows = 0
for p in files:
    if mode == 'native' and (sql := native(p)):
        try:
            con.execute(sql, [str(p)]).fetchall()
            rows += con.execute("SELECT count(*) FROM t").fetchall()[0][0]
            continue
        except duckdb.Error:
            pass
    if p.suffix == '.xml':
        rows += con.execute("SELECT len(string_split(content, chr(10))) FROM read_text(?)", [str(p)]).fetchall()[0][0]
    else:
        rows += con.execute(LINES, [str(p)]).fetchall()[0][0]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""" % (SKIP,)

INGEST = r"""
import json, os, sys, time, resource
from pathlib import Path
from storewatch.ingest.engine import ingest
from storewatch.workspace import Workspace
data, home = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted(p for p in data.rglob('*') if p.is_file() and p.name not in %r)
if not files:
    sys.exit("no files to ingest in " + str(data))
load = os.getloadavg()[0]
t, cpu = time.perf_counter(), time.process_time()
report = ingest(files, Workspace.at(home))
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
store_mb = sum(p.stat().st_size for p in home.rglob('*') if p.is_file()) / 1e6
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "load": load, "store_mb": store_mb, **report.totals,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""" % (SKIP,)


def measure(code: str, *args: str, src: Path | None = None) -> dict:
    """Run a snippet in a fresh interpreter, which reports its own result and peak RSS as JSON; with `src`,
    that source folder comes first on the path (another checkout's storewatch)."""
    env = None
    if src is not None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                         env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--scales", default="1,2", help="Comma-separated scales.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="Ingest runs per estate (the median is reported).")
    ap.add_argument("--data", type=Path, help="Use this estate instead of simulating (one scale).")
    ap.add_argument("--per-folder", action="store_true", help="With --data: CPU seconds of each top-level folder alone.")
    ap.add_argument("--baseline", type=Path, help="A checkout whose code runs too, alternating with this one.")
    args = ap.parse_args()
    if args.per_folder:
        if not args.data:
            ap.error("--per-folder needs --data")
        per_folder(args.data, args.repeat)
        return

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
            lines = measure(DUCKDB_READ, str(data), "lines")
            natives = []
            codes = {"this tree": THIS_SRC} if args.baseline is None else {"baseline": args.baseline / "src", "this tree": THIS_SRC}
            runs = {code: [] for code in codes}
            for i in range(args.repeat):  # alternating, so that every code (and DuckDB) sees the same load
                natives.append(measure(DUCKDB_READ, str(data), "native"))
                for code, src in codes.items():
                    home = Path(tmp, f"home-{scale}-{i}-{code.replace(' ', '-')}")
                    runs[code].append(measure(INGEST, str(data), str(home), src=src))
            native = {"seconds": statistics.median(n["seconds"] for n in natives)}
            for code, its in runs.items():
                rows.append({"scale": scale, "code": code, "mb": size_mb(data), "lines": lines, "native": native, "runs": its})
                print(json.dumps(rows[-1]), file=sys.stderr)

    print(f"\nMachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; ingest: median of {args.repeat} runs "
          "(range in brackets)\n")
    print("| estate | code | raw MB | records read | DuckDB lines (s) | DuckDB native (s) | ingest (s) | ingest CPU (s) | "
          "events/s | events per CPU-s | ingest / DuckDB lines | ingest / DuckDB native | peak RSS (MB) | store MB | "
          "load before |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        runs = r["runs"]
        secs, cpus = [x["seconds"] for x in runs], [x["cpu_seconds"] for x in runs]
        med, cpu = statistics.median(secs), statistics.median(cpus)
        read = runs[0]["read"]
        label = f"{args.days} days, scale {r['scale']}" if r["scale"] is not None else str(args.data)
        print(f"| {label} | {r['code']} | {r['mb']:.0f} | {read:,} | {r['lines']['seconds']:.2f} | {r['native']['seconds']:.2f} | "
              f"{med:.2f} ({min(secs):.2f}-{max(secs):.2f}) | {cpu:.2f} ({min(cpus):.2f}-{max(cpus):.2f}) | "
              f"{read / med:,.0f} ({read / max(secs):,.0f}-{read / min(secs):,.0f}) | {read / cpu:,.0f} | "
              f"{med / r['lines']['seconds']:.1f}x | {med / r['native']['seconds']:.1f}x | "
              f"{max(x['peak_rss_mb'] for x in runs):.0f} | {statistics.median(x['store_mb'] for x in runs):.0f} | "
              f"{statistics.median(x['load'] for x in runs):.1f} |")


def per_folder(data: Path, repeat: int) -> None:
    """Each top-level folder of the estate ingested alone, `repeat` times: median CPU seconds and records."""
    folders = sorted(p for p in data.iterdir() if p.is_dir())
    print("| folder | records | ingest CPU (s) | range |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="sw-bench-") as tmp:
        for folder in folders:
            runs = [measure(INGEST, str(folder), str(Path(tmp, f"home-{folder.name}-{i}"))) for i in range(repeat)]
            cpu = [r["cpu_seconds"] for r in runs]
            print(f"| {folder.name} | {runs[0]['read']:,} | {statistics.median(cpu):.2f} | {min(cpu):.2f}-{max(cpu):.2f} |")
            print(json.dumps({"folder": folder.name, "runs": runs}), file=sys.stderr)


if __name__ == "__main__":
    main()
