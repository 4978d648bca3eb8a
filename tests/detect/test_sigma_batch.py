"""Sigma rules of one scope run together (`alerts.run_matches`) and raise exactly the alerts each raises alone.

Batched evaluation shares one read of the scope's events, one projection of every field the rules read,
and one query per log source for many rules; rule parameters are renamed so that they cannot collide, and
each rule keeps its own title, threshold and alerts. These tests compare the batched alerts with the rules
run one at a time, on SigmaHQ's real recordings and on simulated estates, and check that a rule failing at
run time fails alone.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest

from storewatch.detect import sigma
from storewatch.detect.detection import Batch, Detection
from storewatch.detect.engine import run_detections
from storewatch.detect.registry import load_user_rules
from storewatch.detect.sigma import alerts
from storewatch.detect.sigma.compiler import Compiled, projection
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

from .test_sigma import FAILED_SSH, SSH, events_db, web, write_rule

CASES = Path(__file__).resolve().parents[1] / "data" / "real" / "sigmahq"


def canonical(table: pa.Table) -> list[tuple]:
    """An alert table's rows, without what DuckDB leaves open: the order of a DISTINCT list, and which
    values a list capped at its length keeps (then only its length counts)."""
    def values(items: list, cap: int) -> object:
        return sorted(map(str, items)) if len(items) < cap else len(items)

    def evidence(text: str) -> str:
        doc = orjson.loads(text)
        return orjson.dumps({k: values(v, alerts.MAX_SAMPLES) if isinstance(v, list) else v for k, v in doc.items()},
                            option=orjson.OPT_SORT_KEYS).decode()

    def entities(items: list[dict]) -> list:
        kinds = sorted({e["type"] for e in items})
        return [(k, values([e["value"] for e in items if e["type"] == k], alerts.MAX_ENTITY_VALUES)) for k in kinds]

    return sorted((r["key"], r["first_seen"], r["last_seen"], r["event_count"], entities(r["entities"]),
                   evidence(r["evidence"]), tuple(r["event_ids"]), r["channel"], r["store_id"])
                  for r in table.to_pylist())


def rules_and_pack(tmp_path: Path) -> list[Detection]:
    """The shipped pack and the 41 SigmaHQ rules with recordings, each under its own name."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        shutil.copy(case / "rule.yml", folder / f"{case.name}.yml")
    found, errors = load_user_rules(folder)
    assert not errors, errors
    return sigma.detections() + found


def assert_batched_equals_alone(con: duckdb.DuckDBPyConnection, dets: list[Detection]) -> dict[str, list]:
    """Every scope's rules run batched give each rule the alerts it gets alone; returns them by rule."""
    alone = {d.id: canonical(d.query(con)) for d in dets}
    scopes: dict[object, list[Detection]] = {}
    for d in dets:
        scopes.setdefault(d.batch.key, []).append(d)
    assert len(scopes) < len(dets)  # rules do share scopes, so the batches hold several rules
    for members in scopes.values():
        results = alerts.run_matches(con, [d.batch.member for d in members])
        for d, result in zip(members, results):
            assert not isinstance(result, Exception), (d.id, result)
            assert canonical(result) == alone[d.id], d.id
    return alone


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Workspace:
    ws = Workspace.at(tmp_path_factory.mktemp("sigmahq-batch") / "ws")
    ingest(sorted(CASES.glob("*/*.json")), ws)
    return ws


@pytest.mark.parametrize("chunk", [alerts.CHUNK, 2])  # 2: a log source's rules take several queries
def test_batched_alerts_equal_each_rule_alone_on_real_recordings(recordings, tmp_path: Path, monkeypatch,
                                                                 chunk: int) -> None:
    monkeypatch.setattr(alerts, "CHUNK", chunk)
    dets = rules_and_pack(tmp_path)
    with db.opened(recordings) as con:
        alone = assert_batched_equals_alone(con, dets)
    fired = {i for i, rows in alone.items() if rows}
    # Each SigmaHQ rule fires on its own recording (test_sigmahq_regression), so here too.
    assert {p.name for p in CASES.iterdir() if p.is_dir()} <= {i.removeprefix("sigma.") for i in fired}


