"""JSON as vendors answer and push it, opened into one record per object.

Vendors wrap records: Shopify `{"orders": [...]}` and `{"order": {...}}`, Stripe `{"object": "list", "data":
[...]}`, X `{"data": [...], "includes": {...}, "meta": {...}}`, Auth0 log streams `{"log_id": ..., "data":
{...}}`, GraphQL `{"data": {"orders": {"edges": [{"node": {...}}]}}}`, or a bare array. Such envelopes are
opened (recursively) and the records re-serialized, so the line formats' mappings apply to them unchanged.

How a file is laid out is decided by parsing, never by its first byte: a file whose first line is a whole
JSON value is JSON lines (each line a record, or an envelope opened line by line); a file whose head is the
valid beginning of one JSON value spanning lines is a document; anything else (`[Sun Dec 04 ...] [error]`)
is not JSON at all.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Iterable, Iterator, Literal

import orjson
import pyarrow as pa

from storewatch.ingest.formats.base import Record
from storewatch.ingest.reader import BlockReader

# A JSON document is parsed whole (its envelope decides where its records are): at most this large, with
# at most this many values. Larger ones are refused with a reason; JSON lines have no such limit.
MAX_DOCUMENT_BYTES = 32 << 20
MAX_DOCUMENT_VALUES = 1_000_000
MAX_DEPTH = 8  # envelopes nest a few levels (GraphQL: data > orders > edges > node); records are not opened
# Keys that describe a response rather than hold its records: paging, X's expansions and stream rules,
# GraphQL extensions, Auth0's log-stream event id and `include_totals` counters.
ENVELOPE_KEYS = frozenset({
    "includes", "meta", "errors", "matching_rules", "extensions", "log_id", "has_more", "url", "next_page",
    "next_page_url", "next", "links", "pageInfo", "page_info", "cursor", "total", "totalCount", "start", "limit",
    "length", "count", "result_count", "next_token", "__twarc",
})
# Keys that hold the records when an object carries other fields besides.
WRAPPER_KEYS = ("data", "orders", "events", "objects", "items", "results", "records", "logs", "posts", "charges")
_DAMAGE_CONTEXT = 2048
_SPACE = re.compile(r"\s*")
_DOCUMENT_EVIDENCE = 1000  # characters of valid JSON that make a one-line file a (damaged) document

Layout = Literal["lines", "document"]


def head_text(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def json_layout(head: str) -> Layout | None:
    """"lines" when the first line is a whole JSON value (or most lines are), "document" when the head is
    the start of JSON values spanning lines (damaged further on, perhaps), None when it is not JSON."""
    stripped = head.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    lines = [line for line in stripped.splitlines()[:50] if line.strip()]
    if _parses(lines[0]):
        return "lines"
    # JSON lines whose first record is cut or broken are still JSON lines: most other lines are whole values.
    rest = lines[1:-1] if len(lines) > 2 else lines[1:]
    if len(rest) >= 2 and sum(map(_parses, rest)) * 2 > len(rest):
        return "lines"
    try:
        orjson.loads(stripped)
        return "document"
    except orjson.JSONDecodeError as exc:
        # Cut by the end of the head, values one after another, or damage past the first line (or deep into a
        # long one): a document. `[Sun Dec 04 ...] [error]` fails at its second character.
        if exc.msg.startswith(("unexpected end of data", "unexpected content after document")):
            return "document"
        return "document" if exc.pos >= min(len(lines[0]), _DOCUMENT_EVIDENCE) else None


def _parses(line: str) -> bool:
    try:
        orjson.loads(line)
        return True
    except orjson.JSONDecodeError:
        return False


def has_envelopes(lines: Iterable[str]) -> bool:
    """Most of these JSON lines are envelopes (responses, stream messages), not records themselves."""
    values = []
    for line in lines:
        try:
            values.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return sum(_is_envelope(v) for v in values) * 2 > len(values) > 0


def json_records(reader: BlockReader, notes: list[str]) -> Iterator[Record]:
    """Records of a JSON document (or of several concatenated); `line_no` is the record's position.

    A damaged document yields the records before the damage, then one quarantined record saying where it is.
    """
    data = reader.read(MAX_DOCUMENT_BYTES + 1)
    too_large = _too_large(data)
    if too_large:
        notes.append(f"{too_large}: the document was not read; convert it to JSON lines (jq -c '.data[]') or split it")
        yield Record(1, 0, data[:4096].decode("utf-8", "replace"), too_large)
        return
    try:
        docs = [orjson.loads(data.lstrip(codecs.BOM_UTF8))]
    except orjson.JSONDecodeError:  # concatenated or damaged: read on in text, where parse errors point
        docs = _values(data.decode("utf-8", "replace").lstrip("\ufeff"))
    del data
    n = 0
    for doc in docs:
        if isinstance(doc, Record):
            yield doc._replace(line_no=n + 1, error=f"{doc.error}; {n} records before it were read")
            return
        for item in records_of(doc):
            n += 1
            yield Record(n, 0, _dumps(item))
    if n == 0:
        notes.append("the JSON document holds no records (an empty list, or an API error response)")


def _too_large(data: bytes) -> str | None:
    """Why a document is too large to parse whole, if it is. Parsed, a document becomes Python objects:
    about 10 times its size for vendor records, up to 25 times for `[{},{},...]`; the byte limit and a
    count of its values (commas and opening brackets, counted in C) bound that."""
    if len(data) > MAX_DOCUMENT_BYTES:
        return f"JSON document larger than {MAX_DOCUMENT_BYTES >> 20} MiB"
    values = data.count(b",") + data.count(b"{") + data.count(b"[")
    if values > MAX_DOCUMENT_VALUES:
        return f"JSON document of about {values:,} values, more than the {MAX_DOCUMENT_VALUES:,} read at once"
    return None


def _values(text: str) -> Iterator:
    """The JSON values of a text, one after another; at damage, what it spared, then a Record of the damage.
    (The standard library's decoder parses from an index, so values one after another cost no copies.)"""
    decoder = json.JSONDecoder()
    start = _SPACE.match(text).end()
    while start < len(text):
        try:
            value, end = decoder.raw_decode(text, start)
        except RecursionError:  # `[[[[...` nested deeper than any record
            yield Record(0, 0, text[start: start + _DAMAGE_CONTEXT], "JSON document nested too deeply to read")
            return
        except json.JSONDecodeError as exc:
            salvaged = _salvage(text[start: exc.pos])
            if salvaged is not None:
                yield salvaged
            yield Record(0, 0, text[max(start, exc.pos - _DAMAGE_CONTEXT): exc.pos + 256],
                         f"invalid JSON document at line {exc.lineno} column {exc.colno}: {exc.msg}")
            return
        yield value
        start = _SPACE.match(text, end).end()


def json_line_records(batches: Iterable[pa.Table]) -> Iterator[Record]:
    """Records of JSON lines (batches of `line_offset`, `line`) whose lines are envelopes: an Auth0 log
    stream's batches, X stream messages, whole API responses one per line. `line_no` is the record's
    position; the offset is its line's. A line that is a record already is passed on as it was read."""
    n = 0
    for table in batches:
        errors = table["_read_error"].to_pylist() if "_read_error" in table.column_names else [None] * table.num_rows
        for offset, line, error in zip(table["line_offset"].to_pylist(), table["line"].to_pylist(), errors):
            if error is not None:  # a line the reader did not keep whole
                n += 1
                yield Record(n, offset, line, error)
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                n += 1
                yield Record(n, offset, line, f"invalid JSON: {exc.msg}")
                continue
            if not _is_envelope(value):
                n += 1
                yield Record(n, offset, line)
                continue
            for item in records_of(value):
                n += 1
                yield Record(n, offset, _dumps(item))


def _dumps(item) -> str:
    try:
        return orjson.dumps(item).decode()
    except orjson.JSONEncodeError:  # a lone surrogate escape (\\ud83e) the standard decoder let through
        return json.dumps(item)


def records_of(value, depth: int = 0) -> Iterator:
    """The records a parsed JSON value holds, envelopes opened. X posts get their author's `username` and
    `name` from the response's `includes.users` (as `author_username`, `author_name`) and the stream's
    `matching_rules`."""
    if depth > MAX_DEPTH:
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from records_of(item, depth + 1)
    elif isinstance(value, dict) and (inner := _payload(value)) is not None:
        users = _included_users(value)
        rules = value.get("matching_rules")
        for item in records_of(inner, depth + 1):
            if isinstance(item, dict) and (users or rules):
                item = _joined(item, users, rules)
            yield item
    else:
        yield value


def _is_envelope(value) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and _payload(value) is not None)


