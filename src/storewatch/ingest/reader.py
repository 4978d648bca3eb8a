"""Opening raw files as they come: compressed or not, any common encoding, damaged or whole.

Everything downstream sees UTF-8-compatible bytes in line-aligned blocks with card numbers already
replaced, so no later stage can leak a PAN. Damage (truncated gzip, undecodable bytes) becomes a note on
the file, never an exception.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storewatch.ingest.archives import Closing, ZipMember
from storewatch.ingest.privacy import Scrubber

BLOCK_BYTES = 16 << 20
FIRST_BLOCK_BYTES = 1 << 20
# A record may be this long; a longer line is quarantined with its head only, and never held whole (a
# small .gz can expand to one line of gigabytes). Mapping a line costs about `LINE_MEMORY_FACTOR` times its
# length in DuckDB (engine.py).
MAX_LINE_BYTES = 32 << 20
LONG_LINE_HEAD = 4096
HEAD_BYTES = 64 << 10

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError, zipfile.BadZipFile)


def open_raw(path: Path | ZipMember) -> BinaryIO:
    """The file's decompressed bytes, recognizing compression by magic number, not by name."""
    if isinstance(path, ZipMember):
        member = path.open()
        try:
            magic = member.peek(6)[:6]
            opener = next((o for prefix, o in _MAGIC.items() if magic.startswith(prefix)), None)
            return Closing(opener(member, "rb"), member) if opener else member
        except BaseException:
            member.close()
            raise
    with open(path, "rb") as fh:
        magic = fh.read(6)
    for prefix, opener in _MAGIC.items():
        if magic.startswith(prefix):
            return opener(path, "rb")
    return open(path, "rb")


def read_head(path: Path | ZipMember, size: int = HEAD_BYTES) -> tuple[bytes, str | None]:
    """The first bytes of the decompressed file, and a note if even those could not be read. Read in small
    steps: a damaged stream (a truncated gzip) still gives the bytes before the damage to the sniffer."""
    head = bytearray()
    try:
        with open_raw(path) as fh:
            while len(head) < size and (piece := fh.read(min(1 << 12, size - len(head)))):
                head += piece
    except _STREAM_ERRORS as exc:
        if not head:
            return b"", f"unreadable: {exc}"
    return bytes(head), None


