"""Small hostile-input cases: damaged heads, DTDs, impossible UTC offsets, duplicate JSON keys."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from storewatch.ingest import sniff
from tests.ingest.test_engine import accounted, nginx_lines

WINDOWS_XML = Path(__file__).resolve().parents[1] / "data" / "real" / "windows" / "beats_sysmon_9.01_excerpt.xml"


def test_a_truncated_gzip_shorter_than_the_sniffed_head_is_still_sniffed(run, tmp_path: Path) -> None:
    data = gzip.compress(nginx_lines(300).encode())
    path = tmp_path / "access.log.gz"
    path.write_bytes(data[: len(data) * 2 // 3])  # about 16 KB of lines survive, far less than 64 KB
    report = run(path)
    accounted(report)
    f = report.files[0]
    assert f.source_format == "nginx"
    assert 50 < f.stored < 300 and f.quarantined <= 1
    assert any(n.startswith("stream ended early") for n in f.notes)


def test_a_doctype_is_refused_and_the_records_read(run, query, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-VALUE")
    text = WINDOWS_XML.read_text()
    doctype = (f'<!DOCTYPE Events [\n  <!ENTITY xxe SYSTEM "file://{secret}">\n'
               '  <!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n')
    path = tmp_path / "events.xml"
    path.write_text(doctype + text)
    report = run(path)
    accounted(report)
    assert (report.files[0].source_format, report.totals["stored"], report.totals["quarantined"]) == ("windows_xml", 6, 0)
    lines = [r["source_line"] for r in query("SELECT source_line FROM events ORDER BY 1")]
    assert lines[0] == doctype.count("\n") + 1 + text[: text.index("<Event")].count("\n")  # the file's own line numbers
    dump = json.dumps(query("SELECT * FROM events"), default=str)
    assert "TOPSECRET" not in dump


@pytest.mark.parametrize("offset,kept", [("+9999", False), ("+2500", False), ("-0575", False), ("+1400", True), ("-0530", True)])
def test_access_log_utc_offsets_no_zone_has_are_quarantined(run, query, tmp_path: Path, offset: str, kept: bool) -> None:
    path = tmp_path / "access.log"
    path.write_text(nginx_lines(2) + nginx_lines(1, start=5).replace("+0000", offset))
    report = run(path)
    accounted(report)
    assert (report.totals["stored"], report.totals["quarantined"]) == ((3, 0) if kept else (2, 1))
    if not kept:
        assert query("SELECT source_line, reason FROM quarantine") == [
            {"source_line": 3, "reason": "missing or unparseable timestamp"}]


@pytest.mark.parametrize("stamp,kept", [("2026-11-16T03:00:00+25:00", False), ("2026-11-16T03:00:00+9999", False),
                                        ("2026-11-16 03:00:00 +99", False), ("2026-11-16T03:00:00+05:75", False),
                                        ("2026-11-16T03:00:00+14:00", True), ("2026-11-16T03:00:00-05:00", True)])
def test_iso_utc_offsets_no_zone_has_are_quarantined(run, query, tmp_path: Path, stamp: str, kept: bool) -> None:
    path = tmp_path / "orders.jsonl"
    order = {"id": 1, "created_at": stamp, "total_price": "1.00", "line_items": []}
    path.write_text(json.dumps(order) + "\n" + json.dumps({**order, "id": 2, "created_at": "2026-11-16T03:00:00Z"}) + "\n")
    report = run(path)
    assert report.files[0].source_format == "shopify"
    assert (report.totals["stored"], report.totals["quarantined"]) == ((2, 0) if kept else (1, 1))


@pytest.mark.parametrize("line,path", [
    ('{"object": "event", "object": "charge", "id": "x"}', ("object",)),
    ('{"data": {"type": "a", "type": "b"}, "data": {"type": "c"}}', ("data", "type")),
    ('{"EventID": 4625, "EventID": 4624}', ("EventID",)),
])
def test_duplicate_keys_are_read_by_the_sniffer_as_the_mappings_read_them(line: str, path: tuple) -> None:
    mapped = duckdb.connect().execute(f"SELECT ?::JSON->>'$.{'.'.join(path)}'", [line]).fetchall()[0][0]
    assert str(sniff.json_value(line, *path)) == mapped
