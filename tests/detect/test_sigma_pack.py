"""The shipped Sigma pack on each rule's own test events (tests/data/rules/<rule>/).

Every rule has real-shaped events in the shapes Windows, Sysmon, the shippers, syslog and nginx write them
(evtx_dump JSON lines, Winlogbeat 8 documents, event XML, rsyslog and BSD auth.log lines, access-log lines):
`match*` files hold attacks the rule must raise an alert on, `nomatch*` files benign look-alikes it must
stay quiet on. All of them go through the real ingest into one store; each rule then runs over its own
files only. The alert must point at every match event and name the host (or, for web rules, the client
address) the raw record names, read here straight from the record, not from the store.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import orjson
import pytest
import yaml

from storewatch.detect import sigma
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.store.schema import create_table_sql
from storewatch.workspace import Workspace

CASES = Path(__file__).resolve().parents[1] / "data" / "rules"
RULES = {d.id.removeprefix("sigma."): d for d in sigma.detections()}
NAMES = sorted(RULES)
RULE_FILES = Path(sigma.__file__).parent / "rules"


def case_files(name: str, kind: str) -> list[Path]:
    return sorted(p for p in (CASES / name).iterdir() if p.name.split(".")[0].split("-")[0] == kind)


def raw_entity(path: Path, line: str) -> dict:
    """The entity an alert on this record must name, read off the raw record (not the store)."""
    if path.suffix == ".xml":
        return {"type": "host", "value": re.search(r"<Computer>([^<]+)</Computer>", line).group(1)}
    if path.suffix == ".jsonl":
        doc = orjson.loads(line)
        host = doc["Event"]["System"]["Computer"] if "Event" in doc else doc["winlog"]["computer_name"]
        return {"type": "host", "value": host}
    if line[0].isdigit() and " - - [" in line:  # access log: the client address
        return {"type": "ip", "value": line.split(" ", 1)[0]}
    fields = line.split()  # syslog: RFC 3339 stamp then host, or BSD "Mon dd hh:mm:ss host"
    return {"type": "host", "value": fields[1] if line[0].isdigit() else fields[3]}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Workspace:
    ws = Workspace.at(tmp_path_factory.mktemp("pack") / "ws")
    report = ingest([CASES], ws)
    assert report.files and all(f.stored == f.read > 0 for f in report.files), \
        [(f.source_file, f.read, f.stored, f.notes) for f in report.files if f.stored != f.read]
    return ws


def alerts_on(ws: Workspace, files: list[Path], rules: list) -> tuple[list[dict], dict[tuple[str, int], str]]:
    """Alerts of `rules` over a store holding only the events of `files`, and (file, line) -> event id."""
    with db.opened(ws, read_only=True) as con:
        rows = con.sql("SELECT * FROM events WHERE source_file IN (SELECT unnest(?::VARCHAR[]))",
                       params=[[str(f) for f in files]]).to_arrow_table()
    only = duckdb.connect()
    only.execute("SET TimeZone = 'UTC'")
    only.execute(create_table_sql("events"))
    only.execute("INSERT INTO events SELECT * FROM rows")
    alerts = [a | {"rule": r.id} for r in rules for a in r.query(only).to_pylist()]
    lines = dict(zip(zip(rows.column("source_file").to_pylist(), rows.column("source_line").to_pylist()),
                     rows.column("event_id").to_pylist()))
    return alerts, lines


def records(path: Path) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if line.strip()]


def test_every_shipped_rule_has_its_own_events() -> None:
    assert sorted(p.name for p in CASES.iterdir() if p.is_dir()) == NAMES
    for name in NAMES:
        assert case_files(name, "match") and case_files(name, "nomatch"), name


@pytest.mark.parametrize("name", NAMES)
def test_rule_fires_on_every_match_event_naming_its_host(store: Workspace, name: str) -> None:
    files = case_files(name, "match")
    alerts, event_of = alerts_on(store, files, [RULES[name]])
    assert alerts, f"{name} raised nothing on {[f.name for f in files]}"
    for path in files:
        for n, line in records(path):
            event = event_of[(str(path), n)]
            mine = [a for a in alerts if event in a["event_ids"]]
            assert mine, f"{name}: no alert on {path.name} line {n}"
            assert raw_entity(path, line) in mine[0]["entities"], (path.name, n, mine[0]["entities"])


@pytest.mark.parametrize("name", NAMES)
def test_rule_is_quiet_on_its_look_alikes(store: Workspace, name: str) -> None:
    files = case_files(name, "nomatch")
    hints = yaml.safe_load((RULE_FILES / f"{name}.yml").read_text()).get("storewatch") or {}
    need = hints.get("min_events", 1)
    if need > 1:  # a rule that needs several events per entity sees enough look-alikes of each to decide
        per_ip: dict[str, int] = {}
        for path in files:
            for _, line in records(path):
                ip = raw_entity(path, line)["value"]
                per_ip[ip] = per_ip.get(ip, 0) + 1
        assert min(per_ip.values()) >= need, per_ip
    alerts, _ = alerts_on(store, files, [RULES[name]])
    assert alerts == [], [(a["key"], orjson.loads(a["evidence"])) for a in alerts]


def test_no_shipped_rule_fires_on_any_look_alike(store: Workspace) -> None:
    """Each rule's look-alikes are benign: none of the other rules may take them for an attack either."""
    files = [f for name in NAMES for f in case_files(name, "nomatch")]
    alerts, _ = alerts_on(store, files, list(RULES.values()))
    assert alerts == [], [(a["rule"], a["key"]) for a in alerts]
