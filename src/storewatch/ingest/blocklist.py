"""Plain-text and CSV block lists as the public feeds publish them -> intel rows.

Text lists hold one value per line with `#` comment lines (Feodo Tracker's IP list, hash lists, host lists);
Spamhaus DROP adds a reference after a semicolon (`1.2.3.0/24 ; SBL123`), which becomes the indicator's name.
CSV lists (abuse.ch URLhaus, Feodo Tracker's CSV) quote their columns and put the header in a `#` comment line;
the value column is named by `column` or recognised by its header. Each value is checked for its kind (an
address or network, a host name, a URL with a host, a hash of the right length); a value that fails is a
note, never a crash and never a row.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass
from typing import Iterator

from storewatch.ingest.intel import INTEL_COLUMN_NAMES

KINDS = ("ip", "domain", "url", "sha256", "md5", "sha1", "csv")
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
# CSV header names of the value column, as the feeds spell them, and the kind of value each holds.
CSV_COLUMNS = {"url": "url", "dst_ip": "ip", "ip_address": "ip", "ip": "ip", "ioc": None, "domain": "domain",
               "host": "domain", "hostname": "domain", "sha256_hash": "sha256", "sha256": "sha256",
               "md5_hash": "md5", "md5": "md5", "sha1_hash": "sha1", "sha1": "sha1"}
# Columns whose text labels an entry (URLhaus: threat, tags; Feodo: malware).
CSV_LABELS = ("threat", "tags", "malware", "malware_printable", "signature")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Entry:
    ioc_type: str  # ip | domain | url | hash, as the intel table names them
    value: str
    name: str | None = None
    labels: str | None = None


def check(kind: str, raw: str) -> Entry | str:
    """The entry `raw` stands for as a `kind` value, or why it is not one."""
    value = raw.strip()
    if kind == "ip":
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"not an IP address or network: {value[:80]!r}"
        text = str(net.network_address) if net.num_addresses == 1 else str(net)
        return Entry("ip", text)
    if kind == "domain":
        host = value.lower().rstrip(".")
        return Entry("domain", host) if _HOST.match(host) else f"not a host name: {value[:80]!r}"
    if kind == "url":
        found = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#:@]+)", value, re.I)
        return Entry("url", value) if found else f"not a URL with a host: {value[:80]!r}"
    if kind in HASH_LENGTHS:
        digest = value.lower()
        if len(digest) == HASH_LENGTHS[kind] and _HEX.match(digest):
            return Entry("hash", digest)
        return f"not a {kind} hash: {value[:80]!r}"
    raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")


def parse(text: str, kind: str, column: str | None = None) -> tuple[list[Entry], list[str]]:
    """Entries (first occurrence of each value kept) and notes on the lines refused."""
    notes: list[str] = []
    lines = _csv_entries(text, column, notes) if kind == "csv" else _text_entries(text, kind, notes)
    seen: dict[tuple[str, str], Entry] = {}
    for entry in lines:
        seen.setdefault((entry.ioc_type, entry.value), entry)
    return list(seen.values()), notes


def _text_entries(text: str, kind: str, notes: list[str]) -> Iterator[Entry]:
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";", "//")):
            continue
        value, _, reference = line.partition(";")  # Spamhaus DROP: `1.2.3.0/24 ; SBL123`
        value = value.split("#", 1)[0].strip()
        found = check(kind, value)
        if isinstance(found, str):
            notes.append(f"line {number}: {found}")
        else:
            yield Entry(found.ioc_type, found.value, reference.strip() or None)


def _csv_entries(text: str, column: str | None, notes: list[str]) -> Iterator[Entry]:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            cells = next(csv.reader(io.StringIO(line.lstrip()[1:].strip())), [])
            if len(cells) > 1 and any(c.strip().lower() in CSV_COLUMNS for c in cells):
                header = [c.strip().lower() for c in cells]  # the last such comment line names the columns
            continue
        rows.append((number, next(csv.reader(io.StringIO(line)), [])))
    if header is None and rows and any(c.strip().lower() in CSV_COLUMNS for c in rows[0][1]):
        header = [c.strip().lower() for c in rows.pop(0)[1]]  # a plain CSV header line
    if header is None:
        notes.append("no header naming the value column (url, dst_ip, domain, sha256_hash, ...)")
        return
    wanted = column.lower() if column else next((c for c in header if CSV_COLUMNS.get(c)), None)
    if wanted not in header or not CSV_COLUMNS.get(wanted):
        notes.append(f"column {wanted!r} not found or of no known kind in the header {header}")
        return
    at, kind = header.index(wanted), CSV_COLUMNS[wanted]
    labels = [header.index(c) for c in CSV_LABELS if c in header]
    for number, cells in rows:
        if len(cells) <= at:
            notes.append(f"line {number}: {len(cells)} column(s), the value is column {at + 1}")
            continue
        found = check(kind, cells[at])
        if isinstance(found, str):
            notes.append(f"line {number}: {found}")
            continue
        text = ",".join(dict.fromkeys(c.strip() for i in labels if i < len(cells)
                                      for c in cells[i].split(",") if c.strip() and c.strip() != "None"))
        yield Entry(found.ioc_type, found.value, None, text or None)


def rows(entries: list[Entry], feed: str, source_file: str, **fields: object) -> list[dict]:
    """Intel rows for a feed's entries; ids are derived from feed and value, so a re-pull names the same rows."""
    out = []
    for e in entries:
        row = dict.fromkeys(INTEL_COLUMN_NAMES)
        row.update(fields)
        row.update(indicator_id=f"{feed}:{e.ioc_type}:{e.value}", ioc_type=e.ioc_type, value=e.value,
                   name=e.name or feed, labels=e.labels, source=feed, source_file=source_file)
        out.append(row)
    return out
