"""Raw Windows event log files (.evtx), any channel, read with the `evtx` package (a Rust parser).

Each record is rendered as the evtx JSON shape (`{"Event": {"System": ..., "EventData": ...}}`), so the
JSON mapping `windows.sql` applies unchanged. The file is binary: the format claims it by its magic bytes
(`ElfFile\\0`) and reads it raw; the engine scrubs each rendered record before it goes further.

A record's `line_no` is its EventRecordID and its `offset` its ordinal in the file: both stable, so reading
the file again adds nothing. A chunk or record the parser cannot read becomes a record carrying the
parser's message as its error (quarantined), and reading goes on with the next chunk.
"""

from __future__ import annotations

import warnings
from typing import BinaryIO, Iterator

from evtx import PyEvtxParser

from storewatch.ingest.formats.base import Format, Record
from storewatch.ingest.formats.windows import SQL

MAGIC = b"ElfFile\x00"


def iter_records(stream: BinaryIO) -> Iterator[Record]:
    """One Record per event record; damaged chunks and records as error records, in file order."""
    ordinal = 0
    last_id = 0
    try:
        records = PyEvtxParser(stream, number_of_threads=1, skip_errors=True, indent=False).records_json()
    except Exception as exc:  # the file header itself is unreadable (the parser raises several kinds)
        yield Record(1, 0, "", f"unreadable evtx file: {exc}")
        return
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                rec = next(records, None)
                failure = None
            except Exception as exc:  # damage the parser cannot skip: what was read so far stays
                rec, failure = None, exc
        for warning in caught:  # a chunk or record skipped by the parser
            ordinal += 1
            yield Record(last_id + 1, ordinal, str(warning.message), f"damaged evtx: {warning.message}"[:300])
        if failure is not None:
            ordinal += 1
            yield Record(last_id + 1, ordinal, str(failure), f"damaged evtx: {failure}"[:300])
            return
        if rec is None:
            return
        ordinal += 1
        last_id = rec["event_record_id"]
        yield Record(last_id, ordinal, rec["data"])


FORMAT = Format(
    name="windows_evtx",
    channel="endpoint",
    sql=SQL,
    looks_like=lambda head: False,  # claimed by its magic bytes, never by text
    records=iter_records,
    document=True,
    magic=MAGIC,
    description="Windows event log files (.evtx)",
)
