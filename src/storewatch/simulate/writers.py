"""Buffered, time-ordered output files with day routing and counted malformed records.

Generators and scenarios `add` records in any order; `flush(until)` writes everything older than
`until` sorted by time, so attack lines land interleaved with background exactly where they happened.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from storewatch.simulate import ids

_GARBAGE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%$&*+=;:,.?!~^_|/\\<>()[]{} "
_TS_BREAKERS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(\d{4})-\d{2}-\d{2}([T ])\d{2}:\d{2}:\d{2}"), r"\1-13-45\g<2>27:61:61"),
    (re.compile(r"\d{2}/([A-Z][a-z]{2})/(\d{4}):\d{2}:\d{2}:\d{2}"), r"45/\1/\2:27:61:61"),
    (re.compile(r"^([A-Z][a-z]{2}) [ \d]\d \d{2}:\d{2}:\d{2}"), r"\1 45 27:61:61"),
]


def malformed_line(line: str, kind: str, rng: np.random.Generator) -> str:
    """A broken copy of a real record: truncated JSON, garbage, or an impossible timestamp."""
    pick = int(rng.integers(0, 3))
    if pick == 0 and kind == "json" and len(line) > 20:
        cut = line[: int(rng.integers(10, len(line) - 5))]
        if not ids.has_pan(cut):
            return cut
    if pick == 2:
        for pattern, repl in _TS_BREAKERS:
            broken, n = pattern.subn(repl, line, count=1)
            if n and not ids.has_pan(broken) and not re.search(r"\d{13,}", broken):
                return broken
    chars = rng.integers(0, len(_GARBAGE), int(rng.integers(20, 90)))
    return "".join(_GARBAGE[c] for c in chars).strip() or "garbage"


class Sink:
    """One logical log stream, routed to a file per day (e.g. access.log.1.gz for day 0)."""

    def __init__(self, root: Path, route: Callable[[int], str], start: float, rng: np.random.Generator,
                 kind: str | None = "json", rate: float = 0.001,
                 header: Callable[[float], str] | None = None, footer: Callable[[float], str] | None = None,
                 clean: frozenset[str] = frozenset()):
        self.clean = clean  # routes that must stay parseable (e.g. a JSON document assembled later)
        self.restyle: Callable[[str], str] | None = None  # the style's rewrite of each line (styles.py)
        self.root, self.route, self.start, self.rng = root, route, start, rng
        self.kind, self.rate, self.header, self.footer = kind, rate, header, footer
        self._ts: list[np.ndarray] = []
        self._lines: list[list[str]] = []
        self._files: dict[str, io.TextIOBase] = {}
        self.records: dict[str, int] = {}
        self.malformed: dict[str, int] = {}
        self.last_ts = start

    def add(self, ts: Iterable[float], lines: list[str]) -> None:
        ts = np.asarray(ts, dtype=float)
        if len(ts):
            self._ts.append(ts)
            self._lines.append(list(lines))

    def add1(self, ts: float, line: str) -> None:
        self._ts.append(np.array([ts]))
        self._lines.append([line])

    def _open(self, rel: str, ts: float) -> io.TextIOBase:
        f = self._files.get(rel)
        if f is None:
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if rel.endswith(".gz"):
                f = io.TextIOWrapper(gzip.GzipFile(path, "wb", compresslevel=5, mtime=0), encoding="utf-8",
                                     newline="\n", write_through=False)
            else:
                f = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
            self._files[rel] = f
            self.records[rel] = 0
            self.malformed[rel] = 0
            if self.header:
                f.write(self.header(ts))
        return f

    def flush(self, until: float) -> None:
        """Write every buffered record with ts < until, in time order."""
        if not self._ts:
            return
        ts = np.concatenate(self._ts)
        lines = [x for chunk in self._lines for x in chunk]
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        cut = int(np.searchsorted(ts, until, side="left"))
        keep = order[cut:]
        self._ts = [ts[cut:]] if cut < len(ts) else []
        self._lines = [[lines[i] for i in keep]] if cut < len(ts) else []
        if cut == 0:
            return
        now = [lines[i] for i in order[:cut]]
        day = ((ts[:cut] - self.start) // 86400).astype(int)
        bounds = np.flatnonzero(np.diff(day)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, cut]):
            self._write(self.route(int(day[lo])), now[lo:hi], float(ts[lo]))
        self.last_ts = max(self.last_ts, float(ts[cut - 1]))

    def _write(self, rel: str, lines: list[str], ts0: float) -> None:
        f = self._open(rel, ts0)
        if self.restyle:
            lines = [self.restyle(line) for line in lines]
        bad = 0
        if self.kind and lines and rel not in self.clean:
            bad = int(self.rng.binomial(len(lines), self.rate))
            if self.malformed[rel] == 0:
                bad = max(bad, 1)
            for pos in sorted(self.rng.integers(0, len(lines), bad), reverse=True):
                lines.insert(int(pos), malformed_line(lines[int(pos)], self.kind, self.rng))
        self.records[rel] += len(lines)
        self.malformed[rel] += bad
        f.write("\n".join(lines))
        f.write("\n")

    def close(self, end: float) -> None:
        self.flush(float("inf"))
        for f in self._files.values():
            if self.footer:
                f.write(self.footer(end))
            f.close()
        self._files.clear()
