"""The ingest stage: files in, normalized events, intel and quarantine out, every record accounted for.

A pipeline of threads, so that Python work (reading, scrubbing, parsing) overlaps with DuckDB and Arrow
work, which run outside the GIL:

1. reader (`read_files`): per file, sniff the format from content and stream scrubbed Arrow batches of
   lines (or of document records), a block at a time, up to `PREFETCH_BYTES` ahead of the mapping;
2. mappers (`_Writer`, `MAPPERS` threads fed by the calling thread): run the format's SQL mapping over
   the batches, several small files of one format at once, check every record (timestamp, parse errors)
   and give it a stable id;
3. writer (`_Store`): every `FLUSH_ROWS` records, skip those already stored and append the rest to the
   run's events segment (`storewatch.store.segments.Appender`) or, if malformed, to `quarantine`.

A record's id is the MD5 of its scrubbed text and its occurrence number within the file: identical
records within one file stay distinct, while the same file read twice, a copy of it, or a file that grew
adds only what is new. Memory is bounded by the block, batch and flush sizes, not by the input.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storewatch.ingest import archives, documents, intel, memory, sniff
from storewatch.ingest.formats import LINE_FORMATS, DOCUMENT_FORMATS
from storewatch.ingest.formats.base import Format, Record
from storewatch.ingest.privacy import make_scrubber
from storewatch.ingest.reader import HEAD_BYTES, ScrubbedStream, open_raw, read_head
from storewatch.ingest.values import ValueScrubber
from storewatch.store import db, schema, segments, snapshot
from storewatch.workspace import Workspace

Progress = Callable[[str, int, int], None]  # (file being read, bytes done, bytes in all: every file of the run)
RECORDS_PER_BATCH = 200_000
PREFETCH_BYTES = 128 << 20  # read-ahead: batches read but not yet mapped
MAP_ROWS = 50_000  # records mapped in one query (several small files of one format may share it)
MAP_BYTES = 32 << 20  # ... or this much record text, whichever comes first: long records map in fewer rows
FLUSH_ROWS = 122_880  # records mapped before they are checked for duplicates and written
FLUSH_BYTES = 256 << 20  # ... or this much mapped Arrow data, whichever comes first
# DuckDB's own memory, shared by the mapping queries and the writer's duplicate check. Bounded: DuckDB
# caches what it reads up to its limit, so an unbounded one makes the process grow with the store rather
# than with the batch sizes. A batch with a very long line raises it for the rest of the run (`_Writer.add`).
MEMORY_LIMIT_MB = 256
LINE_MEMORY_FACTOR = 8  # memory for a batch whose longest line is N bytes: N times this
THREADS = 1  # per query; the reader, mapper and writer threads make the parallelism
MAPPERS = 2  # mapping queries under way at once (one per core)
# Queries spent finding the records a batch's mapping raises on (by halving) before the slices still
# failing are quarantined whole: about 4 hostile records among 50,000 are found one by one, more cost
# the batch no more than this.
ISOLATION_QUERIES = 64


@dataclass
class FileReport:
    source_file: str
    source_format: str
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    pans_scrubbed: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["notes"] = "; ".join(self.notes)
        return out


@dataclass
class IngestReport:
    run_id: int
    files: list[FileReport]

    @property
    def totals(self) -> dict[str, int]:
        keys = ("read", "stored", "quarantined", "duplicates", "pans_scrubbed")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "totals": self.totals, "sources": [f.as_dict() for f in self.files]}


@dataclass(frozen=True)
class Skipped:
    """A path met while expanding folders that is not read, and why: an unreadable folder, a symbolic link
    out of the folder being read, a link loop. It becomes a file of the report with that note."""

    path: Path
    problem: str

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return True

    def is_file(self) -> bool:
        return False


def expand(paths: Iterable[Path], skip: Path | None = None) -> list[Path | Skipped]:
    """Files under the given paths, recursively, in a stable order; the workspace itself is skipped.

    Symbolic links inside a folder are followed only to files within that folder: a link out of it
    (`passwd -> /etc/passwd`) or to a folder, or a loop, is not read and is reported (`Skipped`), as
    is a subfolder that cannot be listed. A path named on the command line is read as given."""
    out: list[Path | Skipped] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            top = p.resolve()
            unlisted: list[Skipped] = []
            for root, dirs, files in os.walk(p, onerror=lambda e: unlisted.append(
                    Skipped(Path(e.filename), f"folder not read: {e.strerror or e}"))):
                out += unlisted
                unlisted.clear()
                links = [d for d in dirs if Path(root, d).is_symlink()]
                out += [Skipped(Path(root, d), "symbolic link to a folder: not followed") for d in sorted(links)]
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in links
                                 and Path(root, d).resolve() != skip)
                out += [_linked(Path(root, f), top) for f in sorted(files) if not f.startswith(".")]
            out += unlisted
        else:
            out.append(p)
    return out


def _linked(path: Path, top: Path) -> Path | Skipped:
    """A file found in a folder, or why it is not read when it is a link that leaves the folder."""
    if not path.is_symlink():
        return path
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # a loop, a dangling link
        return Skipped(path, f"symbolic link not followed: {exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}")
    if not target.is_relative_to(top):
        return Skipped(path, f"symbolic link to a file outside the folder being read: not followed ({target})")
    return path


def ingest(paths: Iterable[Path], ws: Workspace, tz: str = "UTC", progress: Progress | None = None) -> IngestReport:
    """Ingest files and folders into the workspace store."""
    files = archives.expand_archives(expand(paths, skip=ws.home))
    scrub, values = make_scrubber(ws.token_key()), ValueScrubber(ws.token_key())
    if progress:
        progress = _overall(progress, sum(_size(f) for f in files))
    # Reading starts at once, while the store is opened.
    with memory.reused_memory(), memory.old_objects_left_alone(), \
            _ReadAhead(read_files(files, scrub, values), PREFETCH_BYTES) as items:
        return _ingest(items, len(files), ws, tz, progress)


def _size(path: Path | archives.ZipMember) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _overall(progress: Progress, grand_total: int) -> Progress:
    """Per-file progress turned into progress over the whole run: one bar however many files."""
    finished = 0
    current = None  # the file being read; its bytes join `finished` when the next file starts

    def report(name: str, done: int, total: int) -> None:
        nonlocal finished, current
        if current is not None and current[0] != name:
            finished += current[1]
        current = (name, total)
        progress(name, finished + min(done, total), max(grand_total, finished + total, 1))

    return report


def _ingest(items: _ReadAhead, file_count: int, ws: Workspace, tz: str, progress: Progress | None) -> IngestReport:
    con = db.connect(ws)
    try:
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()[0]
        started = datetime.now(timezone.utc)
        report = IngestReport(run_id, store_items(con, items, ws, tz, run_id, progress))
        t = report.totals
        con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started, datetime.now(timezone.utc), file_count, t["read"], t["stored"], t["quarantined"], t["duplicates"]],
        )
        if report.files:  # (an empty folder is a run with no files); one insert, not one statement per file
            with db.registered(con, _files=pa.Table.from_pylist([r.as_dict() for r in report.files])):
                con.execute("INSERT INTO ingest_files SELECT ?, source_file, source_format, read, stored, quarantined, "
                            "duplicates, pans_scrubbed, notes FROM _files", [run_id])
        snapshot.publish(con, ws)  # the run's accounting and quarantine, for readers
        return report
    finally:
        con.close()


def store_items(con: duckdb.DuckDBPyConnection, items: Iterable[tuple], ws: Workspace, tz: str, run_id: int,
                progress: Progress | None = None) -> list[FileReport]:
    """Map, check and store the items of `read_files` (or of any reader speaking its protocol, such as
    `storewatch watch`'s follower) as run `run_id`; the reports say what became of every record. The
    caller writes the run's accounting: `ingest` as a run of its own, `watch` with its checkpoints."""
    settings = con.execute("SELECT current_setting('memory_limit'), current_setting('threads'), "
                           "current_setting('enable_external_file_cache')").fetchall()[0]
    try:
        con.execute("SET VARIABLE sw_tz = ?", [tz])
        # Bound DuckDB's own memory so large inputs spill to disk instead of growing the process. One
        # DuckDB thread per query: the mapping and the writer's inserts already run side by side.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT_MB}MB'")
        con.execute(f"SET threads = {THREADS}")
        con.execute("SET enable_external_file_cache = false")  # segments read for the duplicate check
        writer = _Writer(con, ws, run_id, tz)
        try:
            reports = _ingest_files(con, items, progress, writer)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        segments.compact(ws)
        for r in reports:
            if r.source_format != "stix":
                r.duplicates = r.read - r.stored - r.quarantined
        return reports
    finally:
        # The settings belong to the database, which other connections of this process may share.
        con.execute(f"SET memory_limit = '{settings[0]}'")
        con.execute(f"SET threads = {settings[1]}")
        con.execute(f"SET enable_external_file_cache = {settings[2]}")


def _ingest_files(con: duckdb.DuckDBPyConnection, items: Iterable[tuple], progress: Progress | None,
                  writer: "_Writer") -> list[FileReport]:
    """Read the files on a thread of their own (decompressing, scrubbing, splitting and parsing them is
    Python and Arrow work) while this thread maps the batches in DuckDB and the writer stores them."""
    reports: list[FileReport] = []
    target: _FileTarget | None = None
    total = 0
    for kind, report, *rest in items:
        if kind == "start":
            fmt, year_ref, total, *seen = rest  # (a follower brings the file's numbering so far)
            reports.append(report)
            target = _FileTarget(report, fmt, year_ref, *seen)
        elif kind == "batch":
            batch, done = rest
            report.read += batch.num_rows
            writer.add(target, batch)
            if progress:
                progress(report.source_file, done, total)
        elif kind == "end":
            report.pans_scrubbed += rest[0]  # here, not on the reader's thread: the mappers count here too
            writer.close_file(target)
            if progress:
                progress(report.source_file, total, total)
        elif kind == "intel":
            reports.append(report)
            _store_intel(con, *rest, report)  # appends to intel and quarantine while the writer appends too
        else:  # nothing to read
            reports.append(report)
    return reports


def read_files(files: list[Path | archives.ZipMember | Skipped], scrub, values: ValueScrubber) -> Iterator[tuple]:
    """Per file: ("start", report, format, year reference, size), ("batch", report, table, bytes read)...,
    ("end", report, card numbers replaced by the reader); or ("intel", report, rows, errors) for STIX bundles (parsed here, off the thread that
    feeds the mappers), ("none", report) when unreadable.

    A file that fails while it is read (a header no reader foresaw, a stream that breaks in an unforeseen
    way) is that file's problem: what it yielded so far stands, one quarantined record says why the rest
    was not read, and the run reads the next file."""
    for path in files:
        name, in_name = _display_name(path, scrub, values)
        report = FileReport(name, "unknown", pans_scrubbed=in_name)
        started, last_line = False, 0
        try:
            for item in _read_file(path, report, scrub, values):
                started = started or item[0] == "start"
                if item[0] == "batch":
                    last_line = max(last_line, pc.max(item[2]["line_no"]).as_py() or 0)
                yield item
        except Exception as exc:
            reason = f"file not read to its end: {exc.__class__.__name__}: {exc}"[:300]
            report.notes.append(reason)
            if not started:
                yield "start", report, UNKNOWN, datetime.now(timezone.utc), 0
            record = Record(last_line + 1, 0, f"{report.source_file}: {reason}", reason)
            yield "batch", report, _records_table([record]), 0
            yield "end", report, 0


def read_range(path: Path, fmt: Format, start: int, stop: int, first_line: int, seen: list[np.ndarray],
               scrub, values: ValueScrubber) -> Iterator[tuple]:
    """The items (see `read_files`) of the lines of a plain file between two byte offsets, read as `fmt`:
    what a followed file gained (`storewatch watch`). `start` is the offset of line `first_line`, `stop`
    the end of a complete line (or record); `seen`, the file's record numbering so far, goes on in place,
    so a record gets the id it would get were the whole file read at once."""
    name, in_name = _display_name(path, scrub, values)
    report = FileReport(name, fmt.name, pans_scrubbed=in_name)
    stream = ScrubbedStream(path, scrub, start=start, stop=stop, first_line=first_line)
    yield "start", report, fmt, datetime.fromtimestamp(path.stat().st_mtime, timezone.utc), stop - start, seen
    for batch in _line_batches(stream, fmt):
        if batch.num_rows:
            yield "batch", report, batch, stream.raw_pos
    report.notes += stream.notes
    yield "end", report, stream.pans


def line_format(head: bytes) -> Format | None:
    """The line format a file is read in when its first bytes are `head` (as `_plan` decides, specialized
    for the file), or None when it is read otherwise (a document, compressed, binary, intel, of no known
    format): a file read line by line can be followed as it grows; the others are read whole."""
    if sniff.is_binary(head) or any(fmt.magic and head.startswith(fmt.magic) for fmt in DOCUMENT_FORMATS):
        return None
    text_head = documents.head_text(head)
    if intel.looks_like(text_head) or any(sniff.safe_looks_like(fmt, text_head) for fmt in DOCUMENT_FORMATS):
        return None
    lines = text_head.splitlines()
    if documents.json_layout(text_head) == "document" and not sniff.claims_first_line(lines, LINE_FORMATS):
        return None
    # (A `whole_file` format is followed too: its mapping's window over lines, sysklogd's `last message
    # repeated`, then sees each read's lines, as the lines of a file read whole at that moment.)
    fmt = sniff.best_line_format(lines, LINE_FORMATS)
    if fmt is None:
        return None
    return fmt.specialize(text_head) if fmt.specialize else fmt


def _display_name(path: Path | archives.ZipMember | Skipped, scrub, values: ValueScrubber) -> tuple[str, int]:
    """The name a file is reported and stored under: absolute, scrubbed (both passes), and text even when
    the file system's name is not UTF-8 (its odd bytes written as `\\xff`); and the card numbers replaced."""
    if isinstance(path, archives.ZipMember):
        name = str(path)
    elif isinstance(path, Skipped):  # the link itself, not where it leads
        name = os.path.abspath(path.path)
    else:
        try:
            name = str(Path(path).resolve())
        except (OSError, RuntimeError):  # a link loop named on the command line
            name = os.path.abspath(path)
    raw_name, in_raw = scrub(os.fsencode(name))
    name, decoded = values.text(raw_name.decode("utf-8", "backslashreplace"))
    return name, in_raw + decoded


def _read_file(path: Path | archives.ZipMember | Skipped, report: FileReport, scrub,
               values: ValueScrubber) -> Iterator[tuple]:
    """The items of one file (see `read_files`)."""
    if not path.exists() or not path.is_file():
        report.notes.append(getattr(path, "problem", None) or ("not found" if not path.exists() else "not a regular file"))
        yield "none", report
        return
    total = path.stat().st_size
    head, problem = read_head(path)
    if problem:
        report.notes.append(problem)
    stream = ScrubbedStream(path, scrub)
    if not sniff.is_binary(head) and intel.looks_like(documents.head_text(head)):
        yield ("intel", report, *_read_intel(stream, report, values))
        return
    fmt, batches = _plan(path, head, stream, report)
    yield "start", report, fmt, datetime.fromtimestamp(path.stat().st_mtime, timezone.utc), total
    for batch in batches:
        if batch.num_rows:
            yield "batch", report, batch, stream.raw_pos
    report.notes += stream.notes
    yield "end", report, stream.pans


class _Failed(NamedTuple):
    error: BaseException


class _ReadAhead:
    """The items of an iterator, produced on a thread of their own from construction on, up to `budget`
    bytes of batches ahead (always at least one item, however large), so reading runs ahead while the
    store is opened and earlier files are mapped. Close it (or use it as a context manager) to stop it."""

    _END = object()

    def __init__(self, items: Iterator[tuple], budget: int):
        self._items, self._budget = items, budget
        self._ready: deque = deque()
        self._held = 0  # bytes of the batches in `_ready`
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._produce, name="storewatch-reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> "_ReadAhead":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple]:
        while True:
            with self._cond:
                while not self._ready:
                    self._cond.wait()
                item, size = self._ready.popleft()
                self._held -= size
                self._cond.notify_all()
            if item is self._END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()

    def _put(self, item, size: int) -> bool:
        with self._cond:
            while not self._stop and self._ready and self._held + size > self._budget:
                self._cond.wait()
            if self._stop:
                return False
            self._ready.append((item, size))
            self._held += size
            self._cond.notify_all()
            return True

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put(item, item[2].nbytes if item[0] == "batch" else 0):
                    return
            self._put(self._END, 0)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failed(exc), 0)


