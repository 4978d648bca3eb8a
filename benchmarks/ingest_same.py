"""Does a change to ingest keep its output? Ingest the same files with two checkouts and compare what
each stored: every event (all columns), every quarantined record and every file report.

    python benchmarks/ingest_same.py --base /path/to/old/checkout --data estate1 --data tests/data/real

Speed work on the mappings must not move a single field. Each checkout ingests into a new workspace in its
own process (its `src/` first on the path), with one token key for both, so that scrubbed card numbers
compare too; the stores are then exported ordered by `event_id` and compared both ways with `EXCEPT ALL`.
Prints the differing rows, if any, and exits non-zero then.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

EXPORT = r"""
import sys
from pathlib import Path
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace
home, out, data = Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
ws = Workspace.at(home)
ingest(data, ws)
with db.opened(ws, read_only=True) as con:
    for name, sql in {
        "events": "SELECT * FROM events",
        "quarantine": "SELECT * EXCLUDE (run_id, quarantined_at) FROM quarantine",
        "files": "SELECT * EXCLUDE (run_id) FROM ingest_files",
    }.items():
        con.execute(f"COPY ({sql} ORDER BY ALL) TO '{out / name}.parquet' (FORMAT parquet)")
"""

TABLES = ("events", "quarantine", "files")


def export(checkout: Path, data: list[Path], tmp: Path, label: str) -> Path:
    """Ingest `data` with the code of `checkout` into a new workspace; the stored tables as Parquet."""
    out = tmp / label
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "STOREWATCH_TOKEN_KEY": "ingest-same-key"}
    subprocess.run([sys.executable, "-c", EXPORT, str(tmp / f"home-{label}"), str(out), *map(str, data)],
                   check=True, env=env)
    return out


def compare(base: Path, new: Path, shown: int) -> int:
    """Rows of each table that only one side has, printed; how many in all."""
    con = duckdb.connect()
    differing = 0
    for table in TABLES:
        a, b = f"read_parquet('{base / table}.parquet')", f"read_parquet('{new / table}.parquet')"
        rows = con.execute(f"SELECT count(*) FROM {a}").fetchone()[0]
        only = {side: con.execute(f"SELECT * FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y}) ORDER BY ALL")
                .fetchall() for side, x, y in (("base", a, b), ("new", b, a))}
        print(f"{table}: {rows:,} rows; only in base {len(only['base'])}, only in new {len(only['new'])}")
        for side, diff in only.items():
            for row in diff[:shown]:
                print(f"  {side}: {row}")
        differing += len(only["base"]) + len(only["new"])
    return differing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="Checkout whose output is the reference.")
    ap.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1], help="Checkout to check (this one).")
    ap.add_argument("--data", type=Path, action="append", required=True, help="File or folder to ingest (repeatable).")
    ap.add_argument("--show", type=int, default=5, help="Differing rows shown per table and side.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-same-") as tmp:
        base = export(args.base, args.data, Path(tmp), "base")
        new = export(args.new, args.data, Path(tmp), "new")
        differing = compare(base, new, args.show)
    print("identical" if not differing else f"{differing} rows differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