def test_batched_alerts_equal_each_rule_alone_on_an_estate(estate, tmp_path: Path) -> None:
    dets = rules_and_pack(tmp_path)
    with db.opened(estate.ws, read_only=True) as con:
        alone = assert_batched_equals_alone(con, dets)
    assert any(alone[d.id] for d in dets if d.scenario == "web_attack_scan")


def test_fields_of_the_json_attributes_are_read_in_one_extraction_and_equal_each_read_alone() -> None:
    def field(path: str, form: str = "lower({})") -> str:
        return form.format(f"CAST((json_extract_string(attributes, '{path}')) AS VARCHAR)")

    columns = {field("$.event_data.OriginalFileName"): "_sw0", field("$.event_data.OriginalFileName", "{}"): "_sw1",
               field('$.event_data."Company"'): "_sw2", field("$.event_data.Nested"): "_sw3",
               "lower(CAST((process_name) AS VARCHAR))": "_sw4"}
    rows = [{"attributes": orjson.dumps({"event_data": {"OriginalFileName": "PsExec.exe", "Company": "O'Brien Ltd",
                                                        "Nested": {"A": 1}}}).decode(), "process_name": "C:\\X.exe"},
            {"attributes": orjson.dumps({"event_data": {"Company": "Sysinternals"}}).decode()},
            {"attributes": "{}"}, {"process_name": "cmd.exe"}]
    con = events_db(rows)
    sql = projection(columns, "events", "event_id <> 'e9'")
    once = con.execute(f"{sql} ORDER BY _sw_id").fetchall()
    alone = con.execute(f"SELECT event_id, {', '.join(f'{c} AS {a}' for c, a in columns.items())} FROM events "
                        "ORDER BY event_id").fetchall()
    assert sql.count("json_extract_string") == 1  # the three paths, one extraction
    assert once == alone
    assert once[0] == ("e0", "psexec.exe", "PsExec.exe", "o'brien ltd", '{"a":1}', "c:\\x.exe")
    assert once[1:] == [("e1", None, None, "sysinternals", None, None), ("e2", None, None, None, None, None),
                        ("e3", None, None, None, None, "cmd.exe")]


def test_rules_of_a_batch_keep_their_own_title_and_threshold(tmp_path: Path) -> None:
    rows = [web(url_path="/admin.php", src_ip="203.0.113.9"), web(url_path="/admin.php", src_ip="203.0.113.9"),
            web(url_path="/wp-login.php", src_ip="198.51.100.4")]
    for name, value, extra in [("twice", "admin", "storewatch:\n  min_events: 2\n"),
                               ("thrice", "admin", "storewatch:\n  min_events: 3\n"),
                               ("login", "login", "")]:
        path = write_rule(tmp_path, f"sel:\n  cs-uri-stem|contains: {value}\ncondition: sel", name=name, extra=extra)
        path.write_text(path.read_text().replace("title: Test rule", f"title: Rule {name}"))
    dets, errors = load_user_rules(tmp_path)
    assert not errors and len({d.batch.key for d in dets}) == 1
    con = events_db(rows)
    results = dict(zip([d.id for d in dets], alerts.run_matches(con, [d.batch.member for d in dets])))
    assert results["sigma.thrice"].num_rows == 0
    [twice] = results["sigma.twice"].to_pylist()
    [login] = results["sigma.login"].to_pylist()
    assert (orjson.loads(twice["evidence"])["rule"], twice["event_count"], twice["key"]) == \
        ("Rule twice", 2, "ip:203.0.113.9|2026-11-16")
    assert (orjson.loads(login["evidence"])["rule"], login["event_ids"]) == ("Rule login", ["e2"])