def _plan(path: Path | archives.ZipMember, head: bytes, stream: ScrubbedStream, report: FileReport) -> tuple[Format, Iterator[pa.Table]]:
    """Decide how to read the file: a line format, a document format, a JSON document, or unknown."""
    for fmt in DOCUMENT_FORMATS:
        if fmt.magic and head.startswith(fmt.magic):
            report.source_format = fmt.name
            return fmt, _batches(_scrubbed(fmt.records, path, stream))
    if sniff.is_binary(head):
        report.source_format = "binary"
        report.notes.append("binary content, not a log: kept as one quarantined record")
        return UNKNOWN, _batches(iter([Record(1, 0, head[:4096].hex(), "binary file, not a text log")]))
    text_head = documents.head_text(head)
    for fmt in DOCUMENT_FORMATS:
        if sniff.safe_looks_like(fmt, text_head):
            report.source_format = fmt.name
            return fmt, _batches(fmt.records(stream.reader()))
    layout = documents.json_layout(text_head)
    lines = text_head.splitlines()
    if len(head) >= HEAD_BYTES and lines:
        lines.pop()  # possibly cut mid-line
    # A log whose lines start with `[` (Apache's error log) is not a JSON document: a line format that
    # claims its first line wins over the JSON reader.
    if layout == "document" and not sniff.claims_first_line(lines, LINE_FORMATS):
        return _sniffed_records(documents.json_records(stream.reader(), report.notes), report)
    fmt = sniff.best_line_format(lines, LINE_FORMATS)
    if fmt is None and not text_head.strip():
        report.notes.append("empty file")
        return UNKNOWN, iter(())
    if fmt is None and layout == "lines" and documents.has_envelopes(lines[: sniff.SAMPLE_RECORDS]):
        return _sniffed_records(documents.json_line_records(_line_batches(stream, None)), report)
    if fmt is None:
        # One record for the file, not one per line: a folder of unrelated text must not fill the quarantine.
        report.notes.append("format not recognized: the file was not read; its head is kept as one quarantined record")
        reason = f"format not recognized: file not read ({path.stat().st_size:,} bytes)"
        kept, found = stream.scrub(head[:UNKNOWN_HEAD_BYTES])  # the head is kept: no card number in it
        stream.pans += found
        return UNKNOWN, _batches(iter([Record(1, 0, documents.head_text(bytes(kept)), reason)]))
    fmt = fmt.specialize(text_head) if fmt.specialize else fmt
    report.source_format = fmt.name
    return fmt, _line_batches(stream, fmt)


