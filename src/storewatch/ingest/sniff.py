"""Recognizing a file's format from its content, never its name.

A file's head is decoded, and each candidate format scores the sample records; the format that claims
most of them wins. A few malformed first lines therefore do not derail detection.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:  # the formats import this module's helpers: importing them here would be circular
    from storewatch.ingest.formats.base import Format

SAMPLE_RECORDS = 50


def _first_wins(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


# A key given twice (`{"type": "a", "type": "b"}`) is read as DuckDB's JSON functions read it in the
# mappings: the first one counts. (orjson keeps the last, so a sniffer reading with it could see another
# record than the mapping does.) Only the few sample lines of a file are read this way.
_FIRST_WINS = json.JSONDecoder(object_pairs_hook=_first_wins)


@lru_cache(maxsize=256)
def _json_object(line: str) -> dict | None:
    try:
        orjson.loads(line)  # strict JSON only (the standard decoder takes NaN, Infinity)
        value = _FIRST_WINS.decode(line)
    except (orjson.JSONDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def json_keys(line: str) -> frozenset[str]:
    """Top-level keys of a JSON object line; empty for anything else."""
    obj = _json_object(line.strip()) if line.lstrip().startswith("{") else None
    return frozenset(obj) if obj else frozenset()


def json_value(line: str, *path: str):
    """A nested value of a JSON object line, or None."""
    value = _json_object(line.strip()) if line.lstrip().startswith("{") else None
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def is_binary(head: bytes) -> bool:
    """NUL bytes or mostly control characters: not a text log."""
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):  # empty, or UTF-16 text with its BOM
        return False
    if b"\x00" in head:
        return True
    sample = head[:4096]
    control = len(sample.translate(None, _NOT_CONTROL))  # counted in C: this runs for every file
    return control > len(sample) * 0.05


_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))


def best_line_format(lines: list[str], formats: list[Format]) -> Format | None:
    """The line format that claims the most sample lines (at least one)."""
    sample = [line for line in lines if line.strip()][:SAMPLE_RECORDS]
    scores = {f.name: sum(1 for line in sample if safe_looks_like(f, line)) for f in formats}
    best = max(formats, key=lambda f: scores[f.name], default=None)
    return best if best is not None and scores[best.name] > 0 else None


def claims_first_line(lines: list[str], formats: list[Format]) -> bool:
    """Whether a line format claims the first non-blank line. A JSON document's first line is never a record
    of its own (a whole JSON object there makes the file JSON lines), so this tells a log whose lines start
    with `[` from a document, however many unclaimed lines (stack traces) follow."""
    first = next((line for line in lines if line.strip()), None)
    return first is not None and any(safe_looks_like(f, first) for f in formats)


def safe_looks_like(fmt: Format, line: str) -> bool:
    try:
        return bool(fmt.looks_like(line))
    except Exception:  # a sniffer must never take the run down; a crash counts as "not mine"
        return False
