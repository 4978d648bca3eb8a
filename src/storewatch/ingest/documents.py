"""Whole JSON documents (API responses, pretty-printed exports) turned into one record per object.

Vendors' APIs wrap records: Shopify `{"orders": [...]}`, Stripe `{"object": "list", "data": [...]}`,
X `{"data": [...], "includes": ...}`, or a bare array. The records are unwrapped and re-serialized so the
line formats' mappings apply to them unchanged.
"""

from __future__ import annotations

import codecs
import json
from typing import Iterator

import orjson

from storewatch.ingest.formats.base import Record
from storewatch.ingest.reader import BlockReader

MAX_DOCUMENT_BYTES = 1 << 30
WRAPPER_KEYS = ("data", "orders", "events", "objects", "items", "results", "records", "logs", "posts", "charges")


def head_text(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def is_json_document(head: str) -> bool:
    """Starts like JSON but its first line is not a whole JSON object: a document, not JSON lines."""
    stripped = head.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    lines = [line for line in stripped.splitlines()[:50] if line.strip()]
    if _is_object(lines[0]):
        return False
    # A JSON-lines file whose first record is cut or broken is still JSON lines: most other lines are objects.
    rest = lines[1:-1] if len(lines) > 2 else lines[1:]
    return not (len(rest) >= 2 and sum(map(_is_object, rest)) * 2 > len(rest))


def _is_object(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def json_records(reader: BlockReader, notes: list[str]) -> Iterator[Record]:
    """Records of a JSON document; `line_no` is the record's position in the document's record list."""
    data = reader.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        notes.append("JSON document larger than 1 GiB: split it or convert to JSON lines")
        yield Record(1, 0, data[:4096].decode("utf-8", "replace"), "JSON document too large")
        return
    data = data.lstrip(codecs.BOM_UTF8)
    try:
        docs = [orjson.loads(data)]
    except orjson.JSONDecodeError as exc:
        docs = _concatenated(data)  # `journalctl -o json-pretty`, `jq .`: pretty objects one after another
        if docs is None:
            yield Record(1, 0, data[: 1 << 20].decode("utf-8", "replace"), f"invalid JSON document: {exc}")
            return
    for i, item in enumerate((item for doc in docs for item in _unwrap(doc)), start=1):
        yield Record(i, 0, orjson.dumps(item).decode())


def _concatenated(data: bytes) -> list | None:
    """The values of a text of several JSON documents one after another, or None if it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at == len(text):
            return values if len(values) > 1 else None
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return None
        values.append(value)


def _unwrap(doc) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in WRAPPER_KEYS:
            if isinstance(doc.get(key), list):
                return doc[key]
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return lists[0]
    return [doc]