def _sniffed_records(records: Iterator[Record], report: FileReport) -> tuple[Format, Iterator[pa.Table]]:
    """Records opened out of JSON envelopes, in the line format that claims most of the first ones."""
    sample = list(itertools.islice(records, sniff.SAMPLE_RECORDS))
    texts = [r.text for r in sample if r.error is None]
    fmt = sniff.best_line_format(texts, LINE_FORMATS)
    if fmt is None:
        report.source_format = "json-document"
        if texts:  # as for a text file of no known format: one record for the file, not one per record
            report.notes.append("format of the JSON records not recognized: the file was not read; "
                                "its first records are kept as one quarantined record")
            head = "\n".join(texts)[:UNKNOWN_HEAD_BYTES]
            return UNKNOWN, _batches(iter([Record(1, 0, head, "format not recognized: JSON records of no known format")]))
        return UNKNOWN, _batches(iter(sample))  # only damage: its records say what and where
    fmt = fmt.specialize("\n".join(texts)) if fmt.specialize else fmt  # as for line files
    report.source_format = fmt.name + "+document"
    return fmt, _batches(itertools.chain(sample, records))


def _scrubbed(read: Callable, path: Path, stream: ScrubbedStream) -> Iterator[Record]:
    """The records a binary format reads from the raw file, each scrubbed here (no text stream did it)."""
    with open_raw(path) as raw:
        for rec in read(raw):
            clean, found = stream.scrub(rec.text.encode())
            if found:
                stream.pans += found
                rec = rec._replace(text=clean.decode())
            yield rec