@dataclass
class ScrubbedStream:
    """Line-aligned, scrubbed, UTF-8 blocks of a file, with the damage it met noted on the way."""

    path: Path | ZipMember
    scrub: Scrubber
    notes: list[str] = field(default_factory=list)
    pans: int = 0
    raw_pos: int = 0  # bytes consumed from disk, for progress
    long_lines: dict[int, int] = field(default_factory=dict)  # offset -> length of lines not read
    # A byte range of a plain file (`storewatch watch` reads what a followed file gained): where to start,
    # where to stop (None: its end), the number of the line at `start`, and the lines read so far.
    start: int = 0
    stop: int | None = None
    first_line: int = 1
    lines: int = 0

    def blocks(self) -> Iterator[tuple[int, bytes | bytearray]]:
        """(offset, block) pairs, scrubbed; each block ends at a newline except possibly the last."""
        for offset, block in self.raw_blocks():
            yield offset, self._scrubbed(block)

    def line_batches(self, continuation: Continuation | None = None) -> Iterator[LineBatch]:
        """The file as Arrow batches of scrubbed, non-blank lines (see `line_batch`); with a `continuation`,
        as batches of records, each the lines of one record joined (see `Continuation`). A line longer
        than `MAX_LINE_BYTES` is not read: its first `LONG_LINE_HEAD` bytes stand for it, with the reason
        in a `_read_error` column (a record is quarantined, not mapped, when that column holds a reason)."""
        line_no = self.first_line
        joiner = _Joiner(continuation) if continuation is not None else None
        for offset, block in self.raw_blocks(skip_long_lines=True):
            batch = line_batch(block, line_no, offset, self.scrub, keep_blank=joiner is not None)
            line_no += batch.seen
            self.lines += batch.seen
            self.pans += batch.pans
            batch.table = self._mark_long_lines(batch.table)
            if joiner is not None:
                batch.table = joiner.feed(batch.table)
            yield batch
        if joiner is not None and (last := joiner.flush()) is not None:
            yield LineBatch(last, 0, 0, 0)

    def raw_blocks(self, skip_long_lines: bool = False) -> Iterator[tuple[int, bytearray]]:
        """(offset, block) pairs before scrubbing: callers must scrub them (`blocks`, `line_batches` do).

        Each block is a buffer of its own, filled once: the partial line left over from the previous block
        comes first and the file's bytes are read in behind it, then the new partial line is cut off its
        end in place. Copying blocks (joining, slicing) cost more than splitting them into lines, most of
        it the kernel zeroing the fresh pages of every copy.

        A line that grows past `MAX_LINE_BYTES` is never held whole: with `skip_long_lines` it is read on
        to its end and only its head is passed on, as a line of its own at the line's offset (noted in
        `long_lines`); without (documents, which may well be one line), it is cut there into blocks."""
        offset, carry = self.start, b""
        skipped: list | None = None  # a line too long to keep: [offset, head, bytes so far]
        for data in self._decoded_chunks(lambda: carry):
            if skipped is not None:
                end = data.find(b"\n")
                skipped[2] += len(data) if end < 0 else end + 1
                if end < 0:
                    continue
                yield skipped[0], self._long_line(skipped[0], skipped[1], skipped[2] - 1)  # less its newline
                offset, skipped = skipped[0] + skipped[2], None
                del data[: end + 1]
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < MAX_LINE_BYTES:
                carry = bytes(data)  # a line longer than the block: read on
                continue
            if cut < 0 and skip_long_lines:
                skipped, carry = [offset, bytes(data[:LONG_LINE_HEAD]), len(data)], b""
                continue
            cut = cut if cut >= 0 else _document_cut(data)
            carry = bytes(data[cut + 1:])
            del data[cut + 1:]  # a short tail: the buffer shrinks in place
            if data:
                yield offset, data
            offset += len(data)
        if skipped is not None:
            yield skipped[0], self._long_line(*skipped)
        elif carry:
            yield offset, bytearray(carry)

    def _long_line(self, offset: int, head: bytes, length: int) -> bytearray:
        """The head standing for a line not read, as a line of its own. Cut before any digits at its end:
        a card number cut in two would no longer be recognized as one by the scrubber."""
        self.long_lines[offset] = length
        return bytearray(head.rstrip(b"0123456789 -").replace(b"\n", b" ") + b"\n")

    def _mark_long_lines(self, table: pa.Table) -> pa.Table:
        """Lines longer than `MAX_LINE_BYTES` (skipped by `raw_blocks`, or whole in a block) cut to their
        head, with the reason they were not read."""
        long = pc.greater(pc.binary_length(table["line"]), MAX_LINE_BYTES)
        if self.long_lines:
            long = pc.or_(long, pc.is_in(table["line_offset"], value_set=pa.array(list(self.long_lines), pa.int64())))
        if not pc.any(long).as_py():
            return table
        lengths = [self.long_lines.get(o, n) for o, n in zip(table["line_offset"].to_pylist(),
                                                              pc.binary_length(table["line"]).to_pylist())]
        reasons = pa.array([f"line of {n:,} bytes, longer than the {MAX_LINE_BYTES >> 20} MiB a record may have: "
                            f"not read (its first {LONG_LINE_HEAD:,} bytes kept)" for n in lengths], pa.string())
        reasons = pc.if_else(long, reasons, pa.nulls(len(reasons), pa.string()))
        head = pc.utf8_rtrim(pc.utf8_slice_codeunits(table["line"], 0, LONG_LINE_HEAD), characters="0123456789 -")
        text = pc.if_else(long, head, table["line"])  # (no digits at the cut: see `_long_line`)
        return table.set_column(table.schema.get_field_index("line"), "line", text).append_column("_read_error", reasons)

    def _scrubbed(self, block: bytearray) -> bytes | bytearray:
        clean, found = self.scrub(block)
        self.pans += found
        return clean

    def _decoded_chunks(self, carry: Callable[[], bytes]) -> Iterator[bytearray]:
        """Decompressed UTF-8 chunks, each starting with `carry()`. Compressed streams are read in small
        steps so that a damaged one still yields every byte before the damage; plain files a block at a
        time, straight into the chunk."""
        chunk, head = None, b""
        try:
            with open_raw(self.path) as raw:
                decoder = _utf16_decoder(raw.peek(2)[:2]) if hasattr(raw, "peek") else None
                direct = isinstance(raw, io.BufferedReader) and decoder is None
                if self.start or self.stop is not None:
                    if not direct:
                        raise ValueError("a byte range is read from plain files only")
                    raw.seek(self.start)
                read = getattr(raw, "read1", raw.read)
                limit = FIRST_BLOCK_BYTES  # a small first block lets the next stages start sooner
                while True:
                    head = carry()
                    if direct:
                        # no larger than what is left of the file (a small file read into a 16 MB
                        # buffer paid for zeroing it), and never so small that growth goes unseen
                        want = (min(limit, max(os.fstat(raw.fileno()).st_size - raw.tell(), 1 << 16))
                                if self.stop is None else min(limit, self.stop - raw.tell()))
                        if want <= 0:
                            chunk = None
                            break
                        chunk = bytearray(len(head) + want)
                        chunk[: len(head)] = head
                        got = raw.readinto(memoryview(chunk)[len(head):])
                        if got < want:
                            del chunk[len(head) + got:]
                    else:
                        chunk, got = bytearray(head), 0
                        while got < limit and (piece := read(1 << 16)):
                            chunk += decoder.decode(piece).encode("utf-8") if decoder else piece
                            got += len(piece)
                    if not got:
                        chunk = None
                        break
                    self.raw_pos = _disk_position(raw)
                    out, chunk = chunk, None
                    yield out
                    limit = BLOCK_BYTES
        except _STREAM_ERRORS as exc:
            self.notes.append(f"stream ended early ({exc.__class__.__name__}: {exc}); records before the damage were read")
        if chunk is not None and len(chunk) > len(head):  # what was read before the damage
            yield chunk

    def reader(self) -> "BlockReader":
        return BlockReader(self.blocks())


