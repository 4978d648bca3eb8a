"""Opening raw files as they come: compressed or not, any common encoding, damaged or whole.

Everything downstream sees UTF-8-compatible bytes in line-aligned blocks with card numbers already
replaced, so no later stage can leak a PAN. Damage (truncated gzip, undecodable bytes) becomes a note on
the file, never an exception.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BLOCK_BYTES = 32 << 20
MAX_LINE_BYTES = 256 << 20
HEAD_BYTES = 64 << 10

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


def open_raw(path: Path) -> BinaryIO:
    """The file's decompressed bytes, recognizing compression by magic number, not by name."""
    with open(path, "rb") as fh:
        magic = fh.read(6)
    for prefix, opener in _MAGIC.items():
        if magic.startswith(prefix):
            return opener(path, "rb")
    return open(path, "rb")


def read_head(path: Path, size: int = HEAD_BYTES) -> tuple[bytes, str | None]:
    """The first bytes of the decompressed file, and a note if even those could not be read."""
    try:
        with open_raw(path) as fh:
            return fh.read(size), None
    except _STREAM_ERRORS as exc:
        return b"", f"unreadable: {exc}"


@dataclass
class ScrubbedStream:
    """Line-aligned, scrubbed, UTF-8 blocks of a file, with the damage it met noted on the way."""

    path: Path
    scrub: Callable[[bytes], tuple[bytes, int]]
    notes: list[str] = field(default_factory=list)
    pans: int = 0
    raw_pos: int = 0  # bytes consumed from disk, for progress

    def blocks(self) -> Iterator[tuple[int, bytes]]:
        """(offset, block) pairs; each block ends at a newline except possibly the last."""
        offset, carry = 0, b""
        for chunk in self._decoded_chunks():
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < MAX_LINE_BYTES:
                carry = data
                continue
            cut = cut if cut >= 0 else len(data) - 1
            block, carry = data[: cut + 1], data[cut + 1 :]
            yield offset, self._scrubbed(block)
            offset += len(block)
        if carry:
            yield offset, self._scrubbed(carry)

    def _scrubbed(self, block: bytes) -> bytes:
        clean, found = self.scrub(block)
        self.pans += found
        return clean

    def _decoded_chunks(self) -> Iterator[bytes]:
        """Decompressed, UTF-8 chunks. Reads in small steps so that a damaged stream still yields every
        byte before the damage."""
        decoder, pending = None, []
        try:
            with open_raw(self.path) as raw:
                read = getattr(raw, "read1", raw.read)
                size = 0
                while piece := read(1 << 16):
                    if decoder is None and not pending:
                        decoder = _utf16_decoder(piece) or False
                    pending.append(piece)
                    size += len(piece)
                    if size >= BLOCK_BYTES:
                        self.raw_pos = _disk_position(raw)
                        yield self._transcode(decoder, b"".join(pending))
                        pending, size = [], 0
        except _STREAM_ERRORS as exc:
            self.notes.append(f"stream ended early ({exc.__class__.__name__}: {exc}); records before the damage were read")
        if pending:
            yield self._transcode(decoder, b"".join(pending))

    @staticmethod
    def _transcode(decoder, chunk: bytes) -> bytes:
        return decoder.decode(chunk).encode("utf-8") if decoder else chunk

    def reader(self) -> "BlockReader":
        return BlockReader(self.blocks())


class BlockReader:
    """A minimal file-like over scrubbed blocks, for parsers (lxml, orjson) that want `read`."""

    def __init__(self, blocks: Iterator[tuple[int, bytes]]):
        self._blocks = blocks
        self._buf = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            nxt = next(self._blocks, None)
            if nxt is None:
                break
            self._buf += nxt[1]
        if size < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:size], self._buf[size:]
        return out


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


def decode_text(block: bytes) -> tuple[str, int]:
    """UTF-8 where possible; lines that are not UTF-8 are read as Windows-1252/Latin-1 and counted."""
    try:
        return block.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    recoded, out = 0, []
    for line in block.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            recoded += 1
            try:
                out.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                out.append(line.decode("latin-1"))
    return "\n".join(out), recoded


def line_batch(block: bytes, first_line: int, base_offset: int) -> tuple[pa.Table, int, int]:
    """Arrow table (line_no, line_offset, line) of a block's non-blank lines; lines seen; lines recoded."""
    starts = np.concatenate(([0], np.flatnonzero(np.frombuffer(block, np.uint8) == 10) + 1))
    text, recoded = decode_text(block)
    lines = text.split("\n")
    if block.endswith(b"\n"):
        lines.pop()
        starts = starts[:-1]
    if "\x00" in text:
        lines = [line.replace("\x00", "\\x00") for line in lines]
    arr = pc.utf8_rtrim(pa.array(lines, pa.string()), characters="\r")
    table = pa.table(
        {
            "line_no": pa.array(np.arange(first_line, first_line + len(lines), dtype=np.int64)),
            "line_offset": pa.array(starts.astype(np.int64) + base_offset),
            "line": arr,
        }
    )
    keep = pc.not_equal(pc.utf8_trim_whitespace(arr), "")
    return table.filter(keep), len(lines), recoded
