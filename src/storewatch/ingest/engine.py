"""The ingest stage: files in, normalized events, intel and quarantine out, every record accounted for.

Per file: sniff the format from content, stream scrubbed line batches (or document records) through the
format's SQL mapping into a staging table, then in one transaction give each record a stable id, skip
those already stored, and write the rest to `events` or `quarantine`. Identical records within one file
stay distinct (their occurrence number is part of the id); the same file read twice, or a file that grew,
adds only what is new.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import pyarrow as pa

from storewatch.ingest import documents, intel, sniff
from storewatch.ingest.formats import LINE_FORMATS, DOCUMENT_FORMATS
from storewatch.ingest.formats.base import Format, Record
from storewatch.ingest.privacy import make_scrubber
from storewatch.ingest.reader import HEAD_BYTES, ScrubbedStream, line_batch, read_head
from storewatch.store import db, schema
from storewatch.workspace import Workspace

Progress = Callable[[str, int, int], None]  # (file, bytes done, bytes total)
RECORDS_PER_BATCH = 200_000
MEMORY_LIMIT = "1GB"


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


def expand(paths: Iterable[Path], skip: Path | None = None) -> list[Path]:
    """Files under the given paths, recursively, in a stable order; the workspace itself is skipped."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and Path(root, d).resolve() != skip)
                out += [Path(root, f) for f in sorted(files) if not f.startswith(".")]
        else:
            out.append(p)
    return out


def ingest(paths: Iterable[Path], ws: Workspace, tz: str = "UTC", progress: Progress | None = None) -> IngestReport:
    """Ingest files and folders into the workspace store."""
    files = expand(paths, skip=ws.home)
    scrub = make_scrubber(ws.token_key())
    con = db.connect(ws)
    try:
        con.execute("SET VARIABLE sw_tz = ?", [tz])
        # Bound DuckDB's own memory so large inputs spill to disk instead of growing the process.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()[0]
        started = datetime.now(timezone.utc)
        reports = [_ingest_file(con, path, run_id, scrub, progress) for path in files]
        report = IngestReport(run_id, reports)
        t = report.totals
        con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started, datetime.now(timezone.utc), len(files), t["read"], t["stored"], t["quarantined"], t["duplicates"]],
        )
        con.executemany(
            "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[run_id, r.source_file, r.source_format, r.read, r.stored, r.quarantined, r.duplicates, r.pans_scrubbed, "; ".join(r.notes)] for r in reports],
        )
        return report
    finally:
        con.close()


def _ingest_file(con: duckdb.DuckDBPyConnection, path: Path, run_id: int, scrub, progress: Progress | None) -> FileReport:
    name = str(Path(path).resolve())
    name = scrub(name.encode())[0].decode("utf-8", "replace")
    report = FileReport(name, "unknown")
    if not path.exists() or not path.is_file():
        report.notes.append("not found" if not path.exists() else "not a regular file")
        return report
    total = path.stat().st_size
    head, problem = read_head(path)
    if problem:
        report.notes.append(problem)
    stream = ScrubbedStream(path, scrub)
    if not sniff.is_binary(head) and intel.looks_like(documents.head_text(head)):
        _ingest_intel(con, stream, report)
        return report
    fmt, records = _plan(path, head, stream, report)
    con.execute("SET VARIABLE sw_year_ref = ?", [datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)])
    _stage(con, fmt, records, report, stream, progress, total)
    _commit(con, report, run_id, fmt)
    report.pans_scrubbed = stream.pans
    report.notes += stream.notes
    if progress:
        progress(name, total, total)
    return report


