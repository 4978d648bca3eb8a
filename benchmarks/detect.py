"""Detection + correlation time and peak memory, and detection quality, on simulated estates.

    python benchmarks/detect.py                       # speed: 2 days at scale 1 and at 4x that
    python benchmarks/detect.py --quality --seeds 1,2,3,4,5   # recall / precision / FP per day per seed
    python benchmarks/detect.py --quality --seeds 21,22,23 --style shipped --profile varied --stores 1 --scale 0.02
    python benchmarks/detect.py --estates /work/estates   # reuse estates already simulated and ingested
    python benchmarks/detect.py --sigma sigma/rules --counts 0,500,1000,2000   # time with N user Sigma rules
    python benchmarks/detect.py --sigma sigma/rules --counts 0,1000 --baseline c0b137a   # ... against a revision
    python benchmarks/detect.py --sigma sigma/rules --repeat 1,4,16   # its Windows rules over 1x-16x the events
    python benchmarks/detect.py --sigma sigma --repeat 64 --counts 1000,4319 --baseline 9448710   # N rules

Ingest is not timed here (benchmarks/ingest.py does that); each `detect` runs in its own process so its
peak RSS is its own. Prints Markdown tables for docs/performance.md and docs/detection.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DETECT = r"""
import json, resource, sys, time
from pathlib import Path
from storewatch.detect.engine import detect, run_detections
from storewatch.detect.registry import load_user_rules
from storewatch.store import db
from storewatch.workspace import Workspace
ws = Workspace.at(Path(sys.argv[1]))
rules = Path(sys.argv[2]) if len(sys.argv) > 2 else None
t = time.perf_counter()
report = detect(ws, rules_dir=rules)
seconds = time.perf_counter() - t
with db.opened(ws) as con:
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    evaluation = None
    if rules is not None:  # the folder's rules evaluated alone, loading excluded: the Sigma evaluation time
        found, _ = load_user_rules(rules)
        t = time.perf_counter()
        run_detections(con, found)
        evaluation = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "events": events, "detections": report.detections, "alerts": report.alerts,
                  "incidents": report.incidents, "errors": report.errors, "evaluation": evaluation,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_json(*args: str, src: Path | None = None) -> dict:
    """A child's JSON report; `src` puts another tree's sources first on its path (a baseline revision)."""
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out[out.index("{"):] if out.lstrip().startswith("{") else out.strip().splitlines()[-1])


@dataclass(frozen=True)
class Kind:
    """What an estate is besides its seed and scale: days, shapes (style), habits (profile), stores."""

    days: int = 2
    style: str = "classic"
    profile: str = "classic"
    stores: int | None = None

    def name(self, seed: int, scale: float) -> str:
        name = f"seed{seed}" if (self.days, scale) == (2, 1.0) else f"seed{seed}-d{self.days}-x{scale}"
        extra = [x for x in (self.style, self.profile) if x != "classic"] + ([f"{self.stores}stores"] if self.stores else [])
        return "-".join([name, *extra])

    def options(self) -> list[str]:
        return ["--days", str(self.days), "--style", self.style, "--profile", self.profile] + (
            ["--stores", str(self.stores)] if self.stores else [])


def prepared(root: Path, seed: int, days: int, scale: float, reuse: Path | None,
             kind: Kind | None = None) -> tuple[Path, Path]:
    """(raw folder, fresh workspace copy) for an estate, simulating and ingesting it unless it can be reused."""
    kind = kind or Kind(days=days)
    name = kind.name(seed, scale)
    if reuse and (reuse / name / "done").exists():
        raw, ws = reuse / name / "raw", reuse / name / "ws"
    else:
        raw, ws = root / name / "raw", root / name / "ws"
        subprocess.run([sys.executable, "-m", "storewatch.cli", "simulate", "--out", str(raw), "--scale", str(scale),
                        "--seed", str(seed), *kind.options()], check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "storewatch.cli", "ingest", str(raw), "--home", str(ws), "--json"],
                       check=True, capture_output=True)
    work = root / name / "detect-ws"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ws, work)
    for stale in ("audit.jsonl",):
        (work / stale).unlink(missing_ok=True)
    return raw, work


