"""A bad file is that file's problem: the others are read and accounted for, the bad one reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from storewatch import cli
from storewatch.ingest import engine
from tests.ingest.test_engine import accounted, nginx_lines

ZEEK = "#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n" \
       "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n1794787200.0\tC1\t10.0.0.1\t5\t10.0.0.2\t443\ttcp\n"


def by_name(report) -> dict[str, engine.FileReport]:
    return {Path(f.source_file).name: f for f in report.files}


def test_hostile_files_in_a_folder_cost_only_themselves(run, query, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(nginx_lines(5))
    (logs / "zeek_empty_sep.log").write_text("#separator \n" + ZEEK)
    (logs / "zeek_ok.log").write_text(ZEEK)
    os.symlink("loop_b", logs / "loop_a")
    os.symlink("loop_a", logs / "loop_b")
    (logs / os.fsdecode(b"caf\xe9.log")).write_text(nginx_lines(3, start=100))
    report = run(logs)
    accounted(report)
    files = by_name(report)
    assert (files["a.log"].stored, files["zeek_ok.log"].stored) == (5, 1)
    assert files["caf\\xe9.log"].stored == 3  # a name that is not UTF-8, reported with its odd byte written out
    bad = files["zeek_empty_sep.log"]
    assert (bad.read, bad.quarantined) == (1, 1)
    assert bad.notes == ["file not read to its end: ValueError: empty separator"]
    assert files["loop_a"].read == 0 and files["loop_a"].notes[0].startswith("symbolic link not followed: RuntimeError")
    reasons = {r["reason"] for r in query("SELECT reason FROM quarantine")}
    assert reasons == {"file not read to its end: ValueError: empty separator"}


def test_links_out_of_the_folder_are_not_followed_links_within_are(run, query, tmp_path: Path) -> None:
    secret = tmp_path / "outside.log"
    secret.write_text(nginx_lines(4, ip="198.51.100.77"))
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    (logs / "sub" / "b.log").write_text(nginx_lines(2))
    os.symlink(secret, logs / "passwd")
    os.symlink(logs / "sub" / "b.log", logs / "alias.log")  # inside: read (its records are duplicates)
    os.symlink(tmp_path, logs / "up")  # a folder link: not followed
    report = run(logs)
    accounted(report)
    files = by_name(report)
    assert files["passwd"].read == 0
    assert files["passwd"].notes == [f"symbolic link to a file outside the folder being read: not followed ({secret})"]
    assert files["up"].notes == ["symbolic link to a folder: not followed"]
    linked = [(f.read, f.stored, f.duplicates) for f in report.files if f.source_file.endswith("b.log")]
    assert sorted(linked) == [(2, 0, 2), (2, 2, 0)]  # the link, read under its target's name, and the file
    assert query("SELECT count(*) n FROM events WHERE src_ip = '198.51.100.77'")[0]["n"] == 0
    assert query("SELECT count(*) n FROM quarantine")[0]["n"] == 0


def test_an_unreadable_subfolder_is_reported(run, tmp_path: Path, monkeypatch) -> None:
    logs = tmp_path / "logs"
    (logs / "locked").mkdir(parents=True)
    (logs / "locked" / "x.log").write_text(nginx_lines(2))
    (logs / "a.log").write_text(nginx_lines(2, start=10))
    scandir = os.scandir

    def denied(path):  # as a folder of mode 000 behaves for anyone but root
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    report = run(logs)
    files = by_name(report)
    assert files["a.log"].stored == 2
    assert files["locked"].read == 0 and files["locked"].notes == ["folder not read: Permission denied"]


def test_a_file_failing_midway_keeps_what_it_gave_and_the_run_goes_on(run, query, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.log").write_text(nginx_lines(4))
    (tmp_path / "b.log").write_text(nginx_lines(3, start=50))
    original = engine._line_batches

    def breaking(stream, fmt):
        for table in original(stream, fmt):
            yield table
            if str(stream.path).endswith("a.log"):
                raise OSError(5, "Input/output error")

    monkeypatch.setattr(engine, "_line_batches", breaking)
    report = run(tmp_path)
    accounted(report)
    files = by_name(report)
    assert (files["a.log"].read, files["a.log"].stored, files["a.log"].quarantined) == (5, 4, 1)
    assert files["b.log"].stored == 3
    row = query("SELECT source_file, source_line, reason FROM quarantine")[0]
    assert row["reason"] == "file not read to its end: OSError: [Errno 5] Input/output error"
    assert (Path(row["source_file"]).name, row["source_line"]) == ("a.log", 5)


def test_no_traceback_reaches_the_user(tmp_path: Path, monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise KeyError("something no one foresaw")

    monkeypatch.setattr(cli, "run_ingest", broken)
    monkeypatch.delenv("STOREWATCH_DEBUG", raising=False)
    (tmp_path / "a.log").write_text(nginx_lines(1))
    monkeypatch.setattr(sys, "argv", ["storewatch", "ingest", str(tmp_path / "a.log"), "--home", str(tmp_path / "ws")])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "storewatch failed: KeyError: 'something no one foresaw'" in err
