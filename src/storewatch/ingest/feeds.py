"""Threat-intel feeds a workspace follows: their definitions, and fetching what each publishes now.

Definitions live in `<workspace>/intel_feeds.yml` (configuration, read in a diff, changed while `watch`
holds the store); where each poll stopped lives in the store (`intel_feed_state`). Credentials never go in
either: a TAXII password or token comes from `STOREWATCH_INTEL_<FEED>_PASSWORD` / `_TOKEN` or the
`intel_<feed>` section of respond.yml (owner-only), read when the feed is pulled.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from storewatch.ingest import blocklist, intel, taxii
from storewatch.respond.config import Setting, Settings
from storewatch.workspace import Workspace

FILE = "intel_feeds.yml"
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
MAX_BYTES = 64 * 1024 * 1024  # a block list larger than this is refused, not read into memory
CREDENTIALS = (Setting("password", "TAXII password for the feed's user", secret=True),
               Setting("token", "TAXII token (sent as `Authorization: Token ...`)", secret=True))
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class FeedError(ValueError):
    """A feed definition that cannot be used, or a fetch that failed; the message is safe to print."""


@dataclass
class Feed:
    name: str
    kind: str  # taxii | url | file
    location: str  # API root URL, block list URL, or file path
    collection: str | None = None  # TAXII collection id
    format: str | None = None  # block lists: ip, domain, url, sha256, md5, sha1, csv
    column: str | None = None  # CSV: the value column, when its header is not recognised
    user: str | None = None
    confidence: int = 50
    tlp: str = "clear"
    interval: int = 3600  # seconds between scheduled pulls
    subdomains: bool = False  # block-list domains also cover their subdomains

    def check(self) -> "Feed":
        if not _NAME.match(self.name):
            raise FeedError(f"feed name {self.name!r}: lower-case letters, digits, - and _, at most 40")
        if self.kind not in ("taxii", "url", "file"):
            raise FeedError(f"{self.name}: kind must be taxii, url or file")
        if self.kind == "taxii" and not self.collection:
            raise FeedError(f"{self.name}: a TAXII feed needs --collection")
        if self.kind != "taxii" and self.format not in blocklist.KINDS:
            raise FeedError(f"{self.name}: --kind must be one of {', '.join(blocklist.KINDS)}")
        if self.kind in ("taxii", "url") and not re.match(r"^https?://[^/\s]+", self.location):
            raise FeedError(f"{self.name}: {self.location!r} is not an http(s) URL")
        if not 0 <= self.confidence <= 100:
            raise FeedError(f"{self.name}: confidence is 0-100")
        if self.tlp not in TLP_LEVELS:
            raise FeedError(f"{self.name}: TLP must be one of {', '.join(TLP_LEVELS)}")
        if self.interval < 60:
            raise FeedError(f"{self.name}: interval is at least 60 seconds")
        return self


@dataclass
class Fetched:
    """What a feed publishes now: rows to store, indicators its producer revoked, notes on what was skipped."""

    rows: list[dict] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cursor: str | None = None
    complete: bool = False  # a full list (block lists): what is not in it any more is removed


def path(ws: Workspace) -> Path:
    return ws.home / FILE


def load(ws: Workspace) -> dict[str, Feed]:
    """The workspace's feeds by name; a broken file is an error that names it, never an empty list."""
    p = path(ws)
    if not p.exists():
        return {}
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        return {name: Feed(name=name, **spec).check() for name, spec in (doc.get("feeds") or {}).items()}
    except (yaml.YAMLError, TypeError, AttributeError) as exc:
        raise FeedError(f"{p} cannot be read: {' '.join(str(exc).split())[:200]}") from None


def save(ws: Workspace, feeds: dict[str, Feed]) -> None:
    doc = {"feeds": {name: {k: v for k, v in asdict(f).items() if k != "name" and v is not None}
                     for name, f in sorted(feeds.items())}}
    tmp = path(ws).with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    tmp.replace(path(ws))


def credentials(ws: Workspace, feed: Feed, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The feed's password and token, from the environment or respond.yml, never from its definition."""
    return Settings.load(ws, environ).section(f"intel_{feed.name.replace('-', '_')}", CREDENTIALS)


def fetch(ws: Workspace, feed: Feed, cursor: str | None, timeout: float = 60.0) -> Fetched:
    """Fetch what the feed publishes (since `cursor` for TAXII). Raises FeedError when it cannot be reached."""
    if feed.kind == "taxii":
        return _fetch_taxii(ws, feed, cursor, timeout)
    text = _download(feed.location, timeout) if feed.kind == "url" else _read_file(Path(feed.location))
    entries, notes = blocklist.parse(text, feed.format or "", feed.column)
    rows = blocklist.rows(entries, feed.name, feed.location, confidence=feed.confidence, tlp=feed.tlp,
                          exact=not feed.subdomains)
    return Fetched(rows=rows, notes=notes, complete=True)


def _fetch_taxii(ws: Workspace, feed: Feed, cursor: str | None, timeout: float) -> Fetched:
    secrets = credentials(ws, feed)
    try:
        batch = taxii.poll(feed.location, feed.collection or "", cursor, user=feed.user, password=secrets["password"],
                           token=secrets["token"], timeout=timeout)
    except Exception as exc:  # taxii2-client and requests raise many kinds; the feed fails, the run goes on
        raise FeedError(f"TAXII {feed.location}: {type(exc).__name__}: {_safe(str(exc), secrets)}") from None
    notes: list[str] = []
    rows = intel.read_objects(intel.parse_objects(batch.objects, notes), feed.location, notes)
    for row in rows:
        row.update(source=feed.name, tlp=row["tlp"] or feed.tlp,
                   confidence=feed.confidence if row["confidence"] is None else row["confidence"])
    revoked = [o["id"] for o in batch.objects if o.get("revoked") and isinstance(o.get("id"), str)]
    return Fetched(rows=rows, revoked=revoked, notes=notes, cursor=batch.cursor)


def _safe(text: str, secrets: dict[str, Any]) -> str:
    for value in secrets.values():
        if value:
            text = text.replace(str(value), "***")
    return " ".join(text.split())[:300]


def _download(url: str, timeout: float) -> str:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code >= 400:
                raise FeedError(f"GET {url}: HTTP {resp.status_code} {resp.reason_phrase}")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FeedError(f"GET {url}: larger than {MAX_BYTES // 2**20} MB, refused")
    except httpx.HTTPError as exc:
        raise FeedError(f"GET {url}: {type(exc).__name__}") from None
    return body.decode("utf-8-sig", errors="replace")


def _read_file(p: Path) -> str:
    try:
        if p.stat().st_size > MAX_BYTES:
            raise FeedError(f"{p}: larger than {MAX_BYTES // 2**20} MB, refused")
        return p.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise FeedError(f"{p}: {exc.strerror or type(exc).__name__}") from None