class BlockReader:
    """A minimal file-like over scrubbed blocks, for parsers (lxml, orjson) that want `read`.

    A read returns a slice of the current block and moves a position on: cutting the rest of the block
    off at every read copied it each time (lxml reads 64 KB at a time from 16 MB blocks)."""

    def __init__(self, blocks: Iterator[tuple[int, bytes]]):
        self._blocks = blocks
        self._buf: bytes | bytearray = b""
        self._pos = 0  # where the unread part of `_buf` starts

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) - self._pos < size:
            nxt = next(self._blocks, None)
            if nxt is None:
                break
            self._buf, self._pos = bytes(self._buf[self._pos:]) + nxt[1], 0
        end = len(self._buf) if size < 0 else self._pos + size
        out = bytes(self._buf[self._pos:end])
        self._pos = min(end, len(self._buf))
        if self._pos == len(self._buf):
            self._buf, self._pos = b"", 0
        return out


def _document_cut(data: bytearray) -> int:
    """Where to cut a block of a document with no newline in sight: after a delimiter of its last 64 KB
    (`,` `>` `}` or a space), so that the scrubber, which reads block by block, sees a card number whole."""
    start = max(len(data) - (1 << 16), 0)
    cut = max(data.rfind(c, start) for c in (b",", b">", b"}", b" "))
    return cut if cut >= 0 else len(data) - 1


def _utf16_decoder(first: bytes):
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return codecs.getincrementaldecoder("utf-16")()
    return None


def _disk_position(raw: BinaryIO) -> int:
    inner = getattr(raw, "fileobj", None) or getattr(raw, "_fp", None) or raw
    try:
        return inner.tell()
    except (OSError, ValueError, AttributeError):
        return 0


def _decode_line(line: bytes) -> tuple[str, int]:
    """UTF-8 where possible; a line that is not is read as Windows-1252 (or Latin-1) and counted."""
    try:
        return line.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252"), 1
    except UnicodeDecodeError:
        return line.decode("latin-1"), 1


