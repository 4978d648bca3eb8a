"""Card numbers never reach the store: every Luhn-valid 13-19 digit PAN becomes last4 plus a keyed token.

Scrubbing works on raw bytes before any parsing, so the store, the quarantine and every message built
from a record only ever see the token. Digits may be contiguous or grouped in fours with spaces or dashes
(and the 4-6-5 Amex grouping).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PAN_PATTERN = re.compile(
    rb"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}(?:\1[0-9]{4}){1,2}(?:\1[0-9]{1,4})?|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})(?![0-9])"
)
# A superset of PAN_PATTERN that RE2 (through Arrow) tests in bulk, so Python's slower regex only ever
# looks at the few lines that could hold a card number.
CANDIDATE = r"[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4}"
_LETTERS = bytes.maketrans(b"0123456789abcdef", b"abcdefghijklmnop")


def luhn_valid(digits: bytes | str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    if isinstance(digits, str):
        digits = digits.encode()
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ch - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def pan_token(digits: bytes, key: bytes) -> bytes:
    """Keyed hash of a PAN, spelled in letters: joinable across sources, useless without the key."""
    return hmac.new(key, digits, hashlib.sha256).hexdigest()[:16].encode().translate(_LETTERS)


def make_scrubber(key: bytes) -> Callable[[bytes], tuple[bytes, int]]:
    """A function that replaces every PAN in a byte string and says how many it replaced."""

    def scrub(data: bytes) -> tuple[bytes, int]:
        found = 0

        def replace(match: re.Match) -> bytes:
            nonlocal found
            digits = re.sub(rb"[ -]", b"", match.group(0))
            if not (13 <= len(digits) <= 19 and luhn_valid(digits)):
                return match.group(0)
            found += 1
            token = b"[PAN:last4=" + digits[-4:] + b":tok=" + pan_token(digits, key) + b"]"
            return b"\"" + token + b"\"" if _bare_number(match.string, match.start(), match.end()) else token

        if not _has_candidate(data):
            return data, 0
        lines = data.split(b"\n")
        mask = pc.match_substring_regex(pa.array(lines, pa.binary()), CANDIDATE).to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(mask):
            lines[i] = PAN_PATTERN.sub(replace, lines[i])
        return b"\n".join(lines), found

    return scrub


def _has_candidate(data: bytes) -> bool:
    return bool(pc.match_substring_regex(pa.array([data], pa.binary()), CANDIDATE)[0].as_py())


def _bare_number(data: bytes, start: int, end: int) -> bool:
    """A PAN written as a JSON number (or an unquoted CSV field): quote the token so the record stays valid."""
    before = data[max(0, start - 8):start].rstrip(b" \t")
    after = data[end:end + 8].lstrip(b" \t")
    return before.endswith((b":", b"[", b",")) and (after[:1] in (b",", b"}", b"]", b"\n", b"\r") or not after)


TOKEN_PATTERN = r"\[PAN:last4=([0-9]{4}):tok=([a-p]{16})\]"
