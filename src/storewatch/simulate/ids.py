"""Identifiers that look real but can never be mistaken for a card number.

The ingest scrubs card numbers (ingest/privacy.py: a network's prefix and length, Luhn, standing alone).
Ids here avoid more than that, every Luhn-valid 13-19 digit run, contiguous or grouped, so that the only
card numbers in the output are the ones injected on purpose (always 16-digit Visa or Mastercard, which the
scrubber takes without any context) whatever the scrubber's finer rules. Every long numeric id and every
hex id passes through here.
"""

from __future__ import annotations

import re

import numpy as np

# The shapes of any card-like run: contiguous, 4-4-4-x and 4-6-5 groupings (a superset of the scrubber's cards).
PAN_SHAPE = re.compile(
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})(?![0-9])"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def has_pan(text: str) -> bool:
    """True if text contains a Luhn-valid run shaped like a card number (more than the scrubber replaces)."""
    for m in PAN_SHAPE.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return True
    return False


def not_luhn(n: int) -> int:
    """The first integer >= n whose digits fail Luhn (ids that must not look like PANs)."""
    while luhn_ok(str(n)):
        n += 1
    return n


def hex_ids(rng: np.random.Generator, n: int, nchars: int) -> list[str]:
    """n random lowercase hex strings with no long all-digit runs."""
    raw = rng.bytes(n * ((nchars + 1) // 2)).hex()
    step = ((nchars + 1) // 2) * 2
    out = [raw[i * step : i * step + nchars] for i in range(n)]
    for i, s in enumerate(out):
        while re.search(r"[0-9]{12}", s):
            s = rng.bytes((nchars + 1) // 2).hex()[:nchars]
        out[i] = s
    return out


def hex_id(rng: np.random.Generator, nchars: int) -> str:
    return hex_ids(rng, 1, nchars)[0]


def uuid(rng: np.random.Generator) -> str:
    """A version-4-shaped UUID drawn from the run's generator (deterministic per seed)."""
    while True:
        h = rng.bytes(16).hex()
        s = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"
        if not has_pan(s):
            return s


def guid(rng: np.random.Generator) -> str:
    return "{" + uuid(rng) + "}"


def luhn_complete(body: str) -> str:
    """body plus the check digit that makes it Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def make_pan(rng: np.random.Generator) -> str:
    """A Luhn-valid test-style card number (Visa 4xxx or Mastercard 5[1-5]xx, 16 digits)."""
    prefix = str(rng.choice(["4539", "4716", "4485", "5425", "5105", "4111"]))
    body = prefix + "".join(str(d) for d in rng.integers(0, 10, 11))
    return luhn_complete(body)
