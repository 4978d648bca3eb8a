"""Every record is accounted for, whatever the input does: duplicates, growth, damage, odd encodings."""

from __future__ import annotations

import dataclasses
import gc
import gzip
from pathlib import Path

import orjson
import pytest

from tests.conftest import SAMPLES

NGINX = '{ip} - - [16/Nov/2026:00:00:{s:02d} +0000] "GET /p/{i} HTTP/1.1" 200 {i} "-" "UA"\n'


def nginx_lines(n: int, start: int = 0, ip: str = "203.0.113.9") -> str:
    return "".join(NGINX.format(ip=ip, s=i % 60, i=i) for i in range(start, start + n))


def accounted(report) -> None:
    for f in report.files:
        assert f.read == f.stored + f.quarantined + f.duplicates, f
    t = report.totals
    assert t["read"] == t["stored"] + t["quarantined"] + t["duplicates"]


def test_samples_all_recognized_and_stored(run, query) -> None:
    report = run(SAMPLES)
    accounted(report)
    formats = {f.source_format for f in report.files}
    assert {"nginx", "auth0", "stripe", "shopify", "zeek_json", "windows", "onvif", "twitter",
            "linux_auth", "postgres", "people_counter"} <= formats
    assert report.totals["quarantined"] <= sum(f.read for f in report.files if f.source_format == "unknown")


