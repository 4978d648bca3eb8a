"""Card numbers in decoded values: the second scrubbing pass, over what readers and mappings made of the bytes.

The raw pass (`privacy.Scrubber`) sees the bytes before parsing, so it cannot see a card number that only
exists once they are decoded: a JSON `\\u0034111...` escape, an XML character reference (`&#52;111...`), a
CDATA section or comment inside the digits, a percent-encoded digit. Nor does it take the separators it was
not tuned on (`.`, `/`, other spaces and dashes, several kinds in one number). This pass reads the values
themselves: every string column of a mapped batch (event fields, the JSON `attributes`, the quarantine's
text and reason), intel rows, file names.

A value is read through a decoded view: one more level of JSON escapes, XML/HTML references and percent-
encoding is decoded (the readers already decoded one), what parsing drops (CDATA markers, zero-width
characters) is removed, a comment is read both without and with its text, and each character of the view
remembers the span of the value it came from. Cards are found in the view by the raw pass's rules (a
network's prefix and length, Luhn, standing alone, printed shapes, a card word for unusual bare lengths;
`privacy.DECODED`), with any separator run between the groups; each is replaced in the value itself, from
its first digit to its last, by the raw pass's mask. The rest of the value is kept character for character.

Python reads only candidates, found per column in Arrow (`_candidates`): columns that are all NULL or
hold no value of 13 bytes are skipped, columns whose values repeat are matched once per distinct value,
and the match is one RE2 regex (`PREFILTER`), a superset of the rules written over raw text: a standalone
run of 15-16 digits, 13-19 after a card word or an encoding, or a printed grouping, where any digit may be
encoded and markup may stand between any two. Nearly every value fails it. docs/sources/scrubber.md,
"The second pass", has the reasons.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storewatch.ingest.privacy import BARE_LENGTHS, DECODED, bare_number, find_cards, pan_mask

# A view that may hold a card: the shortest forms `find_cards` takes.
_VIEW_CANDIDATE = re.compile(rb"[0-9]{13}|[0-9]{4}[ .\-]{1,3}[0-9]{4}")
# Where an encoding may start; and what the view decodes: JSON/C escapes, numeric and named character
# references, percent-encoded runs (several bytes may make one UTF-8 character), the markup XML parsing removes.
_MARKER = re.compile(r"[\\&%<\]]")
_ENCODED = re.compile(
    r"\\u(?P<u>[0-9A-Fa-f]{4})|\\x(?P<x>[0-9A-Fa-f]{2})|\\(?P<esc>[nrtbf/])"
    r"|&#(?P<dec>[0-9]{1,7});?|&#[xX](?P<hex>[0-9A-Fa-f]{1,6});?|(?P<ent>&[A-Za-z][A-Za-z0-9]{1,31};)"
    r"|(?P<pct>(?:%[0-9A-Fa-f]{2})+)|(?P<cdata><!\[CDATA\[|\]\]>)|(?P<comment><!--)"
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "/": "/"}

# The prefilter (RE2 syntax), a superset of what `find_cards` takes in the view. A digit, plain or encoded;
# anything the view drops or decodes (to a digit or not); a character that may separate digit groups (any
# but letters, digits and the punctuation that only ever ends a token); the edges of a standalone number;
# a card word (as `privacy._CARD_WORDS`, without its edges).
_DIGIT = r"(?:[0-9]|\\u003[0-9]|\\x3[0-9]|&#0*(?:4[89]|5[0-7]);?|&#[xX]0*3[0-9];?|%3[0-9])"
_OTHER = (r"(?:<!\[CDATA\[|\]\]>|<!--(?s:.)*?-->|\p{Cf}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\[nrtbf/]"
          r"|&#[0-9]{1,7};?|&#[xX][0-9A-Fa-f]{1,6};?|&[A-Za-z][A-Za-z0-9]{1,31};|%[0-9A-Fa-f]{2})")
_SEP = r"(?:" + _OTHER + r"|[^0-9A-Za-z_\"',:;=|<>(){}\[\]\\&%#@*?!$^~`])"
_D = r"(?:" + _OTHER + r"*" + _DIGIT + r")"
_LEFT = r"(?:^|[^0-9A-Za-z_]|" + _OTHER + r")"
_RIGHT = r"(?:[^0-9A-Za-z_]|$)"
_WORD = r"(?i:card|credit|debit|visa|amex|express|diners|discover|jcb|maestro|unionpay|rupay|pan|cc|mir|troy|verve|elo)"
# Two regexes, not one: RE2 answers each in one pass of its DFA, while their union has too many states for
# it (a pass 200 times slower, through RE2's fallback).
PREFILTER = (
    "|".join([
        _LEFT + _D + f"{{{min(BARE_LENGTHS)},{max(BARE_LENGTHS)}}}" + _RIGHT,  # a bare number of the bare lengths
        r"(?:" + _WORD + r"|" + _OTHER + r")(?s:.)*" + _LEFT + _D + r"{13,19}" + _RIGHT,  # other lengths, after a card word
    ]),
    # grouped: three groups or more, the first break after 4, 8 or 12 digits (where printed cards have one), 13
    # digits in all
    "|".join(_D + f"{{{first}}}" + _SEP + "+" + _D + f"(?:{_SEP}*{_D}){{{12 - first}}}" for first in (4, 8, 12)),
)

# What a record's text (the `line` that mappings read) must hold for any value mapped from it to pass
# `PREFILTER`, so that the values of the other records need no look at all (nearly every record of a busy
# log: the second pass cost 15% of ingest when it read every value). A value holds what its line holds,
# except what decoding made of it: so either the line holds something that decodes (an escape, a character
# reference, a percent escape, CDATA or a comment, a byte array as journald writes messages, anything outside
# ASCII), or it holds the prefilter's shapes in plain digits. Those are taken loosely: a letter may stand
# before the number (a mapping may cut it out of a token; only a digit there makes the digits part of another
# number, as in an epoch time with a fraction), quotes and backslashes also stand between digits (mappings
# unescape and remove them), and so do escaped separators (`\\n`, `\\/`).
_PLAIN_SEP = r"(?:[^0-9A-Za-z_',:;=|<>(){}\[\]&%#@*?!$^~`]|\\+[nrtbf/])"
RECORD_GUARD = "|".join([
    r"[^\x00-\x7f]",  # outside ASCII: other spaces, dashes and digits, zero-width characters
    r"\\+(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})|&#|&[A-Za-z][A-Za-z0-9]{1,31};|%[0-9A-Fa-f]{2}|<!|\]\]>",
    r"\[\s*[0-9]{1,3}\s*,\s*[0-9]{1,3}\s*,",  # bytes as a JSON array of numbers (journald)
    r"(?:^|[^0-9])[0-9]{13}",
    *(f"(?:^|[^0-9])[0-9]{{{first}}}{_PLAIN_SEP}+[0-9](?:{_PLAIN_SEP}*[0-9]){{{12 - first}}}" for first in (4, 8, 12)),
])


class ValueScrubber:
    """Replaces the card numbers in decoded values: one text (`text`) or every string column of a table."""

    def __init__(self, key: bytes):
        self.key = key

    def text(self, value: str) -> tuple[str, int]:
        """The value with every card number of its decoded view masked, and how many there were. A value
        with a comment is read twice: without the comment (as a parser joins the text around it) and with
        its text (as it is written)."""
        value, found = self._masked(value, drop_comments=True)
        if "<!--" not in value:
            return value, found
        value, more = self._masked(value, drop_comments=False)
        return value, found + more

    def _masked(self, value: str, drop_comments: bool) -> tuple[str, int]:
        view, starts, ends = decoded_view(value, drop_comments)
        cards = find_cards(view, grammar=DECODED) if _VIEW_CANDIDATE.search(view) else None
        if not cards:
            return value, 0
        out, pos = [], 0
        for first, last, digits in cards:
            start, end = starts[first], ends[last - 1]
            mask = pan_mask(digits, self.key).decode()
            out += [value[pos:start], f'"{mask}"' if bare_number(value, start, end) else mask]
            pos = end
        out.append(value[pos:])
        return "".join(out), len(cards)

    def table(self, table: pa.Table, skip: tuple[str, ...] = (),
              records: pa.Array | pa.ChunkedArray | None = None) -> tuple[pa.Table, np.ndarray | None]:
        """The table with the card numbers of its string columns masked, and the count per row (None if
        nothing was masked). With `records` (the text each row was mapped from, row for row), only the rows
        whose text passes `RECORD_GUARD` are read."""
        counts = None
        only = None
        if records is not None:
            only = np.flatnonzero(pc.match_substring_regex(records, RECORD_GUARD).fill_null(False)
                                  .to_numpy(zero_copy_only=False))
            if not len(only):
                return table, None
        for i, field in enumerate(table.schema):
            if field.name in skip or not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                continue
            column = table.column(i)
            rows = _candidates(column) if only is None else only[_candidates(column.take(pa.array(only)))]
            if not len(rows):
                continue
            changed: dict[int, str] = {}
            for row, value in zip(rows, column.take(pa.array(rows)).to_pylist()):
                clean, found = self.text(value)
                if found:
                    changed[int(row)] = clean
                    counts = np.zeros(table.num_rows, np.int64) if counts is None else counts
                    counts[row] += found
            if changed:
                mask = np.zeros(table.num_rows, bool)
                mask[list(changed)] = True
                values = pa.array([changed[r] for r in sorted(changed)], column.type)
                masked = pc.replace_with_mask(column.combine_chunks(), pa.array(mask), values)
                table = table.set_column(i, field, masked)
        return table, counts


SAMPLE_ROWS = 1024  # values sampled to tell a column whose values repeat


def _candidates(column: pa.ChunkedArray) -> np.ndarray:
    """The rows of a string column that `PREFILTER` matches. A column of short values (all under 13
    characters) has none; one whose values repeat (user agents, hosts, class names: half or fewer distinct
    in a sample) is matched once per distinct value first, and row by row only if one matches."""
    if column.null_count == len(column) or (pc.max(pc.binary_length(column)).as_py() or 0) < 13:
        return np.zeros(0, np.int64)
    sample = column.slice(0, SAMPLE_ROWS)
    repeats = len(pc.unique(sample)) * 2 <= len(sample)
    if repeats and not pc.any(prefiltered(pc.unique(column))).as_py():
        return np.zeros(0, np.int64)
    return np.flatnonzero(prefiltered(column).fill_null(False).to_numpy(zero_copy_only=False))


def prefiltered(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Which values `PREFILTER` matches (NULL for NULL)."""
    return pc.or_(*(pc.match_substring_regex(values, pattern) for pattern in PREFILTER))