def speed(root: Path, reuse: Path | None, scales: list[float]) -> None:
    print("| estate | events | detections | alerts | incidents | detect + correlate (s) | events/s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for scale in scales:
        _, ws = prepared(root, 1, 2, scale, reuse)
        r = run_json(sys.executable, "-c", DETECT, str(ws))
        print(f"| 2 days x{scale:g} | {r['events']:,} | {r['detections']} | {r['alerts']:,} | {r['incidents']:,} | "
              f"{r['seconds']:.1f} | {r['events'] / r['seconds']:,.0f} | {r['peak_rss_mb']:,.0f} |", flush=True)
        if r["errors"]:
            print(f"  errors: {r['errors']}", file=sys.stderr)


def sigma_rules(root: Path, reuse: Path | None, folder: Path, counts: list[int], baseline: str | None,
                rounds: int) -> None:
    """Detection time with the shipped detections plus N of a Sigma rule folder's loadable rules (SigmaHQ's,
    say), on the 2-day scale-1 estate: how evaluation grows with the number of rules. With a baseline
    revision, each count runs on it too, alternating with this tree, so that a shared machine's load falls
    on both; `rounds` times each, a row per run."""
    from storewatch.detect.sigma import load_rules

    loadable = []
    for path in sorted(folder.rglob("*.yml")):
        found, errors = load_rules([path])
        if found and not errors:
            loadable.append(path)
    print(f"{len(loadable)} loadable rules in {folder}", file=sys.stderr)
    trees = [("this tree", None)] + ([(baseline, baseline_src(baseline, root))] if baseline else [])
    print("| tree | user Sigma rules | detections | alerts | detect + correlate (s) | Sigma evaluation (s) | "
          "events of their log sources | their events/s | all events/s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in counts:
        rules = root / f"rules-{n}"
        shutil.rmtree(rules, ignore_errors=True)
        rules.mkdir()
        for i, p in enumerate(loadable[:n]):
            shutil.copy(p, rules / f"{i:05d}_{p.name}")
        _, ws = prepared(root, 1, 2, 1.0, reuse)
        selected = source_events(ws, rules)
        for name, src in trees * rounds:
            _, ws = prepared(root, 1, 2, 1.0, reuse)
            r = run_json(sys.executable, "-c", DETECT, str(ws), str(rules), src=src)
            took = r["evaluation"]
            rates = f"{selected / took:,.0f} | {r['events'] / took:,.0f}" if n else "- | -"
            print(f"| {name} | {min(n, len(loadable)):,} | {r['detections']:,} | {r['alerts']:,} | {r['seconds']:.1f} | "
                  f"{took:.1f} | {selected:,} | {rates} | {r['peak_rss_mb']:,.0f} |", flush=True)
            if any(e["source"].startswith(str(rules)) for e in r["errors"]):
                print(f"  {name}: {[e for e in r['errors'] if e['source'].startswith(str(rules))]}", file=sys.stderr)


THROUGHPUT = r"""
import dataclasses, hashlib, json, resource, statistics, sys, time
from pathlib import Path
import duckdb
from storewatch.detect.registry import load_user_rules
from storewatch.detect.sigma import alerts, mapping
from storewatch.store import db
from storewatch.workspace import Workspace
ws, folder, k, n, times = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
scope = f"({mapping.load().logsources['product']['windows']['where']})"
found, _ = load_user_rules(folder)
loaded = [d.batch.member for d in found if d.batch is not None and d.batch.member.source.scope == scope]
# Beyond the rules loaded, copies of them under other titles: each is evaluated on its own, as the original.
rules = [loaded[i] if i < len(loaded) else dataclasses.replace(
             loaded[i % len(loaded)], title=f"{loaded[i % len(loaded)].title} (copy {i // len(loaded)})")
         for i in range(n or len(loaded))]
with db.opened(Workspace.at(ws), read_only=True) as store:
    events = store.sql(f"SELECT * FROM events WHERE {scope}").to_arrow_table()
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.register("windows", events)
con.execute(f"CREATE TABLE events AS SELECT * REPLACE (event_id || '-' || r AS event_id) FROM windows, range({k}) t(r)")
con.unregister("windows")
del events
def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
runs = []
for _ in range(times):
    t, c = time.perf_counter(), cpu()
    results = alerts.run_matches(con, rules)
    runs.append((time.perf_counter() - t, cpu() - c))
errors = [str(r) for r in results if isinstance(r, Exception)]
# The alerts, for comparing trees: each rule's keys, times, counts and event ids (sample lists are unordered).
digest = hashlib.md5(repr(sorted((i, a["key"], str(a["first_seen"]), str(a["last_seen"]), a["event_count"],
                                  tuple(a["event_ids"])) for i, r in enumerate(results)
                                 if not isinstance(r, Exception) for a in r.to_pylist())).encode()).hexdigest()
print(json.dumps({"events": con.execute("SELECT count(*) FROM events").fetchall()[0][0], "rules": len(rules),
                  "loaded": len(loaded), "seconds": statistics.median(r[0] for r in runs),
                  "cpu_seconds": statistics.median(r[1] for r in runs),
                  "alerts": sum(r.num_rows for r in results if not isinstance(r, Exception)), "errors": errors[:3], "digest": digest[:8],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def windows_throughput(root: Path, reuse: Path | None, folder: Path, repeats: list[int], counts: list[int],
                       baseline: str | None, rounds: int, times: int) -> None:
    """Evaluation time of a folder's Windows rules as the Windows events grow: the scale-1 estate has too
    few of them to measure throughput, so they are repeated k times (new event ids) in an in-memory store,
    in a process of its own (its peak RSS is its own). `counts` takes the first N Windows rules (0: all);
    past the number loaded, copies of them under other titles. With a baseline revision, each run is
    followed by the same on it, `rounds` times; each run reports the median of `times` evaluations, in wall
    and CPU seconds (on a shared machine, CPU seconds say more of the work done than wall time)."""
    _, ws = prepared(root, 1, 2, 1.0, reuse)
    trees = [("this tree", None)] + ([(baseline, baseline_src(baseline, root))] if baseline else [])
    print(f"| tree | Windows rules | Windows events | alerts (digest) | Sigma evaluation (s), median of {times} | "
          "CPU (s) | events/s | event x rule tests /s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in counts:
        for k in repeats:
            for name, src in trees * rounds:
                r = run_json(sys.executable, "-c", THROUGHPUT, str(ws), str(folder), str(k), str(n), str(times),
                             src=src)
                took = r["seconds"]
                print(f"| {name} | {r['rules']:,} | {r['events']:,} | {r['alerts']:,} ({r['digest']}) | {took:.1f} | "
                      f"{r['cpu_seconds']:.1f} | "
                      f"{r['events'] / took:,.0f} | {r['events'] * r['rules'] / took / 1e6:,.0f} million | "
                      f"{r['peak_rss_mb']:,.0f} |", flush=True)
                if r["errors"]:
                    print(f"  {name}: errors {r['errors']}", file=sys.stderr)
    print(f"{r['loaded']} Windows rules loaded from {folder}", file=sys.stderr)


def source_events(ws: Path, rules: Path) -> int:
    """Events that at least one of the folder's single-event rules reads (of its log source)."""
    from storewatch.detect.registry import load_user_rules
    from storewatch.store import db
    from storewatch.workspace import Workspace

    found, _ = load_user_rules(rules)
    wheres = {d.batch.member.source.where for d in found if d.batch is not None}
    if not wheres:
        return 0
    with db.opened(Workspace.at(ws), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM events WHERE {' OR '.join(f'({w})' for w in wheres)}").fetchall()[0][0]


def baseline_src(rev: str, root: Path) -> Path:
    """The `src` folder of another revision of this repository, extracted under `root`."""
    into = root / f"baseline-{rev}"
    into.mkdir(exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def quality(root: Path, reuse: Path | None, seeds: list[int], scale: float = 1.0, kind: Kind = Kind()) -> None:
    """Recall, precision and false positives per day per seed, each estate simulated, ingested, detected and
    scored from scratch; false positives and alarms on benign look-alikes are listed on stderr."""
    size = (f"{kind.stores} store{'s' if kind.stores > 1 else ''}, x{scale:g}" if kind.stores else f"x{scale:g}")
    print("| style / profile | size | seed | events | labels | detected | recall | incidents | precision | "
          "FP incidents/day | critical in top | missed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    totals = {"labels": 0, "detected": 0, "fp": 0.0}
    for seed in seeds:
        raw, ws = prepared(root, seed, kind.days, scale, reuse, kind)
        d = run_json(sys.executable, "-c", DETECT, str(ws))
        r = run_json(sys.executable, "-m", "storewatch.cli", "evaluate", "--home", str(ws),
                     "--labels", str(raw / "labels.jsonl"), "--json")
        missed = [f"{name}" for name, s in r["per_scenario"].items() if s["missed"]]
        print(f"| {kind.style} / {kind.profile} | {size}, {kind.days} d | {seed} | {d['events']:,} | {r['labels']} | "
              f"{r['detected']} | {r['recall']:.2f} | {r['incidents']} | {r['precision'] or 0:.2f} | "
              f"{r['false_positives_per_day']} | {'yes' if r['critical_in_top'] else 'no'} | {', '.join(missed) or '-'} |",
              flush=True)
        for fp in r["false_positives"]:
            print(f"  seed {seed} false positive: {fp['id']} {fp['scenario']}: {fp['title']}", file=sys.stderr)
        for b in r["benign_alarms"]:
            print(f"  seed {seed} alarm on benign {b['scenario']} ({b['benign']}) by {b['incident']}", file=sys.stderr)
        totals["labels"] += r["labels"]
        totals["detected"] += r["detected"]
        totals["fp"] += r["false_positives_per_day"]
    print(f"| {kind.style} / {kind.profile} | {size}, {kind.days} d | all | | {totals['labels']} | {totals['detected']} | "
          f"{totals['detected'] / max(1, totals['labels']):.3f} | | | {totals['fp'] / len(seeds):.2f} (mean) | | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality", action="store_true", help="Score detection quality per seed instead of speed.")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--scales", default="1,4", help="Scales (2 days each) for the speed run.")
    ap.add_argument("--scale", type=float, default=1.0, help="Scale of the quality run's estates.")
    ap.add_argument("--days", type=int, default=2, help="Days of the quality run's estates.")
    ap.add_argument("--style", default="classic", help="Simulator style (shapes) of the quality run's estates.")
    ap.add_argument("--profile", default="classic", help="Simulator profile (business habits) of the quality run's estates.")
    ap.add_argument("--stores", type=int, help="Stores of the quality run's estates (default: from the scale).")
    ap.add_argument("--estates", type=Path, help="Folder of prepared estates (seedN/{raw,ws,done}) to reuse.")
    ap.add_argument("--sigma", type=Path, help="A Sigma rule folder: time detection with --counts of its rules.")
    ap.add_argument("--counts", help="Numbers of Sigma rules for --sigma (default 0,250,500,1000,2000; with "
                                     "--repeat, all its Windows rules; more than it has: copies).")
    ap.add_argument("--baseline", help="A git revision to time --sigma against too, alternating with this tree.")
    ap.add_argument("--rounds", type=int, default=1, help="Runs of each --sigma count (and baseline).")
    ap.add_argument("--times", type=int, default=3, help="With --repeat: evaluations per run (the median is shown).")
    ap.add_argument("--repeat", help="With --sigma: evaluate its Windows rules over the estate's Windows events "
                                     "repeated this many times (e.g. 1,4,16) instead.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-bench-detect-") as tmp:
        if args.sigma and args.repeat:
            windows_throughput(Path(tmp), args.estates, args.sigma, [int(k) for k in args.repeat.split(",")],
                               [int(c) for c in args.counts.split(",")] if args.counts else [0], args.baseline,
                               args.rounds, args.times)
        elif args.sigma:
            sigma_rules(Path(tmp), args.estates, args.sigma, [int(c) for c in (args.counts or "0,250,500,1000,2000").split(",")], args.baseline,
                        args.rounds)
        elif args.quality:
            quality(Path(tmp), args.estates, [int(s) for s in args.seeds.split(",")], args.scale,
                    Kind(args.days, args.style, args.profile, args.stores))
        else:
            speed(Path(tmp), args.estates, [float(s) for s in args.scales.split(",")])


if __name__ == "__main__":
    main()
