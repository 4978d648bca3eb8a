"""Card-number scrubber throughput on the simulated estate, this tree's scrubber against another revision's.

    python benchmarks/scrubber.py                                  # against the parent commit, 7 rounds
    python benchmarks/scrubber.py --baseline ece017a --rounds 9 --data /tmp/scrub_est

Every file of the estate (simulated first if `--data` is not given: 1 day, scale 1, seed 3) is decompressed
into memory and cut into 16 MB blocks, as ingest reads them. Each round scrubs every block with a fresh
scrubber (its run cache starts empty, as in one ingest run), the baseline and this tree alternating so that
a shared machine's load falls on both. Prints MB/s (best and median of the rounds) and the number of card
numbers each replaced, for docs/sources/scrubber.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from storewatch.ingest import privacy  # noqa: E402
from storewatch.ingest.reader import open_raw  # noqa: E402

SKIP = ("labels.jsonl", "benign.jsonl", "pans.txt", "README.txt")
BLOCK = 16 << 20


def baseline_module(rev: str, into: Path):
    """privacy.py (and its data file, if it had one) at another revision, imported under another name."""
    for name in ("privacy.py", "card_networks.yml"):
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:src/storewatch/ingest/{name}"],
                               capture_output=True)
        if shown.returncode == 0:
            (into / name).write_bytes(shown.stdout)
    spec = importlib.util.spec_from_file_location("baseline_privacy", into / "privacy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks(estate: Path) -> list[bytearray]:
    out = []
    for path in sorted(p for p in estate.rglob("*") if p.is_file() and p.name not in SKIP):
        with open_raw(path) as fh:
            data = fh.read()
        out += [bytearray(data[i:i + BLOCK]) for i in range(0, len(data), BLOCK)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD~1", help="git revision of the scrubber to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data", type=Path, help="an estate written by `storewatch simulate`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        estate = args.data
        if estate is None:
            from storewatch.simulate import simulate

            estate = Path(tmp) / "estate"
            simulate(estate, days=1, scale=1, seed=3)
        data = blocks(estate)
        total = sum(map(len, data)) / 1e6
        (Path(tmp) / "base").mkdir()
        modules = {f"baseline ({args.baseline})": baseline_module(args.baseline, Path(tmp) / "base"),
                   "this tree": privacy}
        times: dict[str, list[float]] = {name: [] for name in modules}
        found: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, module in modules.items():
                scrub = module.make_scrubber(b"benchmark")
                start = time.perf_counter()
                found[name] = sum(scrub(block)[1] for block in data)
                times[name].append(time.perf_counter() - start)
    print(f"{total:.1f} MB in {len(data)} blocks, {args.rounds} rounds\n")
    print("| Scrubber | best | median | replaced |\n|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {total / min(ts):.0f} MB/s | {total / statistics.median(ts):.0f} MB/s | {found[name]} |")


if __name__ == "__main__":
    main()
