"""SigmaHQ's Zeek rules on real Zeek logs: the PetitPotam rule fires on the real capture of the attack
(Corelight's PetitPotam package, tests/data/real/zeek/) and only on its EFS call, not on the DRSUAPI calls
around it. The rule is SigmaHQ's, copied unchanged (DRL 1.1, tests/data/real/sigmahq/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from storewatch.detect.registry import load_user_rules
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def test_sigmahq_petitpotam_rule_fires_on_the_real_zeek_capture(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path / "ws")
    report = ingest([REAL / "zeek" / "dce_rpc.petitpotam.log"], ws)
    assert report.files[0].source_format == "zeek_tsv" and report.totals["stored"] >= 4
    rules, errors = load_user_rules(REAL / "sigmahq_zeek")
    assert not errors and len(rules) == 1
    with db.opened(ws) as con:
        [alert] = rules[0].query(con).to_pylist()
        ops = con.execute("SELECT attributes->>'$.operation' FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
                          [alert["event_ids"]]).fetchall()
    assert ops == [("EfsRpcOpenFileRaw",)]
    assert {"type": "ip", "value": "192.168.0.15"} in alert["entities"]
