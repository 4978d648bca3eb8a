"""Following files and folders the way `tail -F` does: what each file gained since the last look.

Every look (`Follower.look`) lists the paths (folders recursively, new files included), recognizes each
file by its identity (`checkpoints.Checkpoint`: device, inode, fingerprint of its head) and plans what to
read:

- a file read line by line (a line format, plain text) is read from its checkpoint to the end of its last
  complete line; a partial last line waits until it ends. For formats whose records span lines
  (PostgreSQL), the last record waits until the next one starts or the file has been quiet for `quiet`
  seconds, so a record is not split between two reads;
- a renamed file (rotation by rename) keeps its identity and is read on from its checkpoint under its new
  name; a file that shrank or whose head changed (copy-truncate, a reused inode) starts again from 0,
  and its copy is a new file whose records are duplicates of those already stored, except those written
  between the last look and the copy, which are thereby not lost;
- any other file (compressed rotations, documents, files of no line format) is read whole once it has
  been quiet for `quiet` seconds, and again only if it changes: a compressed rotated file is read once,
  and its records, already stored from the plain file, are dropped as duplicates.

A file that vanishes or cannot be read is a counted, logged problem, never an error of the watch.
Reads are bounded by `budget` bytes per look, so memory stays flat whatever a file gained meanwhile.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pyarrow as pa

from storewatch.ingest import engine
from storewatch.ingest.formats.base import Format
from storewatch.ingest.reader import HEAD_BYTES, MAX_LINE_BYTES, line_batch, read_head
from storewatch.watch import checkpoints
from storewatch.watch.checkpoints import Checkpoint
from storewatch.workspace import Workspace

BUDGET_BYTES = 16 << 20  # read per look, over all files: a file that gained more is read on at the next look
QUIET_SECONDS = 2.0
_BACK_STEP = 1 << 16
Log = Callable[..., None]  # log(event, **fields)


@dataclass
class Read:
    """One planned read: a byte range of a followed file, or the whole file."""

    cp: Checkpoint
    path: Path
    stop: int = 0  # tail reads: end of the range
    lines: int = 0  # tail reads: lines in the range
    size: int = 0
    mtime: float = 0.0
    failed: str | None = None
    numbered: int = 0  # arrays of `cp.seen` before the read: what the read added comes after
    head_len: int = 0  # the fingerprint of what was read, taken from the file read
    head_md5: str = ""
    fh: BinaryIO | None = field(default=None, repr=False)  # the file as opened by the look, until read


@dataclass
class Follower:
    ws: Workspace
    paths: list[Path]
    log: Log
    known: dict[tuple[int, int], Checkpoint] = field(default_factory=dict)
    quiet: float = QUIET_SECONDS
    budget: int = BUDGET_BYTES
    problems: dict[str, int] = field(default_factory=dict)  # kind of problem -> times met
    _formats: dict[tuple[int, int], Format] = field(default_factory=dict)
    _changed: dict[tuple[int, int], tuple[int, float, float]] = field(default_factory=dict)  # size, mtime, since
    _reported: set[tuple[str, str]] = field(default_factory=set)
    behind: bool = False  # the last look left something to read for the next (its budget was spent)

    def look(self) -> tuple[list[Read], list[Checkpoint]]:
        """What to read now, and the checkpoints of files that are gone (to forget)."""
        reads: list[Read] = []
        present: set[tuple[int, int]] = set()
        left = self.budget
        now = time.monotonic()
        for listed in self._files():
            # Everything below works on the file opened here, through its descriptor: a rotation that
            # renames or replaces `listed` meanwhile cannot make one file's offsets apply to another.
            fh = None
            try:
                fh = open(listed, "rb")
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    fh.close()
                    continue
                key = (st.st_dev, st.st_ino)
                present.add(key)
                path = _opened(fh)
                cp = self._identify(listed, path, key, st)
                read = self._plan(cp, path, st, now, left) if left > 0 else None
            except FileNotFoundError:
                self._problem("vanished", listed, "file vanished before it was read")
                continue
            except OSError as exc:
                if fh is not None:
                    fh.close()
                self._problem("unreadable", listed, f"{exc.__class__.__name__}: {exc.strerror or exc}")
                continue
            if read is None:
                fh.close()
            else:
                read.fh = fh
                reads.append(read)
                left -= max(read.stop - read.cp.offset, 0) if read.cp.kind == "tail" else read.size
        self.behind = left <= 0
        gone = [cp for key, cp in self.known.items() if key not in present]
        for cp in gone:
            self.log("file_gone", path=cp.path, offset=cp.offset)
            del self.known[cp.key]
            self._formats.pop(cp.key, None)
            self._changed.pop(cp.key, None)
        return reads, gone

    def items(self, reads: list[Read], scrub, values) -> Iterator[tuple]:
        """The ingest items of the planned reads (see `storewatch.ingest.engine.read_files`). A read that
        fails is marked so and its checkpoint stays where it was."""
        for read in reads:
            if read.cp.kind == "tail":
                read.numbered = len(read.cp.seen)
                source = engine.read_range(read.path, self._formats[read.cp.key], read.cp.offset, read.stop,
                                           read.cp.line_no, read.cp.seen, scrub, values)
            else:
                source = engine.read_files([read.path], scrub, values)
            started = False
            try:  # (a whole read accounts for its own failures: `read_files` quarantines a record saying why)
                for item in source:
                    started = started or item[0] == "start"
                    yield item
            except Exception as exc:  # vanished or unreadable since the look, or a reader's bug: this file's problem
                read.failed = f"{exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}"
                if started:
                    yield "end", _report_of(read), 0
            read.fh.close()
            if read.failed:
                self._problem("read_failed", Path(read.cp.path), read.failed)

    def advance(self, read: Read) -> None:
        """Move a checkpoint past a read that went through (before its commit)."""
        cp = read.cp
        if cp.kind == "tail":
            cp.offset, cp.line_no = read.stop, cp.line_no + read.lines
        else:
            cp.size, cp.mtime = read.size, read.mtime
        cp.head_len, cp.head_md5 = read.head_len, read.head_md5

    def _files(self) -> Iterator[Path]:
        inbox = self.ws.home / "inbox"
        roots = [*self.paths, *([inbox] if inbox.is_dir() else [])]
        for found in engine.expand(roots, skip=self.ws.home):
            if isinstance(found, engine.Skipped):
                self._problem("skipped", found.path, found.problem)
            elif found.name.endswith(".seen") and found.parent == self.ws.home / checkpoints.FOLDER:
                continue
            else:
                yield found

    def _identify(self, listed: Path, path: Path, key: tuple[int, int], st: os.stat_result) -> Checkpoint:
        """The file's checkpoint: the known one when the file is still the file checkpointed, else a new one.
        `listed`: its name; `path`: the file as opened."""
        cp = self.known.get(key)
        if cp is not None:
            shrunk = cp.kind == "tail" and st.st_size < cp.offset
            if shrunk or (cp.head_len and checkpoints.head_digest(path, cp.head_len) != cp.head_md5):
                self.log("file_restarted", path=str(listed), offset=cp.offset, size=st.st_size,
                         reason="truncated" if shrunk else "content replaced")
                checkpoints.forget_numbering(self.ws, cp)
                cp = None
                self._formats.pop(key, None)
        if cp is None:
            cp = self.known[key] = Checkpoint(key[0], key[1], str(listed), seen=[])
        if cp.path != str(listed):
            self.log("file_renamed", path=str(listed), was=cp.path, offset=cp.offset)
            cp.path = str(listed)
        return cp

    def _plan(self, cp: Checkpoint, path: Path, st: os.stat_result, now: float, budget: int) -> Read | None:
        seen = self._changed.get(cp.key)
        if seen is None or seen[:2] != (st.st_size, st.st_mtime):
            seen = self._changed[cp.key] = (st.st_size, st.st_mtime, now)
        quiet = now - seen[2] >= self.quiet
        if not cp.kind:
            self._decide(cp, path, st, quiet)
        if cp.kind == "tail":
            if cp.key not in self._formats:
                fmt = engine.line_format(read_head(path)[0])
                if fmt is None:  # (a restart met a file whose head no longer reads as before)
                    cp.kind = "whole"
                    return self._plan(cp, path, st, now, budget)
                self._formats[cp.key] = fmt
            if cp.seen is None:
                cp.seen = checkpoints.numbering(self.ws, cp)
                if cp.hashes and not cp.seen:
                    self._problem("numbering_lost", Path(cp.path), "the record numbering under <home>/watch/ is missing: "
                                  "lines repeated later in this file may be taken for duplicates")
                    cp.hashes = 0
            return self._tail(cp, path, st, quiet, budget)
        if cp.kind == "whole" and quiet and (st.st_size, st.st_mtime) != (cp.size, cp.mtime):
            return _fingerprinted(Read(cp, path, size=st.st_size, mtime=st.st_mtime), st.st_size)
        return None

    def _decide(self, cp: Checkpoint, path: Path, st: os.stat_result, quiet: bool) -> None:
        """Tail or whole, from the file's first bytes, once there is a complete line to sniff (or the
        file has been quiet: a file of one unfinished line is read whole)."""
        head, problem = read_head(path)
        if problem:
            raise PermissionError(problem) if "ermission" in problem else OSError(problem)
        if not head:
            return
        with open(path, "rb") as fh:
            if not _plain(fh.read(6)):  # compressed (read_head gave its decompressed head), UTF-16, zip
                cp.kind = "whole"
                return
        complete = head.rfind(b"\n") >= 0 or len(head) >= HEAD_BYTES
        fmt = engine.line_format(head[: head.rfind(b"\n") + 1] if len(head) < HEAD_BYTES else head) if complete else None
        if fmt is not None:
            cp.kind = "tail"
            self._formats[cp.key] = fmt
        elif quiet:
            cp.kind = "whole"

    def _tail(self, cp: Checkpoint, path: Path, st: os.stat_result, quiet: bool, budget: int) -> Read | None:
        if st.st_size <= cp.offset:
            return None
        fmt = self._formats[cp.key]
        with open(path, "rb") as fh:
            stop = _last_newline(fh, cp.offset, min(st.st_size, cp.offset + budget))
            if stop is None and st.st_size > cp.offset + budget:  # one line longer than the budget
                stop = _last_newline(fh, cp.offset, min(st.st_size, cp.offset + MAX_LINE_BYTES))
            if stop is None and st.st_size >= cp.offset + MAX_LINE_BYTES:  # no newline in sight: cut, so
                stop = cp.offset + MAX_LINE_BYTES  # the file moves on (the engine quarantines the piece)
            if stop is None:
                return None
            if fmt.continuation is not None:
                stop = _record_boundary(fh, fmt, cp.offset, stop, hold_last=not quiet or stop < st.st_size)
                if stop is None:
                    return None
            fh.seek(cp.offset)
            lines = _count_lines(fh, stop - cp.offset)
        return _fingerprinted(Read(cp, path, stop=stop, lines=lines), stop)

    def _problem(self, kind: str, path: Path, reason: str) -> None:
        self.problems[kind] = self.problems.get(kind, 0) + 1
        if (str(path), reason) not in self._reported:  # logged once, counted every time
            self._reported.add((str(path), reason))
            self.log("file_problem", problem=kind, path=str(path), reason=reason)


def _opened(fh: BinaryIO) -> Path:
    """A name for the file `fh` is open on that stays that file whatever is renamed meanwhile (and that
    `storewatch.ingest` resolves to the file's current name)."""
    fd_dir = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    return Path(fd_dir, str(fh.fileno()))


def _fingerprinted(read: Read, upto: int) -> Read:
    """The read with the fingerprint of the file's first bytes up to `upto` (what the checkpoint covers)."""
    read.head_len = min(upto, checkpoints.HEAD_BYTES)
    read.head_md5 = checkpoints.head_digest(read.path, read.head_len) or ""
    return read


def _plain(head: bytes) -> bool:
    """Text that may still become a line file: not compressed, not UTF-16, not binary."""
    return not head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff"))


def _last_newline(fh, start: int, end: int) -> int | None:
    """The offset just past the last newline in [start, end), read backwards a block at a time."""
    pos = end
    while pos > start:
        step = min(_BACK_STEP, pos - start)
        fh.seek(pos - step)
        at = fh.read(step).rfind(b"\n")
        if at >= 0:
            return pos - step + at + 1
        pos -= step
    return None


def _record_boundary(fh, fmt: Format, start: int, stop: int, hold_last: bool) -> int | None:
    """Where the last complete record of [start, stop) ends, for a format whose records span lines: the
    start of the last record when it may still grow (`hold_last`), else `stop`. The range starts at a
    record's first line (every read stops at one)."""
    if not hold_last:
        return stop
    fh.seek(start)
    block = fh.read(stop - start)
    table = line_batch(block, 1, start, keep_blank=True).table
    if not table.num_rows:
        return None
    cont, _ = fmt.continuation.continues(table["line"].combine_chunks(), False, None)
    starts = np.flatnonzero(~cont)
    last = int(starts[-1]) if len(starts) else 0
    return int(table["line_offset"][last].as_py()) if last > 0 else None


def _count_lines(fh, length: int) -> int:
    count = 0
    while length > 0:
        chunk = fh.read(min(length, 1 << 20))
        if not chunk:
            break
        count += chunk.count(b"\n")
        length -= len(chunk)
    return count


def _report_of(read: Read) -> engine.FileReport:
    return engine.FileReport(read.cp.path, "unknown", notes=[f"read failed: {read.failed}"])