def _payload(obj: dict):
    """What an envelope holds (a list, an object, or () for an empty response); None for a record."""
    if obj.get("object") in ("list", "search_result"):  # Stripe lists and search results
        return obj.get("data") if isinstance(obj.get("data"), list) else None
    if "id" in obj or "object" in obj:  # a record: Stripe events carry `data` but are records themselves
        return None
    keys = [k for k in obj if k not in ENVELOPE_KEYS]
    if not keys:
        return () if obj else None  # X's `{"meta": {"result_count": 0}}`, `{"errors": [...]}`: nothing to read
    if len(keys) == 1:
        inner = obj[keys[0]]
        # `{"Event": {...}}` (an EVTX export's record) is no envelope; `{"order": {"id": ...}}`, `{"log_id": ...,
        # "data": {...}}` and GraphQL's `{"data": {"orders": {"edges": ...}}}` are.
        if isinstance(inner, list) or (isinstance(inner, dict) and (
                len(obj) > 1 or "id" in inner or _payload(inner) is not None)):
            return inner
    for key in WRAPPER_KEYS:
        value = obj.get(key)
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            return value
    return None


def _included_users(envelope: dict) -> dict[str, dict]:
    includes = envelope.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}


def _joined(post: dict, users: dict[str, dict], rules) -> dict:
    user = users.get(str(post.get("author_id")))
    extra = {}
    if user is not None:
        extra = {"author_username": user.get("username"), "author_name": user.get("name")}
    if isinstance(rules, list) and "matching_rules" not in post:
        extra["matching_rules"] = rules
    return {**post, **{k: v for k, v in extra.items() if k not in post and v is not None}}


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def _salvage(text: str):
    """A damaged document cut after its last whole array element and closed: the records before the
    damage (None when no element was whole)."""
    stack: list[str] = []
    cut = None
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in ("[", "{"):
            stack.append(token)
        elif token in ("]", "}"):
            if not stack:
                break
            stack.pop()
            if stack and stack[-1] == "[":
                cut = (m.end(), stack.copy())
    if cut is None:
        return None
    end, still_open = cut
    closing = "".join("]" if b == "[" else "}" for b in reversed(still_open))
    try:
        return orjson.loads(text[:end] + closing)
    except orjson.JSONDecodeError:
        return None
