"""Card numbers never reach the store: every payment card number becomes last4 plus a keyed token.

Scrubbing works on raw bytes before any parsing, so the store, the quarantine and every message built
from a record only ever see the token. A card number is a standalone run of 13-19 digits, contiguous or
grouped as cards are written (4-4-4-4, 4-6-5, 4-4-4-4-3...; separated by spaces, dashes, `+`, `%20` or
no-break spaces), whose issuer prefix and length belong to a card network (`card_networks.yml`), that
passes Luhn and is not a placeholder (one repeated group). A contiguous number of a length other than 15
or 16 digits is a card only with a card word before it. Digits glued to letters, `_`, a decimal point or
a minus sign belong to another token (a hash, an id, a float, a negative number) and are not cards.
docs/sources/scrubber.md has the rules and the reasons. What parsing decodes afterwards (escapes, character
references, CDATA) is scrubbed again in the values, with the `DECODED` grammar (values.py).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

# A number as cards are written: digit groups joined by separators (space, `-`, `+`, `%20`, a no-break space
# in UTF-8). It never starts inside a percent escape (`%20` before the digits is a separator, not digits of
# the number).
_SEP = rb"[ +\-]|%20|\xc2\xa0"
TOKEN = re.compile(rb"(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9%]))[0-9]+(?:(?:" + _SEP + rb")[0-9]+)*")
_SEPARATOR = re.compile(_SEP)
# Every card shape holds 13 digits in a row or starts with a group of four and a separator (a quick reject).
_CANDIDATE = re.compile(rb"[0-9]{13}|[0-9]{4}(?:" + _SEP + rb")[0-9]{4}")
# A card word in the bytes before a number whose length is not one of the bare lengths.
_CARD_WORDS = re.compile(
    rb"(?i)card|credit|debit|visa|mastercard|amex|american express|diners|discover(?!y)|jcb|maestro|"
    rb"unionpay|rupay|(?<![a-z])(?:pan|cc|ccn|ccnum|mir|troy|verve|elo)(?![a-z])"
)
CONTEXT_BYTES = 48
_LETTERS = bytes.maketrans(b"0123456789abcdef", b"abcdefghijklmnop")
_WORD = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789ABCDEFabcdef")


@dataclass(frozen=True)
class Grammar:
    """How the digit groups of a number are written in a text, for `find_cards`."""

    token: re.Pattern[bytes]  # a number: digit groups and the separators between them
    separator: re.Pattern[bytes]
    # Decoded values (`values.py`) take any separator run, mixed within one number, and a number after a
    # hyphen (`ref-`, `0001-`); raw bytes keep the rules tuned on real logs.
    decoded: bool = False


RAW = Grammar(TOKEN, _SEPARATOR)
# In a decoded view (see values.py) every space, `+` and `/` reads as a space and every dash as `-`.
DECODED = Grammar(re.compile(rb"(?<![0-9])[0-9]+(?:[ .\-]{1,3}[0-9]+)*"), re.compile(rb"[ .\-]{1,3}"), decoded=True)


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


def _load_networks() -> tuple[dict[bytes, dict[int, str]], int, frozenset[int], re.Pattern[bytes]]:
    """Prefix -> {length: network}, the longest prefix, the lengths a bare number may have, and the
    parameters (`random_keys`) whose contiguous numbers are nonces."""
    table: dict[bytes, dict[int, str]] = {}
    doc = yaml.safe_load((Path(__file__).with_name("card_networks.yml")).read_text(encoding="utf-8"))
    for net in doc["networks"]:
        for spec in net["prefixes"]:
            low, _, high = str(spec).partition("-")
            for p in range(int(low), int(high or low) + 1):
                entry = table.setdefault(str(p).zfill(len(low)).encode(), {})
                for n in net["lengths"]:
                    entry.setdefault(n, net["name"])
    keys = b"|".join(re.escape(k.encode()) for k in doc["random_keys"])
    nonce = re.compile(rb"(?:^|[?&;,\s\"'])(?:" + keys + rb")=\Z", re.IGNORECASE)
    return table, max(map(len, table)), frozenset(doc["bare_lengths"]), nonce


NETWORKS, _LONGEST_PREFIX, BARE_LENGTHS, _NONCE_KEY = _load_networks()


@lru_cache(maxsize=65536)
def card_network(digits: bytes) -> str | None:
    """The network these digits can be a card number of, or None.

    Prefix and length from the network table, Luhn, and not a placeholder made of one repeated group of
    one to four digits (0000 0000 0000 0000, 4242 4242 4242 4242): no issued card looks like that."""
    n = len(digits)
    if not 13 <= n <= 19 or not luhn_valid(digits):
        return None
    if any(digits == (digits[:p] * (n // p + 1))[:n] for p in (1, 2, 3, 4)):
        return None
    for p in range(min(_LONGEST_PREFIX, n), 0, -1):
        network = NETWORKS.get(digits[:p], {}).get(n)
        if network:
            return network
    return None


def pan_token(digits: bytes, key: bytes) -> bytes:
    """Keyed hash of a PAN, spelled in letters: joinable across sources, useless without the key."""
    return hmac.new(key, digits, hashlib.sha256).hexdigest()[:16].encode().translate(_LETTERS)


def pan_mask(digits: bytes, key: bytes) -> bytes:
    """What a PAN becomes: its last four digits and its token."""
    return b"[PAN:last4=" + digits[-4:] + b":tok=" + pan_token(digits, key) + b"]"


def make_scrubber(key: bytes) -> "Scrubber":
    """A function that replaces every PAN in a byte string and says how many it replaced."""
    return Scrubber(key)


def find_cards(line: bytes, lenient: bool = False, grammar: Grammar = RAW) -> list[tuple[int, int, bytes]]:
    """(start, end, digits) of every card number in one line.

    `lenient` answers for a fragment cut out of a line: its edges count as boundaries and every number as
    if a card word were near, so it finds a superset of what the whole line holds."""
    found = []
    for m in grammar.token.finditer(line):
        text = m.group(0)
        if len(text) < 13:
            continue
        cuts = [c.span() for c in grammar.separator.finditer(text)]
        edges = [0, *(x for span in cuts for x in span), len(text)]
        groups = list(zip(edges[::2], edges[1::2]))  # the digit groups, between the separators
        seps = [text[a:b] for a, b in cuts]
        base, i = m.start(), 0
        while i < len(groups):
            hit = _card_at(line, base, groups, seps, i, lenient, grammar.decoded)
            if hit is None:
                i += 1
                continue
            j, digits = hit
            found.append((base + groups[i][0], base + groups[j][1], digits))
            i = j + 1
    return found


def _card_at(line: bytes, base: int, groups: list[tuple[int, int]], seps: list[bytes], i: int,
             lenient: bool, decoded: bool) -> tuple[int, bytes] | None:
    """The longest card number starting at group i: (last group, digits), or None."""
    start = base + groups[i][0]
    grouped_only = False
    if i == 0 and not (lenient and start == 0 or _left_ok(line, start)):
        # Decoded, a hyphen after a word (`ref-`, `card-`) does not hide a card, and a minus sign hides
        # only contiguous numbers; raw, both do (as tuned on real logs).
        if not (decoded and line[start - 1:start] == b"-"):
            return None
        grouped_only = not line[start - 2:start - 1].isalpha()
    if i > 0 and (b"." in seps[i - 1] if decoded else seps[i - 1] == b"-"):
        return None  # a decimal point (raw: also a minus sign or a hyphenated id)
    sizes: list[int] = []
    total = 0
    for j in range(i, len(groups)):
        size = groups[j][1] - groups[j][0]
        if total + size > 19 or (j > i and not decoded and seps[j - 1] != seps[i]):
            break
        total += size
        sizes.append(size)
    for j in range(i + len(sizes) - 1, i - 1, -1):
        shape = sizes[: j - i + 1]
        if not 13 <= sum(shape) <= 19 or not _card_shape(shape, decoded) or grouped_only and len(shape) < 3:
            continue
        stop = base + groups[j][1]
        more = j + 1 < len(groups) and not (decoded and seps[j] == b".")  # (decoded: not a decimal point)
        if not (more or lenient and stop == len(line) or _right_ok(line, stop)):
            continue
        digits = b"".join(line[base + a:base + b] for a, b in groups[i:j + 1])
        if card_network(digits) is None:
            continue
        bare = len(shape) == 1 and len(digits) not in BARE_LENGTHS
        if bare and not lenient and not _card_word_before(line, start):
            continue
        if len(shape) == 1 and not lenient and _NONCE_KEY.search(line, max(0, start - 16), start):
            continue  # a cache-buster's random number (`ord=`), see card_networks.yml
        return j, digits
    return None


def _card_shape(sizes: list[int], decoded: bool = False) -> bool:
    """Contiguous, or grouped as cards are printed: fours (the last group 1-4 digits), 4-6-4 or 4-6-5.
    Decoded, one or more of the printed separators may be missing (`4111 11111111 1111`, or a zero-width
    space dropped between two groups) as long as three groups are left, each break where a printed card has
    one (two groups are GUID tails and the like: `...-4655-000000004002`)."""
    if len(sizes) == 1:
        return True
    if decoded and len(sizes) >= 3:
        breaks = set(itertools.accumulate(sizes[:-1]))
        return breaks <= {4, 8, 12, 16} or breaks <= {4, 10}
    if len(sizes) >= 3 and all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4:
        return True
    return sizes in ([4, 6, 4], [4, 6, 5])


def _card_word_before(line: bytes, start: int) -> bool:
    """Whether a card word stands in the bytes before a number: what makes a contiguous number of a length
    other than the bare lengths (a GTIN-13/14, epoch milliseconds, .NET ticks, a snowflake id...) a card."""
    return _CARD_WORDS.search(line, max(0, start - CONTEXT_BYTES), start) is not None


def _left_ok(line: bytes, pos: int) -> bool:
    """Whether the byte before a number ends the previous token (so the number stands alone)."""
    if pos == 0:
        return True
    if pos >= 3 and line[pos - 3] == 37 and line[pos - 2] in _HEX and line[pos - 1] in _HEX:  # %XX
        char = int(line[pos - 2:pos], 16)
        return char not in _WORD and char not in b"-.%"
    if pos >= 2 and line[pos - 2] == 92 and line[pos - 1] in b"nrt":  # \n \r \t inside a JSON string
        return True
    before = line[pos - 1]
    if before in _WORD or before in b"-%":
        return False
    return not (before == 46 and pos >= 2 and line[pos - 2] in _DIGITS)  # the fraction of 1.41111...


def _right_ok(line: bytes, pos: int) -> bool:
    """Whether the byte after a number ends it (a letter, `_` or a decimal fraction would continue it)."""
    if pos >= len(line):
        return True
    after = line[pos]
    if after in _WORD:
        return False
    return not (after == 46 and pos + 1 < len(line) and line[pos + 1] in _DIGITS)


class Scrubber:
    """Replaces PANs in bytes (`scrubber(data)`), or finds the lines of a block that hold one (`pan_lines`).

    Every card number lies inside a run of digits and separator bytes (space, `-`, `+`, `%`, the C2 A0 of a
    no-break space) at least 13 long. Those runs are found in C (a byte translation and `bytes.find`, about
    the speed of one regex pass), and only the distinct runs are checked in Python (cached: ids, dates and
    flags repeat): a bare number against the network table, anything else by `find_cards` on the run alone,
    lenient. The few lines with a candidate run are checked whole, with their context, and only lines
    holding a real card are rewritten, by `replace`.
    """

    def __init__(self, key: bytes):
        self.key = key
        self._runs: dict[bytes, bool] = {}

    def __call__(self, data: bytes | bytearray) -> tuple[bytes | bytearray, int]:
        starts = self.pan_lines(data)
        if not starts:
            return data, 0
        out, found, pos = [], 0, 0
        for start in starts:
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            clean, n = self.replace(bytes(data[start:end]))
            out += [data[pos:start], clean]
            found += n
            pos = end
        out.append(data[pos:])
        return b"".join(out), found

    def pan_lines(self, data: bytes | bytearray) -> list[int]:
        """Start offsets of the lines that hold a PAN, in order (usually none)."""
        marks = data.translate(_RUN_BYTES)
        starts: list[int] = []
        checked = -1
        i = marks.find(_LONG_RUN)
        while i >= 0:
            j = marks.find(b"0", i)
            j = len(data) if j < 0 else j
            if self._may_hold_pan(bytes(data[i:j])):
                line = data.rfind(b"\n", 0, i) + 1
                if line != checked:
                    checked = line
                    end = data.find(b"\n", j)
                    if find_cards(bytes(data[line:len(data) if end < 0 else end])):
                        starts.append(line)
            i = marks.find(_LONG_RUN, j)
        return starts

    def _may_hold_pan(self, run: bytes) -> bool:
        """Whether this run, read without its surroundings, could hold a card (cached: runs repeat a lot)."""
        known = self._runs.get(run)
        if known is None:
            if run.isdigit():  # most runs are one bare number: the same answer as find_cards, sooner
                known = card_network(run) is not None
            else:
                known = _CANDIDATE.search(run) is not None and bool(find_cards(run, lenient=True))
            if len(self._runs) > 100_000:
                self._runs.clear()
            self._runs[run] = known
        return known

    def replace(self, line: bytes) -> tuple[bytes, int]:
        """Replace every PAN in one line (no prefilter)."""
        cards = find_cards(line)
        if not cards:
            return line, 0
        out, pos = [], 0
        for start, end, digits in cards:
            token = pan_mask(digits, self.key)
            out += [line[pos:start], b"\"" + token + b"\"" if bare_number(line, start, end) else token]
            pos = end
        out.append(line[pos:])
        return b"".join(out), len(cards)


# Digits and the bytes that may join or precede them in a card number (space, `-`, `+`, `%` of `%20`, C2 A0
# of a no-break space) become b"1", every other byte b"0": runs of 13 or more b"1" may hold a PAN.
_RUN_BYTES = bytes(49 if i in b"0123456789 -+%\xc2\xa0" else 48 for i in range(256))
_LONG_RUN = b"1" * 13


def bare_number(data: bytes | str, start: int, end: int) -> bool:
    """A PAN written as a JSON number (or an unquoted CSV field): quote the token so the record stays valid."""
    before, after = data[max(0, start - 8):start], data[end:end + 8]
    if isinstance(before, str):
        before, after = before.encode(), after.encode()
    before, after = before.rstrip(b" \t"), after.lstrip(b" \t")
    return before.endswith((b":", b"[", b",")) and (after[:1] in (b",", b"}", b"]", b"\n", b"\r") or not after)


TOKEN_PATTERN = r"\[PAN:last4=([0-9]{4}):tok=([a-p]{16})\]"