def decoded_view(value: str, drop_comments: bool = True) -> tuple[bytes, Sequence[int], Sequence[int]]:
    """The value as a card reader sees it, in ASCII, and the span in `value` of each of its characters.

    Digits stay digits; every space, `+` and `/` becomes a space and every dash `-`; other letters and
    digits become `a`; characters that render as nothing are dropped (see `_view_char`)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def put(text: str, start: int, end: int) -> None:
        for ch in text:
            ch = _view_char(ch)
            if ch:
                chars.append(ch)
                starts.append(start)
                ends.append(end)

    def literal(start: int, end: int) -> None:
        text = value[start:end]
        if text.isascii():
            chars.append(text.encode().translate(_ASCII_VIEW).decode())
            starts.extend(range(start, end))
            ends.extend(range(start + 1, end + 1))
        else:
            for k, ch in enumerate(text, start):
                put(ch, k, k + 1)

    if value.isascii() and not _MARKER.search(value):  # the usual value: nothing to decode
        return value.encode().translate(_ASCII_VIEW), range(len(value)), range(1, len(value) + 1)
    pos = 0
    while (marker := _MARKER.search(value, pos)) is not None:
        if (m := _ENCODED.match(value, marker.start())) is None:
            literal(pos, marker.end())
            pos = marker.end()
            continue
        literal(pos, m.start())
        start, end, kind = m.start(), m.end(), m.lastgroup
        if kind == "comment":
            close = value.find("-->", end)
            if close < 0:  # not a comment: read on as text
                literal(start, end)
            elif not drop_comments:  # its markers dropped, its text read as written (XML decodes nothing there)
                literal(end, close)
            end = end if close < 0 else close + 3
        elif kind == "pct":
            for ch, a, b in _percent_chars(m.group(kind), start):
                put(ch, a, b)
        elif kind != "cdata":
            put(_decode(kind, m.group(kind)), start, end)
        pos = end
    literal(pos, len(value))
    return "".join(chars).encode("ascii"), starts, ends


def _decode(kind: str, text: str) -> str:
    """One escape or character reference, decoded (unknown entities and invalid code points as written)."""
    if kind == "esc":
        return _ESCAPES[text]
    if kind == "ent":
        return html.unescape(text)
    code = int(text, 10 if kind == "dec" else 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "#"


def _percent_chars(run: str, base: int) -> list[tuple[str, int, int]]:
    """The characters of a run of percent escapes (`%E2%80%89` is one), each with its span."""
    data = bytes.fromhex(run.replace("%", ""))
    out, i = [], 0
    while i < len(data):
        lead = data[i]
        size = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        try:
            ch = data[i:i + size].decode("utf-8")
        except UnicodeDecodeError:
            ch, size = "#", 1
        out.append((ch, base + 3 * i, base + 3 * (i + size)))
        i += size
    return out


@lru_cache(maxsize=4096)
def _view_char(ch: str) -> str:
    """One character of the view: what it is to a card reader ('' for what renders as nothing)."""
    if ch.isascii():
        return chr(_ASCII_VIEW[ord(ch)])
    if ch.isspace() or ch in "\u00b7\u2022\u2027\u2219\u30fb":  # spaces, middle dots, bullets
        return " "
    category = unicodedata.category(ch)
    if category == "Pd" or ch == "\u2212":
        return "-"
    if category == "Cf":  # zero-width spaces and joiners, soft hyphens, direction marks
        return ""
    if ch in "\u3002\uff0e":
        return "."
    return "a" if ch.isalnum() else "#"


# ASCII in the view: digits, letters and punctuation as they are, every space, `+` and `/` a space.
_ASCII_VIEW = bytes(32 if chr(i) in "\t\n\r\x0b\x0c+/" else i for i in range(128)) + b"#" * 128
