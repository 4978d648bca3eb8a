"""Streaming XML documents into records, shared by every XML source format.

XML exports from tills and Windows hosts run to gigabytes, arrive truncated when a copy was cut short,
and sometimes hold junk spliced into the middle. `iter_xml_records` therefore parses with
lxml's pull parser, turns each record element into a dict as soon as it closes, frees it, and on
damage yields one error Record quoting the raw text from the damaged point on, instead of raising.

The raw bytes are kept by `_Tape`, a file-like between the source and lxml that remembers the bytes of
the record being parsed (and lxml's read-ahead), so an error can quote them and each record's
line can be given its byte offset, while memory stays flat.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO, Callable, Iterable, Iterator

import orjson
from lxml import etree

from storewatch.ingest.formats.base import Record

SNIPPET_LIMIT = 1 << 20  # an error record quotes at most this much raw text
TAPE_LIMIT = 4 << 20  # raw bytes kept for quoting; beyond this the oldest are dropped
_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*\?>")
_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?:[^\[>]|\[[^\]]*\])*>")  # with its internal subset, if any
_ELEMENT = re.compile(rb"<[A-Za-z_]")  # the root element's start: the prolog ends there

Converter = Callable[[etree._Element], dict]


_LOCAL: dict[str, str] = {}  # "{namespace}Name" -> "Name"


def local_tag(tag: str) -> str:
    """A tag without its namespace, remembered: documents repeat a few tags millions of times."""
    name = _LOCAL.get(tag)
    if name is None:
        if len(_LOCAL) > 10_000:  # odd input with endless distinct tags
            _LOCAL.clear()
        name = _LOCAL[tag] = tag.rpartition("}")[2]
    return name


def local_name(el: etree._Element) -> str:
    """Tag without namespace: sources mix default namespaces, prefixes and none at all."""
    tag = el.tag
    return local_tag(tag) if tag.__class__ is str else ""


class _Tape:
    """File-like that lxml reads from: optional wrapper prefix/suffix, and a memory of recent raw bytes.

    `wrap` puts the source inside a virtual root element so a stream of concatenated documents (one
    Windows Event per line) parses as one document; its XML declaration is blanked with spaces and a
    UTF-16 source is transcoded to UTF-8, so line numbers still match the file.
    """

    def __init__(self, stream: BinaryIO, wrap: str | None = None) -> None:
        self._stream = stream
        self._prefix = f"<{wrap}>".encode() if wrap else b""
        self._suffix = f"</{wrap}>".encode() if wrap else b""
        self._wrap = bool(wrap)
        self._first = True
        self._decoder: codecs.IncrementalDecoder | None = None
        self._eof = False
        self._buf = bytearray()  # raw source bytes from line `_line` (offset `_offset`) onward
        self._line = 1  # line number of _buf[0]
        self._offset = 0
        self._at_line_start = True  # False once the cap dropped bytes mid-line
        self._line_bytes = 40  # recent average line length, to find a line's offset in few steps

    def _source(self, size: int) -> bytes:
        chunk = self._stream.read(size)
        if self._first and self._wrap and chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._decoder = codecs.getincrementaldecoder("utf-16")()
        if self._decoder is not None:
            raw = chunk
            chunk = self._decoder.decode(raw, final=not raw).encode("utf-8")
            while raw and not chunk:  # a lone byte of a code unit decodes to nothing yet
                raw = self._stream.read(size)
                chunk = self._decoder.decode(raw, final=not raw).encode("utf-8")
        if self._first and self._wrap and chunk:
            # a declaration inside the virtual root is illegal: blank it, keeping offsets and lines
            chunk = _DECL.sub(lambda m: b" " * len(m.group(0)), chunk, count=1)
        if self._first and chunk:
            chunk = _without_doctype(chunk)
        if chunk:
            self._first = False
        return chunk

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            out, self._prefix = self._prefix, b""
            return out
        if self._eof:
            out, self._suffix = self._suffix, b""
            return out
        chunk = self._source(size if size and size > 0 else 1 << 16)
        if not chunk:
            self._eof = True
            out, self._suffix = self._suffix, b""
            return out
        self._buf += chunk
        if len(self._buf) > TAPE_LIMIT:
            self._drop(len(self._buf) - TAPE_LIMIT)
        return chunk

    def _drop(self, count: int) -> None:
        dropped = self._buf[:count]
        self._line += dropped.count(b"\n")
        self._offset += count
        self._at_line_start = dropped.endswith(b"\n")
        del self._buf[:count]

    @property
    def line(self) -> int:
        """Line of the oldest raw byte still kept."""
        return self._line

    def mark(self, line: int) -> int:
        """Forget bytes before `line`; return that line's byte offset (0 when no longer known)."""
        need = line - self._line
        if need > 0:
            pos = _past_newlines(self._buf, need, need * self._line_bytes)
            if pos > 0:
                self._line_bytes = max(1, pos // need)
                self._drop(pos)
        return self._offset if self._line == line and self._at_line_start else 0

    def rest(self, line: int, limit: int = SNIPPET_LIMIT) -> tuple[int, int, str]:
        """(line, offset, raw text) from `line` (or the oldest kept byte) to the end, capped at `limit`."""
        offset = self.mark(line)
        data = bytearray(self._buf[:limit])
        while len(data) < limit and not self._eof:
            try:
                chunk = self._source(min(1 << 16, limit - len(data)))
            except Exception:  # the source itself is broken (bad gzip): quote what we have
                break
            if not chunk:
                break
            data += chunk
        return self._line, offset, bytes(data[:limit]).decode("utf-8", errors="replace")


def _without_doctype(chunk: bytes) -> bytes:
    """The document's first bytes with a DOCTYPE in its prolog blanked (newlines kept, so lines and offsets
    still match the file). No log needs a DTD, and refusing it keeps entity tricks (external entities,
    expansion bombs) out; inside a virtual root it would even make the whole file one syntax error."""
    first = _ELEMENT.search(chunk)
    prolog = chunk[: first.start() if first else len(chunk)]
    m = _DOCTYPE.search(prolog)
    if m is None:
        return chunk
    blank = bytes(b if b == 10 else 32 for b in m.group(0))
    return chunk[: m.start()] + blank + chunk[m.end():]


def _past_newlines(buf: bytearray, n: int, guess: int) -> int:
    """Offset just past the n-th newline of `buf` (n >= 1), or past its last newline if it holds fewer (0
    if none). Counting in C up to a guessed offset and then stepping line by line from there takes a few
    calls instead of one per line: records span dozens of lines, and this runs for every record."""
    end = min(len(buf), max(guess, 1))
    count = buf.count(b"\n", 0, end)
    pos = end
    if count >= n:
        for _ in range(count - n + 1):
            pos = buf.rfind(b"\n", 0, pos)
        return pos + 1
    for _ in range(n - count):
        found = buf.find(b"\n", pos)
        if found < 0:
            return buf.rfind(b"\n", 0, pos) + 1
        pos = found + 1
    return pos


def iter_xml_records(
    stream: BinaryIO, tags: Iterable[str], convert: Converter, *, wrap: str | None = None
) -> Iterator[Record]:
    """One Record per outermost element whose local name is in `tags`, as compact JSON of `convert(el)`.

    Never raises: a syntax error (or a failing read) ends the stream with one error Record holding the
    raw text from the start of the unfinished record, or from the damaged line, to the end (capped).
    """
    tape = _Tape(stream, wrap)
    wanted = tuple("{*}" + t for t in tags)
    depth = 0
    open_line = 0
    # A pull parser fed chunk by chunk, not `iterparse`: when a chunk holds damage, lxml 6 raises before
    # `iterparse` hands out the records that chunk completed; the pull parser keeps them for `read_events`.
    parser = etree.XMLPullParser(
        events=("start", "end"), tag=wanted, huge_tree=True, resolve_entities=False,
        no_network=True, remove_comments=True, remove_pis=True,
    )
    failure: BaseException | None = None
    while failure is None:
        chunk = None  # stays None when the read itself fails
        try:
            chunk = tape.read(1 << 16)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except Exception as exc:  # damage or a failing decompressor ends the file, never the run
            failure = exc
            if chunk == b"":  # a failed close() ends the open elements itself: those are no records
                break
        for event, el in parser.read_events():
            if event == "start":
                if depth == 0:
                    open_line = el.sourceline or 0
                depth += 1
                continue
            depth -= 1
            if depth:
                continue
            offset = tape.mark(open_line)
            yield _record(el, open_line, offset, convert)
            open_line = 0
            el.clear(keep_tail=True)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
        if failure is None and chunk == b"":
            return
    exc = failure
    bad_line = getattr(exc, "lineno", None) or open_line or tape.line
    line, offset, raw = tape.rest(min(open_line or bad_line, bad_line))
    syntax = isinstance(exc, etree.XMLSyntaxError)
    if raw.strip() or open_line or not syntax:  # an empty document is no error; a failed read is
        reason = (str(getattr(exc, "msg", None) or exc).splitlines() or [type(exc).__name__])[0][:300]
        kind = "XML syntax error" if syntax else f"read error ({type(exc).__name__})"
        yield Record(line, offset, raw, f"{kind}: {reason} (line {bad_line})")


def _record(el: etree._Element, line: int, offset: int, convert: Converter) -> Record:
    try:
        return Record(line, offset, orjson.dumps(convert(el)).decode())
    except Exception as exc:  # a converter bug on odd input must cost one record, not the file
        raw = etree.tostring(el, encoding="unicode")[:SNIPPET_LIMIT]
        return Record(line, offset, raw, f"unreadable record: {type(exc).__name__}: {exc}"[:300])