def test_reingest_adds_nothing_and_counts_duplicates(run, query, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(nginx_lines(50))
    first = run(log)
    second = run(log)
    assert first.totals["stored"] == 50
    assert second.totals == {**second.totals, "read": 50, "stored": 0, "duplicates": 50}
    assert query("SELECT count(*) n FROM events")[0]["n"] == 50


def test_grown_file_adds_only_new_lines(run, query, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(nginx_lines(30))
    run(log)
    with log.open("a") as fh:
        fh.write(nginx_lines(20, start=30))
    report = run(log)
    assert (report.totals["stored"], report.totals["duplicates"]) == (20, 30)
    assert query("SELECT count(*) n FROM events")[0]["n"] == 50


def test_identical_lines_in_one_file_are_distinct_events(run, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    line = nginx_lines(1)
    log.write_text(line * 5)
    assert run(log).totals["stored"] == 5


def test_same_content_under_another_name_or_gzipped_is_a_duplicate(run, tmp_path: Path) -> None:
    text = nginx_lines(40)
    (tmp_path / "a.log").write_text(text)
    with gzip.open(tmp_path / "b.log.gz", "wt") as fh:
        fh.write(text)
    report = run(tmp_path / "a.log", tmp_path / "b.log.gz")
    assert [f.stored for f in report.files] == [40, 0]
    assert report.files[1].duplicates == 40


def test_a_copy_met_flushes_later_in_the_run_is_a_duplicate(run, query, tmp_path: Path, monkeypatch) -> None:
    """The run's own ids are remembered across flushes: with tiny flushes the copy, and the repeats of a
    line within one file (distinct events), are judged against what earlier flushes wrote."""
    monkeypatch.setattr("storewatch.ingest.engine.FLUSH_ROWS", 7)
    monkeypatch.setattr("storewatch.ingest.engine.MAP_ROWS", 5)
    text = nginx_lines(30) + nginx_lines(30)  # every line twice: repeats, not duplicates
    (tmp_path / "a.log").write_text(text)
    (tmp_path / "b.log").write_text(nginx_lines(10, start=25) + text)
    report = run(tmp_path / "a.log", tmp_path / "b.log")
    accounted(report)
    # b: lines 30-34 are new, and lines 25-29 come a third time (a.log has them twice)
    assert [(f.stored, f.duplicates) for f in report.files] == [(60, 0), (10, 60)]
    assert query("SELECT count(*) n, count(DISTINCT event_id) d FROM events")[0] == {"n": 70, "d": 70}


def test_a_mapping_kept_for_the_next_batches_maps_each_batch_from_its_own_lines(run, query, tmp_path: Path,
                                                                               monkeypatch) -> None:
    """A mapper keeps its mapping query and runs it again for every batch: each run reads the batch
    registered then, never the one it was made for."""
    monkeypatch.setattr("storewatch.ingest.engine.MAP_ROWS", 5)
    starts = {"a.log": 0, "b.log": 100, "c.log": 200, "d.log": 300}
    for name, start in starts.items():
        (tmp_path / name).write_text(nginx_lines(6, start=start, ip=f"198.51.100.{start // 100 + 1}"))
    report = run(tmp_path)
    accounted(report)
    rows = query("SELECT source_file, source_line, src_ip, url_path, bytes_in FROM events ORDER BY source_file, source_line")
    assert [(Path(r["source_file"]).name, r["source_line"], r["src_ip"], r["url_path"], r["bytes_in"]) for r in rows] == [
        (name, i + 1, f"198.51.100.{start // 100 + 1}", f"/p/{start + i}", start + i)
        for name, start in starts.items() for i in range(6)]


def test_truncated_gzip_keeps_what_was_readable(run, tmp_path: Path) -> None:
    blob = gzip.compress(nginx_lines(2000).encode())
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    report = run(path)
    accounted(report)
    f = report.files[0]
    assert f.source_format == "nginx" and f.stored > 100
    assert any("stream ended early" in n for n in f.notes)


def test_binary_and_unknown_files_are_quarantined_not_crashing(run, query, tmp_path: Path) -> None:
    (tmp_path / "image.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "notes.txt").write_text("dear diary\nnothing to see\n")
    (tmp_path / "cards.txt").write_text("4111111111111111\n5555555555554444\n")  # unknown, and kept scrubbed
    (tmp_path / "empty.log").write_text("")
    report = run(tmp_path)
    accounted(report)
    by_name = {Path(f.source_file).name: f for f in report.files}
    assert by_name["image.bin"].source_format == "binary" and by_name["image.bin"].quarantined == 1
    # an unknown file is one quarantined record holding its head, not one per line
    assert by_name["notes.txt"].source_format == "unknown" and (by_name["notes.txt"].read, by_name["notes.txt"].quarantined) == (1, 1)
    assert by_name["empty.log"].read == 0
    lines = query("SELECT source_line, reason, raw FROM quarantine WHERE source_file LIKE '%notes.txt' ORDER BY 1")
    assert [r["source_line"] for r in lines] == [1]
    assert lines[0]["reason"].startswith("format not recognized") and lines[0]["raw"] == "dear diary\nnothing to see\n"
    [cards] = query("SELECT raw FROM quarantine WHERE source_file LIKE '%cards.txt'")
    assert "4111111111111111" not in cards["raw"] and cards["raw"].count("[PAN:last4=") == 2
    assert by_name["cards.txt"].pans_scrubbed == 2


def test_malformed_lines_are_quarantined_with_line_numbers(run, query, tmp_path: Path) -> None:
    good = (SAMPLES / "auth" / "auth0.jsonl").read_text().splitlines()
    path = tmp_path / "auth0.jsonl"
    path.write_text("\n".join([good[0], '{"date": "2026-11-16T00:0', good[1], "", good[2],
                               good[3].replace("2026-11-16T00", "2026-13-45T99")]) + "\n")
    report = run(path)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == (3, 2)
    rows = query("SELECT source_line, reason FROM quarantine ORDER BY source_line")
    assert [r["source_line"] for r in rows] == [2, 6]
    assert rows[0]["reason"] == "invalid JSON"
    assert "timestamp" in rows[1]["reason"]


def test_json_lines_with_a_broken_first_line_are_still_json_lines(run, query, tmp_path: Path) -> None:
    good = (SAMPLES / "auth" / "auth0.jsonl").read_text().splitlines()
    path = tmp_path / "auth0.jsonl"
    path.write_text("\n".join(['{"date": "2026-11-16T00:0', *good[:4]]) + "\n")
    report = run(path)
    accounted(report)
    assert report.files[0].source_format == "auth0"
    assert (report.totals["stored"], report.totals["quarantined"]) == (4, 1)
    assert [r["source_line"] for r in query("SELECT source_line FROM quarantine")] == [1]


def test_ten_megabyte_line_is_quarantined_and_neighbours_stored(run, query, tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_text(nginx_lines(3) + "x" * (10 << 20) + "\n" + nginx_lines(3, start=3))
    report = run(path)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == (6, 1)
    assert query("SELECT length(raw) n, source_line FROM quarantine")[0] == {"n": 10 << 20, "source_line": 4}


def test_wrong_encodings_are_read(run, query, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.log"
    odd = NGINX.format(ip="198.51.100.1", s=5, i=7).replace("UA", "Ca\xf1on").encode("latin-1")
    latin.write_bytes(odd + nginx_lines(2).encode() + odd.replace(b"/p/7", b"/p/8").rstrip(b"\n"))  # last line unended
    utf16 = tmp_path / "utf16.log"
    utf16.write_bytes(nginx_lines(5, start=10, ip="198.51.100.2").encode("utf-16"))
    report = run(latin, utf16)
    accounted(report)
    assert [f.stored for f in report.files] == [4, 5]
    assert report.files[0].notes == ["2 lines were not UTF-8 and were read as Windows-1252"]
    assert query("SELECT user_agent FROM events WHERE src_ip = '198.51.100.1'")[0]["user_agent"] == "Ca\u00f1on"


def test_json_documents_are_unwrapped(run, query, tmp_path: Path) -> None:
    orders = [orjson.loads(line) for line in (SAMPLES / "orders" / "shopify_orders.jsonl").read_text().splitlines()]
    path = tmp_path / "orders.json"
    path.write_bytes(orjson.dumps({"orders": orders}, option=orjson.OPT_INDENT_2))
    report = run(path)
    assert report.files[0].source_format == "shopify+document"
    assert report.totals["stored"] == len(orders)
    assert query("SELECT count(DISTINCT email) n FROM events")[0]["n"] == len({o["email"] for o in orders})


def test_cli_json_report_and_exit_codes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from storewatch.cli import app

    (tmp_path / "a.log").write_text(nginx_lines(10) + "junk\n")
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "a.log"), "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["totals"] == {**out["totals"], "read": 11, "stored": 10, "quarantined": 1, "duplicates": 0}
    assert out["sources"][0]["read"] == 11 and out["sources"][0]["source_format"] == "nginx"
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = CliRunner().invoke(app, ["ingest", str(empty), "--home", str(home)])
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), result.exception
    assert "Nothing could be read" in result.output


def test_a_store_another_process_writes_is_refused_plainly(tmp_path: Path) -> None:
    """DuckDB lets one process write a store: the second gets a sentence saying so, not a traceback, and
    the reading it had already started stops."""
    import subprocess
    import sys

    import duckdb

    (tmp_path / "a.log").write_text(nginx_lines(10))
    home = tmp_path / "home"
    home.mkdir()
    holder = duckdb.connect(str(home / "storewatch.duckdb"))
    try:
        result = subprocess.run([sys.executable, "-m", "storewatch.cli", "ingest", str(tmp_path / "a.log"),
                                 "--home", str(home)], capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    assert result.returncode == 1
    assert "is in use by another process" in result.stderr and "--home" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout and "IOException" not in result.stderr


def test_many_small_runs_leave_few_segments_and_every_event_once(run, query, ws, tmp_path: Path) -> None:
    from storewatch.store import segments

    for i in range(segments.COMPACT_WHEN + 2):  # a log shipped every few minutes
        log = tmp_path / f"access-{i}.log"
        log.write_text(nginx_lines(30, start=i * 30))
        assert run(log).totals["stored"] == 30
    files = [p for p in segments.folder(ws).glob("*.parquet") if "-schema-" not in p.name]
    assert len(files) < segments.COMPACT_WHEN
    n = (segments.COMPACT_WHEN + 2) * 30
    assert query("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events") == [{"n": n, "d": n}]
    assert run(*sorted(tmp_path.glob("access-*.log"))).totals["duplicates"] == n


def test_a_mapping_that_drops_or_reorders_rows_is_matched_by_line(run, query, tmp_path: Path, monkeypatch) -> None:
    """Mappings are matched to their batch by position when they keep its order; one that reorders rows
    or drops some is matched by line number instead, and a line it dropped is quarantined, not lost."""
    from storewatch.ingest.formats import LINE_FORMATS

    at = next(i for i, f in enumerate(LINE_FORMATS) if f.name == "nginx")
    sql = "SELECT * FROM (\n" + LINE_FORMATS[at].sql + "\n) WHERE NOT contains(url_path, '/p/3') ORDER BY line_no DESC"
    formats = list(LINE_FORMATS)
    formats[at] = dataclasses.replace(formats[at], sql=sql)
    monkeypatch.setattr("storewatch.ingest.engine.LINE_FORMATS", formats)
    log = tmp_path / "a.log"
    log.write_text(nginx_lines(6))
    report = run(log)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == (5, 1)
    rows = query("SELECT source_line, url_path, bytes_in FROM events ORDER BY source_line")
    assert [(r["source_line"], r["url_path"], r["bytes_in"]) for r in rows] == [
        (i + 1, f"/p/{i}", i) for i in (0, 1, 2, 4, 5)]
    [bad] = query("SELECT source_line, reason, raw FROM quarantine")
    assert bad["source_line"] == 4 and bad["reason"] == "not recognized as nginx" and "/p/3 " in bad["raw"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_rows_are_sliced_or_filtered_to_the_same_result(seed: int) -> None:
    """The writer keeps rows by slicing their runs when there are few, by filtering when there are many:
    both give exactly the rows the mask selects, in order."""
    import numpy as np
    import pyarrow as pa

    from storewatch.ingest.engine import _rows

    rng = np.random.default_rng(seed)
    table = pa.table({"n": np.arange(1000), "s": [f"row {i}" for i in range(1000)]})
    for dropped in (0, 1, 5, 40, 300, 1000):
        mask = np.ones(1000, bool)
        mask[rng.choice(1000, dropped, replace=False)] = False
        expected = table.filter(pa.array(mask))
        for max_runs in (1, 64, 10_000):
            assert _rows(table, mask, max_runs).equals(expected)


def test_a_run_leaves_the_garbage_collector_as_it_found_it(run, tmp_path: Path) -> None:
    """Ingest keeps the collector off the process's older objects while it runs, and only then."""
    (tmp_path / "a.log").write_text(nginx_lines(3))
    assert gc.get_freeze_count() == 0
    assert run(tmp_path / "a.log").totals["stored"] == 3
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a process that freezes its own objects keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        run(tmp_path / "a.log")
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
