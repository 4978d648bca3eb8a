"""What a source format is: a sniffer, an optional record reader, and a SQL mapping onto the schema.

Line formats (JSON lines, access logs, syslog) are read by the shared line reader and mapped in DuckDB,
vectorized over a batch of lines. Document formats (XML, whole JSON documents) bring a `records` reader
that turns the document into one JSON text per record; the same SQL mapping machinery then applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import BinaryIO, Callable, Iterator, NamedTuple

from storewatch.ingest.reader import Continuation


class Record(NamedTuple):
    """One raw record: where it starts, its text (scrubbed later), or why it could not be read."""

    line_no: int
    offset: int
    text: str
    error: str | None = None


RecordReader = Callable[[BinaryIO], Iterator[Record]]


@dataclass(frozen=True)
class Format:
    """A source format.

    `sql` is a SELECT over the relation `batch(line_no, line_offset, line)` that returns any subset of the
    schema's columns (by name) plus `_error`: NULL for a good record, else the reason to quarantine it.
    `looks_like` scores one sample line (or a document's head for document formats).
    """

    name: str
    channel: str
    sql: str
    looks_like: Callable[[str], bool]
    records: RecordReader | None = None  # set for document formats; None means one record per line
    document: bool = False  # sniffed on the file head, not per line
    description: str = ""
    ignore: str | None = None  # regex for lines that are not records (headers, comments); not counted
    specialize: "Callable[[str], Format] | None" = None  # formats whose header defines the columns
    # The mapping depends on the file as a whole (a window over its lines, its modification time), so its
    # batches are never mapped together with other files' records.
    whole_file: bool = False
    # Binary containers (.evtx) are claimed by the first bytes of the raw file, before the binary check;
    # `records` then gets the raw (decompressed) bytes and the engine scrubs each record it yields.
    magic: bytes | None = None
    # Records that span lines (a statement over several lines, a CSV field with newlines): the reader joins
    # each record's lines into one row (see `Continuation`); None means one record per line.
    continuation: Continuation | None = None


def load_sql(name: str) -> str:
    """Read a mapping shipped beside the format modules (mappings are data, not code)."""
    return resources.files("storewatch.ingest.formats").joinpath(f"{name}.sql").read_text(encoding="utf-8")
