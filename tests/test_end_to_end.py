"""Simulated estates (several seeds and sizes) ingest with every record accounted for and no PAN kept."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import db
from storewatch.workspace import Workspace


@pytest.mark.parametrize("seed,days,scale", [(3, 1, 0.03), (11, 2, 0.05)])
def test_simulated_estate_round_trip(tmp_path: Path, seed: int, days: int, scale: float) -> None:
    data = tmp_path / "estate"
    summary = simulate(data, days=days, scale=scale, seed=seed)
    ws = Workspace.at(tmp_path / "ws")
    report = ingest([data], ws)

    by_file = {Path(f.source_file).relative_to(data.resolve()).as_posix(): f for f in report.files}
    for rel, records in summary["files"].items():
        f = by_file[rel]
        assert f.source_format != "unknown", rel
        assert f.read == f.stored + f.quarantined + f.duplicates, rel
        if not rel.startswith("intel/"):
            assert f.read == records, rel
            assert f.quarantined == summary["malformed"].get(rel, 0), rel

    pans = (data / "pans.txt").read_text().split()
    assert pans and report.totals["pans_scrubbed"] >= len(pans)
    for path in ws.home.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not any(pan.encode() in blob for pan in pans), path

    labels = [orjson.loads(line) for line in (data / "labels.jsonl").read_text().splitlines()]
    with db.opened(ws) as con:
        for table in ("events", "quarantine"):  # segments are compressed: search the values too
            for pan in pans:
                digits = "".join(ch for ch in pan if ch.isdigit())
                found = con.execute(f"SELECT count(*) FROM {table} t "
                                    "WHERE strpos(regexp_replace(t::VARCHAR, '[ -]', '', 'g'), ?) > 0", [digits]).fetchall()
                assert found[0][0] == 0, (table, pan)
        for label in labels:
            for ent in label["entities"]:
                if ent["type"] in ("ip", "host", "store", "employee", "email"):
                    hits = con.execute("SELECT count(*) FROM event_entities WHERE entity_type = ? AND value = ?",
                                       [ent["type"], ent["value"]]).fetchone()[0]
                    assert hits > 0, (label["scenario"], ent)

    again = ingest([data], ws)
    assert again.totals["stored"] == 0 and again.totals["quarantined"] == 0
