"""Peak memory of `storewatch ingest` stays under the documented ceiling whatever one file holds.

Each bomb is generated here (nothing large is committed) and read by a child process whose peak resident
set (`ru_maxrss`) is measured by a wrapper process of its own, so no other child of the test run counts.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storewatch.ingest import documents, reader

CEILING_MB = 1024  # docs/ingest.md, "Limits"
NGINX = '203.0.113.9 - - [16/Nov/2026:00:00:{s:02d} +0000] "GET /p/{i} HTTP/1.1" 200 1 "-" "UA"\n'

# Runs the command given in argv and prints the peak RSS (MB) of that child alone, then its stdout.
_WRAPPER = """
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
print(out.returncode)
sys.stdout.write(out.stdout)
sys.stderr.write(out.stderr)
"""


def ingest_peak(tmp_path: Path, path: Path) -> tuple[int, dict, str]:
    """(peak RSS in MB, the --json report, stderr) of `storewatch ingest path` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-c", "from storewatch.cli import main; main()", "ingest", str(path),
           "--home", str(tmp_path / "ws"), "--json"]
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, env=env, timeout=600)
    peak, code, report = done.stdout.split("\n", 2)
    assert code == "0", done.stderr
    return int(peak), json.loads(report), done.stderr


def nginx(n: int, start: int = 0) -> bytes:
    return "".join(NGINX.format(s=i % 60, i=i) for i in range(start, start + n)).encode()


def test_a_small_gzip_expanding_to_one_huge_line(tmp_path: Path) -> None:
    """1 MB of gzip, one line of 768 MiB between ordinary lines: before, the line was kept (in 256 MiB
    pieces, each a record) and ingest grew past 3.5 GB; now it is read past and quarantined by its head."""
    path = tmp_path / "access.log.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(nginx(20))
        fh.write(b'203.0.113.9 - - [16/Nov/2026:00:00:01 +0000] "GET /')
        block = b"A" * (1 << 20)
        for _ in range(768):
            fh.write(block)
        fh.write(b' HTTP/1.1" 200 1 "-" "UA"\n')
        fh.write(nginx(20, start=20))
    assert path.stat().st_size < 8 << 20
    peak, report, stderr = ingest_peak(tmp_path, path)
    assert peak < CEILING_MB, peak
    assert "Traceback" not in stderr
    source = report["sources"][0]
    assert (source["source_format"], source["read"], source["stored"], source["quarantined"]) == ("nginx", 41, 40, 1)


def test_a_json_document_past_the_size_limit_is_refused_with_its_reason(tmp_path: Path) -> None:
    """96 MiB of `[{"a":1},...]`: before, parsed whole (up to 1 GiB was allowed) and past 2 GB."""
    path = tmp_path / "export.json"
    item = b'{"a":1},'
    count = (96 << 20) // len(item)
    path.write_bytes(b"[" + item * count + b'{"a":1}]')
    peak, report, _ = ingest_peak(tmp_path, path)
    assert peak < CEILING_MB, peak
    source = report["sources"][0]
    assert (source["read"], source["stored"], source["quarantined"]) == (1, 0, 1)
    assert f"JSON document larger than {documents.MAX_DOCUMENT_BYTES >> 20} MiB" in source["notes"]


def test_a_json_document_of_too_many_values_within_the_size_limit(run, query, tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text("[" + ",".join(["{}"] * (documents.MAX_DOCUMENT_VALUES // 2 + 10)) + "]")
    report = run(path)
    assert (report.totals["read"], report.totals["quarantined"]) == (1, 1)
    reason = query("SELECT reason FROM quarantine")[0]["reason"]
    assert reason.startswith("JSON document of about 1,000,0") and "values, more than the 1,000,000" in reason


def test_a_document_nested_past_any_parser_is_one_quarantined_record(run, query, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    report = run(path)
    assert (report.totals["read"], report.totals["quarantined"]) == (1, 1)
    assert query("SELECT reason FROM quarantine")[0]["reason"].startswith("JSON document nested too deeply to read")


def test_json_records_of_no_known_format_are_one_record_not_one_each(run, query, tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    path.write_text("[" + ",".join(str(i) for i in range(50_000)) + "]")
    report = run(path)
    assert (report.files[0].source_format, report.totals["read"], report.totals["quarantined"]) == ("json-document", 1, 1)
    row = query("SELECT reason, raw FROM quarantine")[0]
    assert row["reason"] == "format not recognized: JSON records of no known format"
    assert row["raw"].startswith("0\n1\n2\n") and len(row["raw"]) <= 4096


@pytest.mark.parametrize("length", [reader.MAX_LINE_BYTES + 10, reader.MAX_LINE_BYTES + (20 << 20)])
def test_a_line_past_the_limit_is_quarantined_by_its_head_and_neighbours_stored(run, query, tmp_path: Path,
                                                                                  length: int) -> None:
    """Just past the limit (whole in one block) and far past it (read past): the same record."""
    path = tmp_path / "access.log"
    path.write_bytes(nginx(3) + b"x" * length + b"\n" + nginx(3, start=3))
    report = run(path)
    assert (report.totals["read"], report.totals["stored"], report.totals["quarantined"]) == (7, 6, 1)
    row = query("SELECT source_line, source_offset, reason, raw FROM quarantine")[0]
    assert (row["source_line"], row["source_offset"]) == (4, len(nginx(3)))
    assert row["reason"].startswith(f"line of {length:,} bytes, longer than the 32 MiB")
    assert row["raw"] == "x" * reader.LONG_LINE_HEAD
    lines = [r["source_line"] for r in query("SELECT source_line FROM events ORDER BY 1")]
    assert lines == [1, 2, 3, 5, 6, 7]


@pytest.mark.parametrize("tail", [100, 20 << 20])
def test_the_head_kept_of_a_long_line_holds_no_part_of_a_card_number(run, query, tmp_path: Path, tail: int) -> None:
    """The head is cut at 4 KB, possibly inside a card number: its trailing digits are dropped, since a
    card number cut in two is no longer recognized by the scrubber (both when the line ends in a block the
    reader holds, and when it is read past)."""
    path = tmp_path / "access.log"
    cut = "x" * (reader.LONG_LINE_HEAD - 9) + " "
    path.write_bytes(nginx(2) + (cut + "4111 1111 1111 1111 ").encode() + b"y" * (reader.MAX_LINE_BYTES + tail) + b"\n")
    report = run(path)
    assert (report.totals["stored"], report.totals["quarantined"]) == (2, 1)
    raw = query("SELECT raw FROM quarantine")[0]["raw"]
    assert raw.startswith(cut.strip()) and "4111" not in raw and len(raw) <= reader.LONG_LINE_HEAD