@dataclass
class LineBatch:
    """The non-blank lines of one block as Arrow (line_no, line_offset, line), and what reading them met."""

    table: pa.Table
    seen: int  # lines in the block, blank ones included (line numbers advance by this much)
    recoded: int  # lines that were not UTF-8
    pans: int  # card numbers replaced


def line_batch(block: bytes, first_line: int, base_offset: int, scrub: Scrubber | None = None,
               keep_blank: bool = False) -> LineBatch:
    """Split a block into an Arrow batch of lines without a Python object per line.

    The lines are cut out of the block's own buffer (zero copy); card numbers are replaced on the few lines
    that hold one (see `Scrubber.pan_lines`) before the bytes are read as text. Trailing CR, and the
    newline, are trimmed; blank lines are dropped but counted (kept with `keep_blank`: inside a record
    that spans lines they are part of it).
    """
    if not block:
        return LineBatch(_lines_table([], [], pa.array([], pa.string())), 0, 0, 0)
    newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    ends = newlines + 1
    if not block.endswith(b"\n"):
        ends = np.append(ends, len(block))
    count = len(ends)
    offsets = np.empty(count + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends
    large = len(block) >= (1 << 31) - 1
    lines = pa.Array.from_buffers(
        pa.large_binary() if large else pa.binary(), count,
        [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)), pa.py_buffer(block)],
    )
    pans = 0
    if scrub is not None and (pan_lines := scrub.pan_lines(block)):
        lines, pans = _scrub_lines(lines, offsets, pan_lines, scrub)
    recoded = 0
    try:
        text = lines.cast(pa.large_string() if large else pa.string())  # validates UTF-8
    except pa.ArrowInvalid:
        decoded = [_decode_line(b) for b in lines.to_pylist()]
        recoded = sum(bad for _, bad in decoded)
        text = pa.array([t for t, _ in decoded], pa.large_string() if large else pa.string())
    if b"\x00" in block:
        text = pc.replace_substring(text, "\x00", "\\x00")
    keep = pc.invert(pc.utf8_is_space(text))  # before trimming, every line holds at least its newline
    text = pc.utf8_rtrim(text, characters="\r\n")
    starts = offsets[:-1] + base_offset
    table = _lines_table(np.arange(first_line, first_line + count, dtype=np.int64), starts, text)
    if not keep_blank and not pc.all(keep).as_py():
        table = table.filter(keep)
    return LineBatch(table, count, recoded, pans)


@dataclass(frozen=True)
class Continuation:
    """How a format's records span lines, so that the reader hands the mapping one row per record: the
    record's lines joined with newlines, numbered and placed at its first line. A record may run across
    blocks; it is held back until the line after it shows that it is complete. The ingest report's `read`
    counts these records, not lines.

    `pattern`: a line matching this regex continues the record before it (PostgreSQL's stderr log indents
    the following lines of a message with a tab), unless it also matches `unless` (RE2 has no negative
    lookahead). `quotes`: a line continues the record before it while the double quotes of that record are
    unbalanced (CSV with quoted newlines, `""` being an escaped quote). No record grows beyond `max_lines`:
    a damaged file (an unclosed quote) cannot swallow the rest of it.
    """

    pattern: str | None = None
    unless: str | None = None
    quotes: bool = False
    max_lines: int = 10_000

    def continues(self, text: pa.Array, open_quote: bool, carried: int | None) -> tuple[np.ndarray, bool]:
        """Which lines continue the record before them, and whether the last record's quote is left open.
        `carried`: the lines the open record already has (None: there is none, the first line starts one)."""
        odd = None
        if self.pattern is not None:
            cont = pc.match_substring_regex(text, self.pattern)
            if self.unless is not None:
                cont = pc.and_(cont, pc.invert(pc.match_substring_regex(text, self.unless)))
            cont, still_open = cont.to_numpy(zero_copy_only=False), False
        else:
            odd = pc.count_substring(text, '"').to_numpy(zero_copy_only=False) & 1
            before = (np.cumsum(odd) - odd + open_quote) & 1  # quote parity at the start of each line
            cont, still_open = before.astype(bool), bool((before[-1] + odd[-1]) & 1)
        if carried is None:
            cont[0], carried = False, 0
        starts = np.flatnonzero(~cont)
        longest = max(np.diff(np.append(starts, len(cont))).max(initial=0), carried + (starts[0] if len(starts) else len(cont)))
        if longest > self.max_lines:
            return self._capped(cont, odd, open_quote, carried)
        return cont, still_open

    def _capped(self, cont: np.ndarray, odd: np.ndarray | None, open_quote: bool, length: int) -> tuple[np.ndarray, bool]:
        """`continues` for a block where a record outgrows `max_lines` (a damaged file, rare: line by line).
        The record is cut there and the next line starts afresh, its quotes closed."""
        cont = cont.copy()
        for i in range(len(cont)):
            if odd is not None:
                cont[i] = open_quote
            if cont[i] and length >= self.max_lines:
                cont[i] = open_quote = False
            length = length + 1 if cont[i] else 1
            if odd is not None:
                open_quote ^= bool(odd[i])
        return cont, bool(open_quote)