def _line_batches(stream: ScrubbedStream, fmt: Format | None) -> Iterator[pa.Table]:
    recoded = 0
    for batch in stream.line_batches(fmt.continuation if fmt is not None else None):
        recoded += batch.recoded
        table = batch.table
        if fmt is not None and fmt.ignore and table.num_rows:
            table = table.filter(pc.invert(pc.match_substring_regex(table["line"], fmt.ignore)))
        yield table
    if recoded:  # one note per file, however many blocks it took
        stream.notes.append(f"{recoded} lines were not UTF-8 and were read as Windows-1252")


def _batches(records: Iterator[Record]) -> Iterator[pa.Table]:
    """Group document records into Arrow batches; unreadable records carry their error along."""
    buf: list[Record] = []
    for rec in records:
        buf.append(rec)
        if len(buf) >= RECORDS_PER_BATCH:
            yield _records_table(buf)
            buf = []
    if buf:
        yield _records_table(buf)


def _records_table(recs: list[Record]) -> pa.Table:
    return pa.table(
        {
            "line_no": pa.array([r.line_no for r in recs], pa.int64()),
            "line_offset": pa.array([r.offset for r in recs], pa.int64()),
            "line": pa.array([r.text for r in recs], pa.string()),
            "_read_error": pa.array([r.error for r in recs], pa.string()),
        }
    )


_CLASS_UID = "CASE class_name " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in schema.EVENT_CLASSES.items()) + " END"
_EVENT_TYPES = {c.name: c.sql_type for c in schema.EVENT_COLUMNS}



# The query per batch: the format's mapping, cast to the schema's types, with the checks every mapped
# record gets. The record's id (for its first occurrence in the file; repeats are renumbered in Python, see
# `_FileTarget.number`) is a second query over the batch alone: joining the two in SQL cost more than both.
_MAP_SQL = """
WITH m AS ({mapping})
SELECT {columns}m.line_no AS _mapped_line,
       coalesce(m._error,
         CASE WHEN m.time IS NULL THEN 'missing or unparseable timestamp'
              WHEN m.time < TIMESTAMPTZ '1990-01-01' OR m.time > now() + INTERVAL 10 YEAR
              THEN 'timestamp out of range: ' || m.time::VARCHAR
         END) AS _error,
       {class_uid} AS class_uid,
       {channel} AS channel
FROM m
""".replace("{class_uid}", _CLASS_UID)
_IDS_SQL = "SELECT md5(md5(line) || ':0') AS event_id, hash(line) AS _h FROM batch"
_FAILED_MAPPING = "SELECT line_no, {error} AS _error, NULL::TIMESTAMPTZ AS time, NULL::VARCHAR AS class_name FROM batch"


