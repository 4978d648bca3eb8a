"""Records the vectorized mapping cannot map cost the batch a bounded number of queries, not one each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storewatch.ingest import engine
from storewatch.store import db
from tests.ingest.test_engine import accounted

STRIPE = {"object": "event", "type": "charge.succeeded",
          "data": {"object": {"object": "charge", "amount": 100, "currency": "usd", "status": "succeeded"}}}
ZEEK_HEAD = ("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
             "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n")


@pytest.fixture
def queries(monkeypatch) -> list[int]:
    """The mapping queries that ran (their batch sizes)."""
    calls: list[int] = []
    original = engine._Writer._run

    def counted(self, con, batch, fmt, mapping, name):
        if mapping is fmt.sql:  # not the query that quarantines a failed slice
            calls.append(batch.num_rows)
        return original(self, con, batch, fmt, mapping, name)

    monkeypatch.setattr(engine._Writer, "_run", counted)
    return calls


def stripe_lines(created: list) -> str:
    return "".join(json.dumps({**STRIPE, "id": f"evt_{i}", "created": c}) + "\n" for i, c in enumerate(created))


@pytest.mark.parametrize("hostile", [1e20, -1e20, 1e300, "1e20", "inf", "nan", "99999999999999999999"])
def test_epochs_no_timestamp_can_hold_are_quarantined_in_one_query(run, query, queries, tmp_path: Path, hostile) -> None:
    good = 1794787200
    path = tmp_path / "stripe.jsonl"
    path.write_text(stripe_lines([good, hostile] * 100))
    report = run(path)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == (100, 100)
    assert len(queries) == 1  # the batch mapped at once: nothing had to be isolated
    reasons = query("SELECT DISTINCT reason FROM quarantine")
    assert reasons == [{"reason": "missing or unparseable timestamp"}]
    assert {r["n"] for r in query("SELECT epoch(time)::BIGINT n FROM events")} == {good}


def test_zeek_and_syslog_epochs_out_of_range(run, query, queries, tmp_path: Path) -> None:
    (tmp_path / "conn.log").write_text(ZEEK_HEAD + "".join(
        f"{ts}\tC{i}\t10.0.0.1\t5000\t10.0.0.2\t443\ttcp\n" for i, ts in enumerate(["1e20", "1794787200.5"] * 50)))
    (tmp_path / "journal.jsonl").write_text("".join(
        json.dumps({"__REALTIME_TIMESTAMP": ts, "_HOSTNAME": "web-01", "SYSLOG_IDENTIFIER": "sshd", "_PID": "7",
                    "MESSAGE": f"Failed password for root from 192.0.2.{i % 200} port 22 ssh2"}) + "\n"
        for i, ts in enumerate(["9" * 30, "1794787200000000"] * 50)))
    report = run(tmp_path)
    accounted(report)
    assert {f.source_format: (f.stored, f.quarantined) for f in report.files} == {
        "zeek_tsv": (50, 50), "linux_auth": (50, 50)}
    assert len(queries) == 2  # one per file
    assert query("SELECT DISTINCT reason FROM quarantine") == [{"reason": "missing or unparseable timestamp"}]


def test_a_mapping_raising_on_many_records_isolates_a_few_then_quarantines_slices(run, query, queries, tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """With epochs mapped by a raising function again (as any future mapping might), 300 hostile records
    among 300 good ones cost the batch at most ISOLATION_QUERIES queries more (plus the last slices'),
    not two per record; every record is still accounted for and each good one stored or quarantined."""
    raising = "CREATE OR REPLACE TEMP MACRO sw_epoch(x) AS to_timestamp(try_cast(x AS DOUBLE))"
    monkeypatch.setattr(db, "MACROS", (*db.MACROS, raising))
    path = tmp_path / "stripe.jsonl"
    path.write_text(stripe_lines([1794787200, 1e20] * 300))
    report = run(path)
    accounted(report)
    assert report.totals["read"] == 600
    # the batch, the budget, then one query per slice left on the halving's stack (two per level of 600 rows)
    assert len(queries) <= 1 + engine.ISOLATION_QUERIES + 2 * 10
    reasons = [r["reason"] for r in query("SELECT reason FROM quarantine")]
    assert all(r.startswith("mapping failed: stripe: Conversion Error") for r in reasons)
    assert any("not told apart" in r for r in reasons)
    stored = query("SELECT DISTINCT epoch(time)::BIGINT n FROM events")
    assert stored in ([], [{"n": 1794787200}])


def test_one_raising_record_is_isolated_and_its_neighbours_stored(run, query, queries, tmp_path: Path,
                                                                  monkeypatch) -> None:
    raising = "CREATE OR REPLACE TEMP MACRO sw_epoch(x) AS to_timestamp(try_cast(x AS DOUBLE))"
    monkeypatch.setattr(db, "MACROS", (*db.MACROS, raising))
    path = tmp_path / "stripe.jsonl"
    path.write_text(stripe_lines([1794787200] * 500 + [1e20] + [1794787201] * 499))
    report = run(path)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == (999, 1)
    row = query("SELECT source_line, reason FROM quarantine")[0]
    assert row["source_line"] == 501 and "not told apart" not in row["reason"]
    assert row["reason"].startswith("mapping failed: stripe: Conversion Error")