def _plan(path: Path, head: bytes, stream: ScrubbedStream, report: FileReport) -> tuple[Format, Iterator[pa.Table]]:
    """Decide how to read the file: a line format, a document format, a JSON document, or unknown."""
    if sniff.is_binary(head):
        report.source_format = "binary"
        report.notes.append("binary content, not a log: kept as one quarantined record")
        return UNKNOWN, _batches(iter([Record(1, 0, head[:4096].hex(), "binary file, not a text log")]))
    text_head = documents.head_text(head)
    for fmt in DOCUMENT_FORMATS:
        if sniff.safe_looks_like(fmt, text_head):
            report.source_format = fmt.name
            return fmt, _batches(fmt.records(stream.reader()))
    if documents.is_json_document(text_head):
        records = list(documents.json_records(stream.reader(), report.notes))
        fmt = sniff.best_line_format([r.text for r in records if r.error is None], LINE_FORMATS) or UNKNOWN
        report.source_format = fmt.name + "+document" if fmt is not UNKNOWN else "json-document"
        return fmt, _batches(iter(records))
    lines = text_head.splitlines()
    if len(head) >= HEAD_BYTES and lines:
        lines.pop()  # possibly cut mid-line
    fmt = sniff.best_line_format(lines, LINE_FORMATS)
    if fmt is None:
        report.notes.append("format not recognized: every line kept in quarantine")
        return UNKNOWN, _line_batches(stream, None)
    fmt = fmt.specialize(text_head) if fmt.specialize else fmt
    report.source_format = fmt.name
    return fmt, _line_batches(stream, fmt)


def _line_batches(stream: ScrubbedStream, fmt: Format | None) -> Iterator[pa.Table]:
    line_no = 1
    for offset, block in stream.blocks():
        table, seen, recoded = line_batch(block, line_no, offset)
        line_no += seen
        if recoded:
            stream.notes.append(f"{recoded} lines were not UTF-8 and were read as Windows-1252")
        if fmt is not None and fmt.ignore:
            table = table.filter(pa.compute.invert(pa.compute.match_substring_regex(table["line"], fmt.ignore)))
        yield table


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


_CLASS_UID = "CASE m.class_name " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in schema.EVENT_CLASSES.items()) + " END"
_STAGING = schema.create_table_sql("_staging", schema.EVENT_COLUMNS + (
    schema.Column("_hash", "VARCHAR", ""), schema.Column("_error", "VARCHAR", ""), schema.Column("_raw", "VARCHAR", ""),
)).replace("CREATE TABLE", "CREATE TEMP TABLE")


def _stage(con, fmt: Format, batches: Iterator[pa.Table], report: FileReport, stream: ScrubbedStream,
           progress: Progress | None, total: int) -> None:
    """Map every batch through the format's SQL into `_staging`; nothing is dropped on the way."""
    con.execute("DROP TABLE IF EXISTS _staging")
    con.execute(_STAGING)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if "_read_error" not in batch.column_names:
            batch = batch.append_column("_read_error", pa.nulls(batch.num_rows, pa.string()))
        report.read += batch.num_rows
        _stage_batch(con, fmt, batch)
        if progress:
            progress(report.source_file, stream.raw_pos, total)


def _stage_batch(con, fmt: Format, batch: pa.Table) -> None:
    """Map one batch. A record the mapping chokes on is found by halving the batch and quarantined
    alone with the error; the rest of the batch is stored as usual."""
    con.register("batch", batch)
    try:
        con.execute(_STAGE_SQL.format(mapping=fmt.sql), [fmt.channel, fmt.name])
        return
    except duckdb.Error as exc:
        if batch.num_rows == 1:
            con.execute(_STAGE_SQL.format(mapping=_FAILED_MAPPING), [fmt.channel, f"{fmt.name}: {exc}"[:300]])
            return
    finally:
        con.unregister("batch")
    half = batch.num_rows // 2
    _stage_batch(con, fmt, batch.slice(0, half))
    _stage_batch(con, fmt, batch.slice(half))