class _FileTarget:
    """A file on its way into the store: its report, format, and the line hashes of its earlier batches
    (for numbering repeated records across batches)."""

    def __init__(self, report: FileReport, fmt: Format, year_ref: datetime, seen: list[np.ndarray] | None = None):
        self.report, self.fmt, self.year_ref = report, fmt, year_ref
        # sorted 64-bit hashes of the records mapped so far; given, it is extended in place (a followed
        # file's numbering goes on from one read of it to the next)
        self.seen: list[np.ndarray] = seen if seen is not None else []
        self.shared = seen is not None

    def number(self, mapped: pa.Table, batch: pa.Table) -> pa.Table:
        """Give repeated records their occurrence number in the file: the k-th identical record (k from 0,
        in line order, over all batches of the file) gets md5(md5(text) || ':' || k); the mapping query
        already gave every record k = 0. Repeats are found with a 64-bit hash of the text, so only the rare
        repeats cost Python work. (Two different texts with the same 64-bit hash would number each other:
        their ids stay distinct and stable, so nothing is lost.)"""
        h = mapped["_h"].to_numpy()
        earlier, ordered = list(self.seen), np.sort(h)
        if self.shared:  # a follower's numbering grows by one run per batch: it saves the runs a pass added
            self.seen.append(ordered)
        else:
            self.seen[:] = _merged([*earlier, ordered])
        # The usual batch repeats nothing: one sort and a search per earlier batch tell, without the
        # inverse and counts of np.unique (most of this method's time, on the thread that feeds the mappers).
        if not (ordered[1:] == ordered[:-1]).any() and not any(_meets(seen, ordered) for seen in earlier):
            return mapped
        uniq, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
        before = np.zeros(len(uniq), np.int64)
        for seen in earlier:
            before += np.searchsorted(seen, uniq, "right") - np.searchsorted(seen, uniq, "left")
        repeat = (counts[inverse] > 1) | (before[inverse] > 0)
        if not repeat.any():
            return mapped
        rows = np.flatnonzero(repeat)
        lines = mapped["source_line"].to_numpy()
        order = rows[np.lexsort((lines[rows], h[rows]))]
        texts = batch["line"].take(pa.array(np.searchsorted(batch["_line"].to_numpy(), lines[order]))).to_pylist()
        ids: dict[int, str] = {}
        k, last = 0, None
        for row, text in zip(order, texts):
            k = k + 1 if h[row] == last else int(before[inverse[row]])
            last = h[row]
            ids[int(row)] = hashlib.md5(f"{hashlib.md5(text.encode()).hexdigest()}:{k}".encode()).hexdigest()
        flags = np.zeros(mapped.num_rows, bool)
        flags[list(ids)] = True
        col = pc.replace_with_mask(mapped["event_id"].combine_chunks(), pa.array(flags), pa.array([ids[r] for r in sorted(ids)], pa.string()))
        return mapped.set_column(mapped.schema.get_field_index("event_id"), "event_id", col)


def _merged(runs: list[np.ndarray]) -> list[np.ndarray]:
    """Sorted runs kept as a binary counter: a run merges into the one before it while it is at least as
    long, so a file's n hashes lie in O(log n) runs and a batch searches those, not one run per earlier
    batch (which grew quadratically with the file: a 280,000-line access log searched 28 runs per batch)."""
    while len(runs) > 1 and len(runs[-1]) >= len(runs[-2]):
        last = runs.pop()
        runs[-1] = np.sort(np.concatenate((runs[-1], last)), kind="stable")
    return runs


def _meets(ordered: np.ndarray, values: np.ndarray) -> bool:
    """Whether any of `values` is in the sorted array `ordered`."""
    if not len(ordered):
        return False
    return bool((ordered[np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)] == values).any())


