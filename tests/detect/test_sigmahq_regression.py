"""SigmaHQ's own rules fire on SigmaHQ's own regression recordings (tests/data/real/sigmahq/).

Each case is a published rule with the Windows events SigmaHQ records to test it, as a raw `.evtx` and as
`evtx_dump` JSON. Each shape is ingested into a store of its own, every rule is loaded as a user would load
it (dropped into a rules folder), and each rule must raise an alert on its own recording, in both shapes.
This exercises, on real recordings, the evtx and JSON readers, the Windows field mapping and the Sigma
logsource mapping together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storewatch.detect.registry import load_user_rules
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

CASES = Path(__file__).resolve().parents[1] / "data" / "real" / "sigmahq"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture(scope="module", params=[".evtx", ".json"])
def fired(request, tmp_path_factory) -> tuple[str, dict[str, set[str]]]:
    """(shape, rule -> the recordings its alerts point at), one store per shape: the same event read from
    the .evtx and from its JSON is the same record, so one store would keep it once."""
    ws = Workspace.at(tmp_path_factory.mktemp("sigmahq") / "ws")
    files = [f for name in NAMES for f in sorted((CASES / name).iterdir()) if f.suffix == request.param]
    report = ingest(files, ws)
    assert all(f.stored > 0 for f in report.files), [(f.source_file, f.notes) for f in report.files if not f.stored]
    out: dict[str, set[str]] = {}
    with db.opened(ws) as con:
        for name in NAMES:
            rules, errors = load_user_rules(CASES / name)
            if errors or not rules:
                continue
            alerts = rules[0].query(con)
            ids = [i for row in alerts.column("event_ids").to_pylist() for i in row]
            hits = con.execute("SELECT DISTINCT source_file FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
                               [ids]).fetchall()
            out[name] = {Path(f).name for (f,) in hits}
    return request.param, out


@pytest.mark.parametrize("name", NAMES)
def test_rule_loads(name: str) -> None:
    rules, errors = load_user_rules(CASES / name)
    assert not errors and len(rules) == 1, errors


@pytest.mark.parametrize("name", NAMES)
def test_rule_fires_on_its_recording(fired, name: str) -> None:
    shape, hits = fired
    [recording] = [p.name for p in (CASES / name).iterdir() if p.suffix == shape]
    assert recording in hits.get(name, set()), f"{name} did not fire on its {shape} recording"
