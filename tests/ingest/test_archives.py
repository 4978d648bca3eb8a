"""Zip archives: every member read as a file of its own, compressed members too, damage reported by name."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

from tests.ingest.test_engine import accounted, nginx_lines


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_members_are_files_named_inside_the_archive(run, query, tmp_path: Path) -> None:
    auth = "Nov 16 03:00:01 web-01 sshd[11]: Failed password for root from 198.51.100.7 port 4242 ssh2\n"
    archive = make_zip(tmp_path / "export.bin", {  # the name says nothing: the magic number does
        "logs/access.log": nginx_lines(30).encode(),
        "logs/auth.log.gz": gzip.compress(auth.encode()),
        "__MACOSX/logs/._access.log": b"\x00\x05\x16\x07 resource fork",
        "logs/": b"",
    })
    report = run(archive)
    accounted(report)
    by_name = {f.source_file.rpartition("!")[2]: f for f in report.files}
    assert set(by_name) == {"logs/access.log", "logs/auth.log.gz"}
    assert all(f.source_file.startswith(str(archive.resolve()) + "!") for f in report.files)
    assert (by_name["logs/access.log"].source_format, by_name["logs/access.log"].stored) == ("nginx", 30)
    assert (by_name["logs/auth.log.gz"].source_format, by_name["logs/auth.log.gz"].stored) == ("linux_auth", 1)
    row = query("SELECT src_ip, outcome, source_file FROM events WHERE source_format = 'linux_auth'")[0]
    assert (row["src_ip"], row["outcome"]) == ("198.51.100.7", "failure") and row["source_file"].endswith("!logs/auth.log.gz")
    again = run(archive)  # the same archive read again adds nothing
    assert again.totals["stored"] == 0 and again.totals["duplicates"] == 31


def test_a_damaged_archive_is_reported_not_raised(run, tmp_path: Path) -> None:
    good = make_zip(tmp_path / "good.zip", {"a.log": nginx_lines(5).encode()})
    data = good.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    report = run(tmp_path / "cut.zip")
    accounted(report)
    [f] = report.files
    assert f.read == 0 and "zip" in "; ".join(f.notes).lower()