class _Writer:
    """Maps batches of records, then hands them to a `_Store` that writes them.

    Batches wait until enough rows share one mapping, so small files of one format (a till's daily
    POSLog) are mapped together in one query; each mapped record remembers its file. Mapping queries run
    on `MAPPERS` threads, each with its own cursor (DuckDB releases the GIL while it works), and their
    results are numbered and stored in the order the batches came in.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, ws: Workspace, run_id: int, tz: str):
        self.con = con
        self.store = _Store(con, ws, run_id)
        self.inputs: list[tuple[_FileTarget, pa.Table]] = []  # waiting to be mapped, all with one mapping
        self.input_rows = self.input_bytes = 0
        self.memory_mb = MEMORY_LIMIT_MB
        self._sql: dict[str, str] = {}
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self._ws, self._tz = ws, tz
        self.values = ValueScrubber(ws.token_key())
        self._pool = ThreadPoolExecutor(MAPPERS, thread_name_prefix="storewatch-mapper")
        self._mapping: deque[tuple[Future, list[tuple[_FileTarget, pa.Table]], list[pa.Table]]] = deque()

    def add(self, target: _FileTarget, batch: pa.Table) -> None:
        longest = pc.max(pc.binary_length(batch["line"])).as_py() or 0
        if longest * LINE_MEMORY_FACTOR > self.memory_mb << 20:  # a huge line: DuckDB copies it a few times
            self.memory_mb = (longest * LINE_MEMORY_FACTOR >> 20) + MEMORY_LIMIT_MB
            self.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        if self.inputs:
            first = self.inputs[0][0]
            if first.fmt.sql != target.fmt.sql or (first is not target and (first.fmt.whole_file or target.fmt.whole_file)):
                self._map_inputs()
        if "_read_error" not in batch.column_names:
            batch = batch.append_column("_read_error", pa.nulls(batch.num_rows, pa.string()))
        self.inputs.append((target, batch))
        self.input_rows += batch.num_rows
        self.input_bytes += batch["line"].nbytes
        if self.input_rows >= MAP_ROWS or self.input_bytes >= MAP_BYTES:
            self._map_inputs()

    def close_file(self, target: _FileTarget) -> None:
        if target.fmt.whole_file:
            self._map_inputs()

    def finish(self) -> None:
        self._map_inputs()
        while self._mapping:
            self._collect()
            # Nothing more will be read: write each result as it comes, so that writing overlaps with the
            # last mappings instead of following them all.
            self.store.hand_over()
        self._close_pool()
        self.store.finish()

    def abort(self) -> None:
        self._close_pool()
        self.store.abort()

    def _close_pool(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for cursor in self._cursors:
            cursor.close()
        self._cursors = []

    def _map_inputs(self) -> None:
        """Send the waiting inputs to a mapper; store the oldest results once enough are under way."""
        if not self.inputs:
            return
        inputs, self.inputs, self.input_rows, self.input_bytes = self.inputs, [], 0, 0
        fmt = inputs[0][0].fmt
        parts = []
        for i, (_, batch) in enumerate(inputs):
            parts.append(pa.table({
                "line_offset": batch["line_offset"], "line": batch["line"], "_read_error": batch["_read_error"],
                "_line": batch["line_no"], "_part": pa.array(np.full(batch.num_rows, i, np.int32)),
            }))
        combined = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        # The mapping sees a unique, ordered `line_no` even when several files share the batch.
        combined = combined.add_column(0, "line_no", pa.array(np.arange(combined.num_rows, dtype=np.int64)))
        future = self._pool.submit(self._map_batch, combined, fmt, inputs[0][0].year_ref)
        self._mapping.append((future, inputs, parts))
        while len(self._mapping) > MAPPERS:
            self._collect()

    def _collect(self) -> None:
        future, inputs, parts = self._mapping.popleft()
        for mapped in future.result():
            for i, piece in _split(mapped, len(inputs)):
                target = inputs[i][0]
                target.report.pans_scrubbed += pc.sum(piece["_pans"]).as_py() or 0
                self.store.add(target, target.number(piece.drop_columns(["_part"]), parts[i]))

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This mapper thread's own cursor: registered batches and variables belong to a connection."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.con.cursor()
            self._local.relations = {}
            db.prepare(cursor, self._ws)
            cursor.execute("SET VARIABLE sw_tz = ?", [self._tz])
            with self._lock:
                self._cursors.append(cursor)
        return cursor

    def _map_batch(self, batch: pa.Table, fmt: Format, year_ref: datetime) -> list[pa.Table]:
        con = self._cursor()
        con.execute("SET VARIABLE sw_year_ref = ?", [year_ref])
        return self._map(con, batch, fmt)

    def _map(self, con: duckdb.DuckDBPyConnection, batch: pa.Table, fmt: Format) -> list[pa.Table]:
        """Map a batch. When the mapping raises, the records it chokes on are found by halving the batch
        (depth first) and quarantined with the error, the rest mapped as usual. Halving costs a query per
        step (tens of ms for a large mapping), so it stops after `ISOLATION_QUERIES` queries: every slice
        still failing then is quarantined whole, its records each with the error and a note saying so.
        A batch costs at most that many queries more, however many of its records are hostile."""
        out: list[pa.Table] = []
        todo, spent = [batch], -1  # the first query is the batch's own
        while todo:
            part = todo.pop()
            spent += 1
            with db.registered(con, batch=part):
                try:
                    out.append(self._run(con, part, fmt, fmt.sql, fmt.name))
                    continue
                except duckdb.Error as exc:
                    if part.num_rows == 1 or spent >= ISOLATION_QUERIES:
                        reason = f"mapping failed: {fmt.name}: {exc}"[:300]
                        if part.num_rows > 1:
                            reason += f" (in a slice of {part.num_rows} records not told apart: too many failed)"
                        out.append(self._run(con, part, fmt, _FAILED_MAPPING.format(error=schema.sql_text(reason)), fmt.name))
                        continue
            half = part.num_rows // 2
            todo += [part.slice(half), part.slice(0, half)]  # the first half on top: results stay in order
        return out

    def _run(self, con: duckdb.DuckDBPyConnection, batch: pa.Table, fmt: Format, mapping: str, name: str) -> pa.Table:
        query = self._query(con, fmt, mapping)
        mapped = (self._relation(con, query) if mapping is fmt.sql else con.sql(query)).to_arrow_table()
        ids = self._relation(con, _IDS_SQL).to_arrow_table()
        lines = mapped["_mapped_line"].fill_null(-1).to_numpy()
        if len(lines) != batch.num_rows or not np.array_equal(lines, batch["line_no"].to_numpy()):
            # a half of a batch (see `_map`) numbers its rows from its first line, not from 0
            first = batch["line_no"][0].as_py() if batch.num_rows else 0
            mapped = _align(mapped, np.where(lines >= 0, lines - first, -1), batch.num_rows, f"not recognized as {name}")
        error = pc.coalesce(batch["_read_error"], mapped["_error"])
        out = mapped.drop_columns(["_mapped_line", "_error"])
        for column, values in (("_part", batch["_part"]), ("_error", error), ("source_line", batch["_line"]),
                               ("source_offset", batch["line_offset"]), ("event_id", ids["event_id"]),
                               ("_h", ids["_h"]), ("_raw", _failed_text(batch["line"], error))):
            out = out.append_column(column, values)
        # The second scrubbing pass: card numbers that parsing decoded (escapes, character references,
        # CDATA) or wrote with separators the raw pass does not take, in every value and the quarantine's.
        out, pans = self.values.table(out, skip=("event_id",), records=batch["line"])
        return out.append_column("_pans", pa.array(pans) if pans is not None else pa.nulls(out.num_rows, pa.int64()))

    def _relation(self, con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyRelation:
        """A query over `batch` as a relation of this thread's cursor, made once and run for every batch (it
        reads whatever is registered as `batch` when it runs). Making a relation binds its query and running
        it binds it again: kept, a mapping query is bound once per batch instead of twice, which saves
        10-35 ms a query, as long as mapping 5,000-15,000 records takes."""
        relations = self._local.relations
        relation = relations.get(query)
        if relation is None:
            relation = relations[query] = con.sql(query)
        return relation

    def _query(self, con: duckdb.DuckDBPyConnection, fmt: Format, mapping: str) -> str:
        """The batch query around a mapping: the schema columns it fills, cast to their types, plus the
        checks every record gets. Built once per mapping (binding it reads no rows)."""
        sql = self._sql.get(mapping)
        if sql is None:
            names = con.sql(f"SELECT * FROM ({mapping}) LIMIT 0").columns
            cols = [c for c in names if c in _EVENT_TYPES and c not in schema.PROVENANCE and c != "class_uid"]
            columns = "".join(f"CAST(m.{c} AS {_EVENT_TYPES[c]}) AS {c}, " for c in cols)
            sql = self._sql[mapping] = _MAP_SQL.format(mapping=mapping, columns=columns, channel=schema.sql_text(fmt.channel))
        return sql


def _failed_text(lines: pa.ChunkedArray, error: pa.ChunkedArray) -> pa.Array:
    """The text of the records in error, NULL for the others: what the quarantine keeps. Only the few
    failed records are copied; `if_else` over the batch allocated an output the size of all its text."""
    failed = error.is_valid().to_numpy(zero_copy_only=False)
    if not failed.any():
        return pa.nulls(len(failed), pa.string())
    text = lines.take(pa.array(np.flatnonzero(failed))).combine_chunks()
    return pc.replace_with_mask(pa.nulls(len(failed), text.type), pa.array(failed), text)


def _align(mapped: pa.Table, lines: np.ndarray, rows: int, missing: str) -> pa.Table:
    """A mapping that dropped, added or reordered rows, matched back to the batch by line number (-1 for
    none): one row per batch row, and a batch row the mapping did not return is an error of its own."""
    at = np.full(rows, -1, np.int64)
    known = (lines >= 0) & (lines < rows)
    at[lines[known]] = np.flatnonzero(known)
    aligned = mapped.take(pa.array(at, mask=at < 0))
    error = pc.if_else(pa.array(at < 0), pa.scalar(missing), aligned["_error"])
    return aligned.set_column(aligned.schema.get_field_index("_error"), "_error", error)


class _Store:
    """Writes mapped records to `events` and `quarantine`, on a thread of its own with its own connection,
    so that inserting overlaps with reading and mapping the next records.

    Mapped records wait until `FLUSH_ROWS` of them (or `FLUSH_BYTES`) are ready; a flush drops those
    already stored (in `events` or `quarantine`) or met earlier in the run (the same content in another
    file), then appends the new events to the run's segment as one row group and the malformed ones to
    `quarantine`. Flushing in large steps keeps the duplicate check (a scan of the ids stored before the
    run and of the run's own) cheap, and flushing at all keeps memory flat however large the input.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, ws: Workspace, run_id: int):
        self.con = con.cursor()
        db.prepare(self.con, ws)
        self.ws, self.run_id = ws, run_id
        # The duplicate check looks at the segments stored before the run (none in a new store) and at
        # the ids this run wrote, kept in a temporary table: scanning every segment again at each flush
        # made a large first ingest quadratic.
        before = segments.files(ws)
        source = (f"read_parquet([{', '.join(schema.sql_text(str(p)) for p in before)}], union_by_name = true)" if before
                  else "(SELECT NULL::VARCHAR AS event_id WHERE false)")
        self.con.execute(f"CREATE TEMP VIEW _stored_before AS SELECT event_id FROM {source}")
        self.con.execute("CREATE TEMP TABLE _run_ids (event_id VARCHAR)")
        self.appender = segments.Appender(ws)
        self.batch: list[tuple[_FileTarget, pa.Table]] = []  # mapped, not yet handed over
        self.batch_rows = 0
        self.batch_bytes = 0
        self.pending: list[tuple[_FileTarget, pa.Table]] = []  # handed over, not yet written (writer's own)
        self.jobs: queue.Queue = queue.Queue()
        self.done: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="storewatch-writer", daemon=True)
        self.thread.start()

    def add(self, target: _FileTarget, table: pa.Table) -> None:
        self.batch.append((target, table))
        self.batch_rows += table.num_rows
        self.batch_bytes += table.nbytes
        if self.batch_rows >= FLUSH_ROWS or self.batch_bytes >= FLUSH_BYTES:
            self._hand_over(final=False)

    def hand_over(self) -> None:
        """Give the records waiting so far to the writer now (once it is done with the previous ones)."""
        if self.batch:
            self._hand_over(final=False)

    def finish(self) -> None:
        """Write everything still waiting; raise what went wrong on the writer's side, if anything."""
        self._hand_over(final=True)
        self.done.get()
        self.jobs.put(None)
        self.thread.join()
        self._check()
        self.con.close()

    def abort(self) -> None:
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()
        self.appender.abort()
        self.con.close()

    def _hand_over(self, final: bool) -> None:
        self.jobs.join()  # one batch in the writer's hands at a time: memory stays bounded
        self._check()
        self.jobs.put((self.batch, final))
        self.batch, self.batch_rows, self.batch_bytes = [], 0, 0

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            tables, final = job
            try:
                if self.error is None:
                    self.pending += tables
                    self._flush()
                    if final:
                        self.appender.close()
            except BaseException as exc:  # reported to the main thread at its next hand-over
                self.error = exc
            finally:
                self.jobs.task_done()
            if final:
                self.done.put(True)
        self.jobs.task_done()

    def _flush(self) -> None:
        """Write the pending records: new events to the run's segment, new malformed ones to `quarantine`."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        events: list[pa.Table] = []
        bad: list[pa.Table] = []
        for (target, table), kept in zip(pending, self._keep(pending)):
            error = table["_error"].is_valid().to_numpy(zero_copy_only=False)
            new, quarantined = kept & ~error, kept & error
            target.report.stored += int(np.count_nonzero(new))
            target.report.quarantined += int(np.count_nonzero(quarantined))
            if new.any():
                events.append(segments.conform(_sourced(_rows(table, new), target.report.source_file, target.fmt.name)))
            if quarantined.any():
                rows = table.select(["event_id", "source_line", "source_offset", "_error", "_raw"]).filter(quarantined)
                bad.append(_sourced(rows, target.report.source_file, target.report.source_format))
        if events:
            written = pa.concat_tables(events)
            self.appender.write(written)
            with db.registered(self.con, _written=written.select(["event_id"])):
                self.con.execute("INSERT INTO _run_ids SELECT event_id FROM _written")
        if bad:
            with db.registered(self.con, _bad=pa.concat_tables(bad)):
                self.con.execute("INSERT INTO quarantine SELECT event_id, ?, now(), source_file, source_format, "
                                 "source_line, source_offset, _error, _raw FROM _bad", [self.run_id])

    def _keep(self, pending: list[tuple[_FileTarget, pa.Table]]) -> list[np.ndarray]:
        """Per pending table, which rows to write: not stored before, not met earlier in this flush."""
        ids = pa.concat_tables([
            pa.table({"event_id": t["event_id"], "_h": t["_h"], "_t": pa.repeat(pa.scalar(i, pa.int32()), t.num_rows)})
            for i, (_, t) in enumerate(pending)
        ])
        with db.registered(self.con, _ids=ids):
            rows = self.con.execute("""
                WITH stored AS (
                    SELECT event_id FROM _stored_before WHERE event_id IN (SELECT event_id FROM _ids)
                    UNION ALL
                    SELECT event_id FROM _run_ids WHERE event_id IN (SELECT event_id FROM _ids)
                    UNION ALL
                    SELECT quarantine_id FROM quarantine WHERE quarantine_id IN (SELECT event_id FROM _ids)),
                repeats AS (
                    SELECT _h FROM _ids GROUP BY _h HAVING count(DISTINCT _t) > 1),
                later AS (
                    SELECT event_id, _t FROM (
                        SELECT event_id, _t, min(_t) OVER (PARTITION BY event_id) AS first_t
                        FROM _ids SEMI JOIN repeats USING (_h))
                    WHERE _t > first_t)
                SELECT i._t, list(DISTINCT i.event_id) FROM _ids i SEMI JOIN stored USING (event_id) GROUP BY i._t
                UNION ALL
                SELECT _t, list(DISTINCT event_id) FROM later GROUP BY _t
            """).fetchall()
        keep = [np.ones(t.num_rows, bool) for _, t in pending]
        for i, skip in rows:
            table = pending[i][1]
            keep[i] &= ~pc.is_in(table["event_id"], value_set=pa.array(skip, pa.string())).to_numpy(zero_copy_only=False)
        return keep


def _sourced(rows: pa.Table, source_file: str, source_format: str) -> pa.Table:
    """Rows with the file and format they came from."""
    n = rows.num_rows
    return (rows.append_column("source_file", pa.repeat(source_file, n))
            .append_column("source_format", pa.repeat(source_format, n)))


def _rows(table: pa.Table, mask: np.ndarray, max_runs: int = 64) -> pa.Table:
    """The rows where `mask` holds. Usually nearly all rows are kept: the kept runs are then sliced out
    (no copy) instead of filtered, since filtering copies every column of every row."""
    if mask.all():
        return table
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) > max_runs:
        return table.filter(pa.array(mask))
    if not len(starts):
        return table.slice(0, 0)
    return pa.concat_tables([table.slice(s, e - s) for s, e in zip(starts, ends)])


def _split(mapped: pa.Table, parts: int) -> Iterator[tuple[int, pa.Table]]:
    """The rows of a mapped batch per input part (file), in part order."""
    if parts == 1:
        yield 0, mapped
        return
    part = mapped["_part"].to_numpy()
    if (np.diff(part) >= 0).all():  # mapped in batch order, as mappings usually are: no copy needed
        ordered = mapped
    else:
        ordered = mapped.take(pa.array(np.argsort(part, kind="stable")))
    bounds = np.concatenate(([0], np.cumsum(np.bincount(part, minlength=parts))))
    for i in range(parts):
        if bounds[i + 1] > bounds[i]:
            yield i, ordered.slice(bounds[i], bounds[i + 1] - bounds[i])


def _read_intel(stream: ScrubbedStream, report: FileReport, values: ValueScrubber) -> tuple[list[dict], list[str]]:
    """A STIX 2.1 bundle's intel rows (their decoded values scrubbed) and the notes on what was skipped."""
    report.source_format = "stix"
    rows, errors = intel.read_bundle(stream.reader().read(), report.source_file)
    report.read = len(rows) + len(errors)
    found = stream.pans
    for row in rows:
        for key, value in row.items():
            if isinstance(value, str):
                row[key], n = values.text(value)
                found += n
    for i, error in enumerate(errors):
        errors[i], n = values.text(error)
        found += n
    report.notes += stream.notes + errors[:5] + ([f"... and {len(errors) - 5} more"] if len(errors) > 5 else [])
    report.pans_scrubbed += found
    return rows, errors