_STAGE_SQL = """
INSERT INTO _staging BY NAME
WITH m AS ({mapping})
SELECT m.* EXCLUDE (line_no, _error),
       {class_uid} AS class_uid,
       $1 AS channel,
       b.line_no AS source_line,
       b.line_offset AS source_offset,
       md5(b.line) AS _hash,
       coalesce(b._read_error, m._error,
         CASE WHEN m.line_no IS NULL THEN 'not recognized as ' || $2
              WHEN m.time IS NULL THEN 'missing or unparseable timestamp'
              WHEN m.time < TIMESTAMPTZ '1990-01-01' OR m.time > now() + INTERVAL 10 YEAR THEN 'timestamp out of range: ' || m.time::VARCHAR
         END) AS _error,
       b.line AS _raw
FROM batch b LEFT JOIN m USING (line_no)
""".replace("{class_uid}", _CLASS_UID)

_FAILED_MAPPING = "SELECT line_no, 'mapping failed: ' || $2 AS _error, NULL::TIMESTAMPTZ AS time, NULL AS class_name FROM batch"


def _commit(con, report: FileReport, run_id: int, fmt: Format) -> None:
    """Give records their ids, skip the known ones, store the rest, in one transaction."""
    cols = ", ".join(c for c in schema.COLUMN_NAMES if c not in ("event_id", "source_file", "source_format"))
    con.execute("BEGIN")
    try:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _final AS
            SELECT *, NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)
                      AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.quarantine_id = s.event_id) AS _new
            FROM (SELECT * REPLACE (md5(_hash || ':' || (row_number() OVER (PARTITION BY _hash ORDER BY source_line) - 1)) AS event_id)
                  FROM _staging) s""")
        stored = con.execute(
            f"INSERT INTO events (event_id, source_file, source_format, {cols}) "
            f"SELECT event_id, ?, ?, {cols} FROM _final WHERE _new AND _error IS NULL ORDER BY time",
            [report.source_file, fmt.name]).fetchone()[0]
        quarantined = con.execute(
            "INSERT INTO quarantine SELECT event_id, ?, now(), ?, ?, source_line, source_offset, _error, _raw "
            "FROM _final WHERE _new AND _error IS NOT NULL ORDER BY source_line",
            [run_id, report.source_file, report.source_format]).fetchone()[0]
        con.execute("DROP TABLE _staging")
        con.execute("DROP TABLE _final")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    report.stored, report.quarantined = stored, quarantined
    report.duplicates = report.read - stored - quarantined


def _ingest_intel(con, stream: ScrubbedStream, report: FileReport) -> None:
    """STIX 2.1 bundles feed the intel table; an indicator already known is a duplicate."""
    report.source_format = "stix"
    rows, errors = intel.read_bundle(stream.reader().read(), report.source_file)
    report.read = len(rows) + len(errors)
    report.notes += stream.notes + errors[:5] + ([f"... and {len(errors) - 5} more"] if len(errors) > 5 else [])
    report.pans_scrubbed = stream.pans
    cols = [c.name for c in schema.INTEL_COLUMNS]
    con.execute("BEGIN")
    if rows:
        con.register("new_intel", pa.Table.from_pylist(rows))
        report.stored = con.execute(
            f"INSERT INTO intel SELECT DISTINCT {', '.join(cols)} FROM new_intel n WHERE NOT EXISTS "
            "(SELECT 1 FROM intel i WHERE i.indicator_id = n.indicator_id AND i.value = n.value)").fetchone()[0]
        con.unregister("new_intel")
    if errors:
        report.quarantined = con.execute(
            "INSERT INTO quarantine SELECT md5(?::VARCHAR || e), NULL, now(), ?, 'stix', NULL, NULL, e, NULL "
            "FROM unnest(?::VARCHAR[]) t(e) WHERE md5(?::VARCHAR || e) NOT IN (SELECT quarantine_id FROM quarantine)",
            [report.source_file, report.source_file, errors, report.source_file]).fetchone()[0]
    con.execute("COMMIT")
    report.duplicates = report.read - report.stored - report.quarantined


UNKNOWN = Format(
    name="unknown", channel="unknown", looks_like=lambda _: False,
    sql="SELECT line_no, 'format not recognized' AS _error, NULL::TIMESTAMPTZ AS time, NULL AS class_name FROM batch",
)
