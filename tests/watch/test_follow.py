"""`watch` follows files as tail -F does: growth, partial lines, rotation by rename and by copy-truncate,
compressed rotations, multi-line records, restarts, files that vanish or cannot be read."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from storewatch.ingest import engine
from storewatch.store import reader
from storewatch.watch import checkpoints, follow
from storewatch.watch.session import Options, Watch


def line(n: int, path: str | None = None) -> str:
    return (f'203.0.113.{n % 250 + 1} - - [16/Nov/2026:10:{n // 60 % 60:02d}:{n % 60:02d} +0000] '
            f'"GET {path or f"/item/{n}"} HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n')


def write(path: Path, text: str, mode: str = "a") -> None:
    with open(path, mode) as fh:
        fh.write(text)


class Passes:
    """One look and pass at a time (a fresh process each time, as after a restart), with the log kept."""

    def __init__(self, ws, paths, **options):
        self.ws, self.paths, self.events = ws, paths, []
        self.options = {"quiet": 0.0, "detect": False, **options}

    def __call__(self):
        def log(event, **fields):
            self.events.append((event, fields))
        return Watch(self.ws, self.paths, Options(once=True, **self.options), log).run()


@pytest.fixture
def logs(tmp_path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


def first_pass(ws, folder: Path, name: str, text: str, **options) -> tuple[Path, Passes]:
    """A file written into the followed folder, and a first pass over it."""
    log = folder / name
    write(log, text)
    step = Passes(ws, [folder], **options)
    step()
    return log, step


def stored(ws, where: str = "true") -> list[tuple]:
    with reader.opened(ws) as con:
        return con.execute(f"SELECT url_path, source_line, source_file FROM events WHERE {where} "
                           "ORDER BY url_path, source_file").fetchall()


def paths_of(ws) -> list[str]:
    return sorted(r[0] for r in stored(ws))


def test_appended_lines_are_read_once_and_a_partial_line_waits(ws, logs):
    log, step = first_pass(ws, logs, "access.log", line(1) + line(2) + line(3)[:30])
    assert paths_of(ws) == ["/item/1", "/item/2"]
    write(log, line(3)[30:] + line(4))
    step()
    step()  # nothing new: nothing read again
    assert paths_of(ws) == ["/item/1", "/item/2", "/item/3", "/item/4"]
    assert [r[1] for r in sorted(stored(ws))] == [1, 2, 3, 4]  # line numbers go on across reads
    with reader.opened(ws) as con:
        run = con.execute("SELECT read, stored, quarantined, duplicates FROM ingest_runs ORDER BY run_id").fetchall()
    assert sum(r[0] for r in run) == 4 and sum(r[1] for r in run) == 4


def test_repeated_lines_get_the_ids_a_whole_read_gives(ws, logs):
    """Identical lines are distinct records (their occurrence number in the file), across reads and
    restarts; the ids are those `ingest` gives the whole file, so ingesting it afterwards adds nothing."""
    same = line(7, "/same")
    log, step = first_pass(ws, logs, "access.log", same + same + line(1))
    write(log, same + line(2) + same)
    step()
    assert paths_of(ws).count("/same") == 4
    report = engine.ingest([log], ws)
    assert report.totals["stored"] == 0 and report.totals["duplicates"] == 6


def test_rotation_by_rename_keeps_reading_the_renamed_file(ws, logs):
    log, step = first_pass(ws, logs, "access.log", line(1) + line(2))
    write(log, line(3))
    log.rename(logs / "access.log.1")  # logrotate's rename; the server writes on into the old file
    write(logs / "access.log.1", line(4))
    write(log, line(5))  # ... then reopens the new one
    step()
    assert paths_of(ws) == [f"/item/{n}" for n in (1, 2, 3, 4, 5)]
    assert any(e == "file_renamed" for e, _ in step.events)
    # compressed later: read once, its records already stored, and not read again
    with open(logs / "access.log.1", "rb") as src, gzip.open(logs / "access.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (logs / "access.log.1").unlink()
    step()
    step()
    assert paths_of(ws) == [f"/item/{n}" for n in (1, 2, 3, 4, 5)]
    with reader.opened(ws) as con:
        gz = con.execute("SELECT sum(read), sum(duplicates), sum(stored) FROM ingest_files "
                         "WHERE source_file LIKE '%.gz'").fetchone()
    assert gz == (4, 4, 0)  # read once (the second pass read nothing), every record a duplicate


def test_copy_truncate_loses_nothing_written_before_the_copy(ws, logs):
    log, step = first_pass(ws, logs, "app.log", line(1) + line(2))
    write(log, line(3))  # written after the last look, before logrotate's copy
    shutil.copy(log, logs / "app.log.1")
    with open(log, "r+") as fh:
        fh.truncate(0)
    write(log, line(4))
    step()
    assert paths_of(ws) == [f"/item/{n}" for n in (1, 2, 3, 4)]
    assert any(e == "file_restarted" and f["reason"] == "truncated" for e, f in step.events)


def test_a_restart_resumes_from_the_checkpoint_and_a_crash_before_commit_doubles_nothing(ws, logs, monkeypatch):
    log, step = first_pass(ws, logs, "access.log", line(1) + line(1) + line(2))
    write(log, line(3) + line(1))

    def crash(*_):  # the events of the pass are in place, its checkpoint never commits
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        step()
    monkeypatch.undo()
    step()  # reads lines 4-5 again: the store keeps one copy, by their ids
    assert paths_of(ws) == ["/item/1", "/item/1", "/item/1", "/item/2", "/item/3"]
    assert sorted(r[1] for r in stored(ws)) == [1, 2, 3, 4, 5]
    with reader.opened(ws) as con:
        cp = con.execute('SELECT "offset", line_no, hashes FROM watch_files').fetchall()
    assert cp == [(log.stat().st_size, 6, 5)]


def test_multi_line_records_are_not_split_between_reads(ws, logs):
    first = "2026-11-16 00:40:11.409 UTC [40175] shop_app@shopdb LOG:  statement: SELECT id\n"
    log, step = first_pass(ws, logs, "postgresql.log", first + "\tFROM customers\n", quiet=3600.0)
    with reader.opened(ws) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # the record may still grow
    write(log, "\tWHERE id = 1\n" + "2026-11-16 00:41:00.000 UTC [40176] shop_app@shopdb LOG:  statement: SELECT 1\n")
    step()
    with reader.opened(ws) as con:
        rows = con.execute("SELECT source_line, query FROM events").fetchall()
    assert len(rows) == 1 and rows[0][0] == 1 and rows[0][1].endswith("FROM customers\nWHERE id = 1")
    Passes(ws, [logs], quiet=0.0)()  # quiet: the last record is complete
    with reader.opened(ws) as con:
        assert sorted(r[0] for r in con.execute("SELECT source_line FROM events").fetchall()) == [1, 4]


def test_a_file_that_vanishes_or_cannot_be_read_is_counted_not_fatal(ws, logs, monkeypatch):
    write(logs / "access.log", line(1))
    write(logs / "secret.log", line(2))
    ghost = logs / "ghost.log"
    listed = engine.expand

    def with_ghost(paths, skip=None):  # listed, then gone before it is looked at
        return [*listed(paths, skip), ghost]

    def denied(path, *a, **k):
        if Path(path).resolve().name == "secret.log":
            return b"", "unreadable: [Errno 13] Permission denied"
        return real_head(path, *a, **k)

    real_head = follow.read_head
    monkeypatch.setattr(engine, "expand", with_ghost)
    monkeypatch.setattr(follow, "read_head", denied)
    step = Passes(ws, [logs])
    totals = step()
    assert paths_of(ws) == ["/item/1"]
    assert totals.problems == {"vanished": 1, "unreadable": 1}
    problems = {f["problem"]: f["path"] for e, f in step.events if e == "file_problem"}
    assert problems == {"vanished": str(ghost), "unreadable": str(logs / "secret.log")}
    monkeypatch.undo()
    os.remove(logs / "access.log")  # deleted after it was read: forgotten, no error
    Passes(ws, [logs])()
    assert paths_of(ws) == ["/item/1", "/item/2"]


def test_the_workspace_inbox_is_followed(ws, tmp_path):
    inbox = ws.home / "inbox" / "syslog"
    inbox.mkdir(parents=True)
    write(inbox / "0001.log", line(9))
    Passes(ws, [])()
    assert paths_of(ws) == ["/item/9"]