def _store_intel(con, rows: list[dict], errors: list[str], report: FileReport) -> None:
    """Intel rows go to the intel table; an indicator already known is a duplicate."""
    cols = [c.name for c in schema.INTEL_COLUMNS]
    con.execute("BEGIN")
    if rows:
        with db.registered(con, new_intel=pa.Table.from_pylist(rows)):
            report.stored = con.execute(
                f"INSERT INTO intel SELECT DISTINCT {', '.join(cols)} FROM new_intel n WHERE NOT EXISTS "
                "(SELECT 1 FROM intel i WHERE i.indicator_id = n.indicator_id AND i.value = n.value)").fetchone()[0]
    if errors:
        report.quarantined = con.execute(
            "INSERT INTO quarantine SELECT md5(?::VARCHAR || e), NULL, now(), ?, 'stix', NULL, NULL, e, NULL "
            "FROM unnest(?::VARCHAR[]) t(e) WHERE md5(?::VARCHAR || e) NOT IN (SELECT quarantine_id FROM quarantine)",
            [report.source_file, report.source_file, errors, report.source_file]).fetchone()[0]
    con.execute("COMMIT")
    report.duplicates = report.read - report.stored - report.quarantined


UNKNOWN_HEAD_BYTES = 4096  # what the quarantine keeps of a file whose format is not recognized
UNKNOWN = Format(
    name="unknown", channel="unknown", looks_like=lambda _: False,
    sql="SELECT line_no, 'format not recognized' AS _error, NULL::TIMESTAMPTZ AS time, NULL AS class_name FROM batch",
)