def test_a_rule_failing_at_run_time_fails_alone(tmp_path: Path) -> None:
    for name, value in [("admin", "admin"), ("login", "login")]:
        write_rule(tmp_path, f"sel:\n  cs-uri-stem|contains: {value}\ncondition: sel", name=name)
    good, errors = load_user_rules(tmp_path)
    assert not errors
    # A condition DuckDB accepts but cannot evaluate on these events (a host name is no integer).
    broken = dataclasses.replace(good[0].batch.member, compiled=Compiled(
        where="CAST(_sw0 AS INTEGER) > 0", columns={"_sw0": "host"}))
    bad = dataclasses.replace(good[0], id="sigma.broken", query=lambda con: alerts.run_match(con, broken),
                              batch=dataclasses.replace(good[0].batch, member=broken))
    con = events_db([web(url_path="/admin", host="shop-1"), web(url_path="/login", host="shop-1")])
    dets = [good[0], bad, good[1]]
    _, counts, errs = run_detections(con, dets)
    assert [e["detection"] for e in errs] == ["sigma.broken"] and "Conversion Error" in errs[0]["error"]
    assert counts == {"sigma.admin": 1, "sigma.login": 1}
    results = alerts.run_matches(con, [d.batch.member for d in dets])
    assert isinstance(results[1], duckdb.Error)
    assert [canonical(results[i]) for i in (0, 2)] == [canonical(good[0].query(con)), canonical(good[1].query(con))]


def test_a_batch_that_fails_as_a_whole_runs_each_detection_alone() -> None:
    con = events_db([web(url_path="/x")])

    def refuse(con: duckdb.DuckDBPyConnection, members: list) -> list:
        raise duckdb.BinderException("the batch cannot run")

    def fine(con: duckdb.DuckDBPyConnection) -> pa.Table:
        return con.sql("SELECT 'k' AS key, min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count, "
                       "[] AS entities, '{}' AS evidence, list(event_id) AS event_ids FROM events").to_arrow_table()

    def broken(con: duckdb.DuckDBPyConnection) -> pa.Table:
        return con.sql("SELECT nope FROM events").to_arrow_table()

    batch = Batch(key="k", member=None, run=refuse)
    dets = [Detection(id=i, title=i, kind="sigma", scenario="s", severity="low", query=q, batch=batch)
            for i, q in [("a", fine), ("b", broken), ("c", fine)]]
    table, counts, errors = run_detections(con, dets)
    assert counts == {"a": 1, "c": 1} and [e["detection"] for e in errors] == ["b"]
    assert sorted(table.column("rule_id").to_pylist()) == ["a", "c"]


def test_correlations_build_on_rules_that_run_batched(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(FAILED_SSH)
    (tmp_path / "ok.yml").write_text(FAILED_SSH.replace("Failed SSH login", "SSH login").replace(
        "ssh_failed", "ssh_ok").replace("outcome: failure", "outcome: success"))
    (tmp_path / "corr.yml").write_text("title: Burst\nlevel: high\ncorrelation:\n  type: event_count\n"
                                       "  rules: [ssh_failed]\n  group-by: [src_ip]\n  timespan: 10m\n"
                                       "  generate: true\n  condition: {gte: 3}\n")
    dets, errors = load_user_rules(tmp_path)
    assert not errors and sorted(d.id for d in dets) == ["sigma.base", "sigma.corr", "sigma.ok"]
    rows = ([dict(SSH, src_ip="198.51.100.7", outcome="failure") for _ in range(3)]
            + [dict(SSH, src_ip="192.0.2.8", outcome="failure"), dict(SSH, src_ip="192.0.2.8", outcome="success")])
    table, counts, errors = run_detections(events_db(rows), dets)
    assert not errors and counts == {"sigma.base": 2, "sigma.corr": 1, "sigma.ok": 1}
    by_rule = {r: [a for a in table.to_pylist() if a["rule_id"] == r] for r in counts}
    assert sorted((orjson.loads(a["evidence"])["entity"], a["event_count"]) for a in by_rule["sigma.base"]) == \
        [("192.0.2.8", 1), ("198.51.100.7", 3)]
    [corr] = by_rule["sigma.corr"]
    assert corr["event_count"] == 3 and orjson.loads(corr["evidence"])["src_ip"] == "198.51.100.7"
