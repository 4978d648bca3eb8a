"""Learning from the analyst, measured: false-positive incidents per day and recall on held-out days, before
and after a simulated analyst's verdicts and exceptions (storewatch.learn.measure), across seeds.

    python benchmarks/learning.py --seeds 1,2,3 --days 4 --train-days 2 --scale 0.05

Prints a Markdown table for docs/learning.md and the full results as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from storewatch.learn.measure import measure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--train-days", type=int, default=2)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--mistakes", type=float, default=0.1, help="Probability the analyst's verdict is wrong.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-learning-") as tmp:
        results = [measure(Path(tmp), int(s), args.days, args.train_days, args.scale, args.mistakes)
                   for s in args.seeds.split(",")]
    if args.json:
        print(json.dumps(results, indent=2, default=str))
        return
    print("| seed | verdicts (wrong) | exceptions | FP incidents/day before → after | recall before → after "
          "| alerts closed | held-out attacks closed |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        b, a = r["before"], r["after"]
        print(f"| {r['seed']} | {sum(r['verdicts'].values())} ({r['wrong_verdicts']}) | "
              f"{'; '.join(e['condition'] for e in r['exceptions']) or 'none'} | "
              f"{b['false_positives_per_day']} → {a['false_positives_per_day']} | {b['recall']} → {a['recall']} | "
              f"{r['alerts_closed']} | {len(r['held_out_attacks_closed'])} |")


if __name__ == "__main__":
    main()
