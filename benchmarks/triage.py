"""Is the triage model worth it? Precision at the top 10 of the ranking, with and without it, on held-out days.

    python benchmarks/triage.py                       # incident streams with loud look-alikes, 20 seeds
    python benchmarks/triage.py --simulator 3,5       # plus simulated estates (simulate/ingest/detect)

Simulated analysts give verdicts with `--flips` of them wrong (default 10%, also run at 20%). The model
learns from the verdicts of the first days and ranks the incidents of the last two; precision at 10 is
measured against the truth, not against the analyst's noisy verdicts. Prints Markdown for docs/learning.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from storewatch.learn import triage  # noqa: E402
from storewatch.simulate import analyst  # noqa: E402

HELD_DAYS = 2


def measure(rows: list[dict], truth: list[int], labelled: int, seed: int, flips: float) -> tuple[float, float | None, dict]:
    """(P@10 by risk score, P@10 by the model or None when it defers, the verdict counts) on the
    incidents after `labelled`."""
    rows = [dict(r, verdict=None) for r in rows]
    for row, said in zip(rows[:labelled], analyst.verdicts(truth[:labelled], seed + 1000, flips)):
        row["verdict"] = said
    held = list(range(labelled, len(rows)))
    by_rule = triage.precision_at(triage.rule_order(rows, held), truth)
    if triage.deferral(triage.counts(rows)):
        return by_rule, None, triage.counts(rows)
    weights = triage.fit(rows, range(labelled))
    return by_rule, triage.precision_at(triage.model_order(rows, held, weights), truth), triage.counts(rows)


def streams(seeds: list[int], flips: float, days: int = 8, per_day: int = 14) -> list[str]:
    out = [f"| labelled days | risk score P@10 | triage model P@10 | seeds the model defers | flips |", "|---|---|---|---|---|"]
    for label_days in (1, 2, 4, days - HELD_DAYS):
        rule, model, deferred = [], [], 0
        for seed in seeds:
            rows, truth = analyst.incident_stream(seed, days, per_day)
            held_from = (days - HELD_DAYS) * per_day
            rows, truth = rows[:label_days * per_day] + rows[held_from:], truth[:label_days * per_day] + truth[held_from:]
            r, m, _ = measure(rows, truth, label_days * per_day, seed, flips)
            rule.append(r)
            model.append(m if m is not None else r)
            deferred += m is None
        out.append(f"| {label_days} | {statistics.mean(rule):.2f} (min {min(rule):.1f}) | "
                   f"{statistics.mean(model):.2f} (min {min(model):.1f}) | {deferred}/{len(seeds)} | {flips:.0%} |")
    return out


def simulator(seeds: list[int], flips: float, days: int = 4, scale: float = 0.05) -> list[str]:
    from storewatch.detect.engine import detect
    from storewatch.evaluate import matches, read_labels
    from storewatch.ingest.engine import ingest
    from storewatch.simulate import simulate
    from storewatch.store import reader
    from storewatch.workspace import Workspace

    out = ["| seed | incidents | true attacks | held-out incidents | risk score P@10 | triage model P@10 |",
           "|---|---|---|---|---|---|"]
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            simulate(Path(tmp) / "raw", days=days, scale=scale, seed=seed)
            ws = Workspace.at(Path(tmp) / "ws")
            ingest([Path(tmp) / "raw"], ws, tz="UTC")
            detect(ws)
            attacks = [lb for lb in read_labels(Path(tmp) / "raw" / "labels.jsonl") if lb["severity"] != "benign"]
            with reader.opened(ws) as con:
                rows = triage.incidents(con)
        truth = [int(any(matches({"first_seen": r["first_seen"], "last_seen": r["first_seen"] + timedelta(hours=1),
                                  "entities": [{"value": v} for v in r["values"]]}, lb) for lb in attacks)) for r in rows]
        last = max(r["first_seen"] for r in rows)
        labelled = sum(r["first_seen"] < last - timedelta(days=HELD_DAYS) for r in rows)
        r, m, said = measure(rows, truth, labelled, seed, flips)
        out.append(f"| {seed} | {len(rows)} | {sum(truth)} | {len(rows) - labelled} | {r} | "
                   f"{m if m is not None else 'defers ({true_positive} true-positive, {other} other verdicts)'.format(**said)} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default=",".join(str(s) for s in range(1, 21)))
    parser.add_argument("--simulator", default="", help="Seeds of simulated estates to run end to end too.")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    for flips in (0.1, 0.2):
        print("\n".join(streams(seeds, flips)), end="\n\n")
    if args.simulator:
        print("\n".join(simulator([int(s) for s in args.simulator.split(",")], 0.1)))


if __name__ == "__main__":
    main()
