"""Detection + correlation time and peak memory, and detection quality, on simulated estates.

    python benchmarks/detect.py                       # speed: 2 days at scale 1 and at 4x that
    python benchmarks/detect.py --quality --seeds 1,2,3,4,5   # recall / precision / FP per day per seed
    python benchmarks/detect.py --quality --seeds 21,22,23 --style shipped --profile varied --stores 1 --scale 0.02
    python benchmarks/detect.py --estates /work/estates   # reuse estates already simulated and ingested
    python benchmarks/detect.py --sigma sigma/rules --counts 0,500,1000,2000   # time with N user Sigma rules

Ingest is not timed here (benchmarks/ingest.py does that); each `detect` runs in its own process so its
peak RSS is its own. Prints Markdown tables for docs/performance.md and docs/detection.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DETECT = r"""
import json, resource, sys, time
from pathlib import Path
from storewatch.detect.engine import detect
from storewatch.store import db
from storewatch.workspace import Workspace
ws = Workspace.at(Path(sys.argv[1]))
t = time.perf_counter()
report = detect(ws, rules_dir=Path(sys.argv[2]) if len(sys.argv) > 2 else None)
seconds = time.perf_counter() - t
with db.opened(ws) as con:
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
print(json.dumps({"seconds": seconds, "events": events, "detections": report.detections, "alerts": report.alerts,
                  "incidents": report.incidents, "errors": report.errors,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_json(*args: str) -> dict:
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
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


def sigma_rules(root: Path, reuse: Path | None, folder: Path, counts: list[int]) -> None:
    """Detection time with the shipped detections plus N of a Sigma rule folder's loadable rules (SigmaHQ's,
    say), on the 2-day scale-1 estate: how evaluation grows with the number of rules."""
    from storewatch.detect.sigma import load_rules

    loadable = []
    for path in sorted(folder.rglob("*.yml")):
        found, errors = load_rules([path])
        if found and not errors:
            loadable.append(path)
    print(f"{len(loadable)} loadable rules in {folder}", file=sys.stderr)
    print("| user Sigma rules | detections | events | alerts | detect + correlate (s) | added per 100 rules (s) | "
          "events x rules / s | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    for n in counts:
        _, ws = prepared(root, 1, 2, 1.0, reuse)
        rules = root / f"rules-{n}"
        shutil.rmtree(rules, ignore_errors=True)
        rules.mkdir()
        for i, p in enumerate(loadable[:n]):
            shutil.copy(p, rules / f"{i:05d}_{p.name}")
        r = run_json(sys.executable, "-c", DETECT, str(ws), str(rules))
        base = r["seconds"] if base is None else base
        per100 = (r["seconds"] - base) / n * 100 if n else 0.0
        rate = r["events"] * min(n, len(loadable)) / max(r["seconds"] - base, 1e-9) if n else 0
        print(f"| {min(n, len(loadable)):,} | {r['detections']:,} | {r['events']:,} | {r['alerts']:,} | {r['seconds']:.1f} | "
              f"{per100:.2f} | {rate:,.0f} | {r['peak_rss_mb']:,.0f} |", flush=True)


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
    ap.add_argument("--counts", default="0,250,500,1000,2000", help="Numbers of Sigma rules for --sigma.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-bench-detect-") as tmp:
        if args.sigma:
            sigma_rules(Path(tmp), args.estates, args.sigma, [int(c) for c in args.counts.split(",")])
        elif args.quality:
            quality(Path(tmp), args.estates, [int(s) for s in args.seeds.split(",")], args.scale,
                    Kind(args.days, args.style, args.profile, args.stores))
        else:
            speed(Path(tmp), args.estates, [float(s) for s in args.scales.split(",")])


if __name__ == "__main__":
    main()