class _Joiner:
    """Joins the lines of multi-line records batch by batch, carrying the open record to the next batch."""

    def __init__(self, rule: Continuation):
        self.rule = rule
        self.open_quote = False
        self.carry: tuple[int, int, list[str]] | None = None  # line_no, offset, lines of the open record

    def feed(self, table: pa.Table) -> pa.Table:
        if not table.num_rows:
            return table
        text = table["line"].combine_chunks()
        cont, self.open_quote = self.rule.continues(text, self.open_quote, len(self.carry[2]) if self.carry else None)
        blank = pc.utf8_is_space(text).to_numpy(zero_copy_only=False) | (pc.utf8_length(text).to_numpy(zero_copy_only=False) == 0)
        if (blank & ~cont).any():  # blank lines between records are no records
            keep = ~(blank & ~cont)
            table, text, cont = table.filter(pa.array(keep)), text.filter(pa.array(keep)), cont[keep]
            if not table.num_rows:
                return table
        starts = np.flatnonzero(~cont)
        out = []
        if self.carry is not None:
            self.carry[2].extend(text.slice(0, starts[0] if len(starts) else len(cont)).to_pylist())
            if len(starts):
                out.append(self._carried())
        if not len(starts):
            return table.slice(0, 0)
        last = int(starts[-1])
        self.carry = (int(table["line_no"][last].as_py()), int(table["line_offset"][last].as_py()),
                      text.slice(last).to_pylist())
        if len(starts) > 1:
            body = text.slice(int(starts[0]), last - int(starts[0]))
            lists = pa.ListArray.from_arrays(pa.array(starts - starts[0], pa.int32()), body)
            rows = pa.array(starts[:-1])
            out.append(pa.table({"line_no": table["line_no"].take(rows), "line_offset": table["line_offset"].take(rows),
                                 "line": pc.binary_join(lists, "\n")}))
        return pa.concat_tables(out) if out else table.slice(0, 0)

    def flush(self) -> pa.Table | None:
        """The last record of the file, if one is open."""
        return self._carried() if self.carry is not None else None

    def _carried(self) -> pa.Table:
        line_no, offset, lines = self.carry
        self.carry = None
        return pa.table({"line_no": pa.array([line_no], pa.int64()), "line_offset": pa.array([offset], pa.int64()),
                         "line": pa.array(["\n".join(lines)], pa.string())})


def _lines_table(line_no, offsets, text) -> pa.Table:
    return pa.table({"line_no": pa.array(line_no, pa.int64()), "line_offset": pa.array(offsets, pa.int64()), "line": text})


def _scrub_lines(lines: pa.Array, offsets: np.ndarray, starts: list[int], scrub: Scrubber) -> tuple[pa.Array, int]:
    """Replace the lines starting at `starts` (byte offsets in the block) by their scrubbed text."""
    rows = np.searchsorted(offsets, starts, "right") - 1
    replacements, found = [], 0
    for row in rows:
        clean, n = scrub.replace(lines[int(row)].as_py())
        replacements.append(clean)
        found += n
    flags = np.zeros(len(lines), bool)
    flags[rows] = True
    return pc.replace_with_mask(lines, pa.array(flags), pa.array(replacements, lines.type)), found
