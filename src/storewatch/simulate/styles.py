"""Simulator styles: the same estate written the way other installations and shippers produce it.

`classic` writes each source in one shape. `shipped` rewrites the same records the way a different estate
would hand them over: Apache `vhost_combined` access logs whose gift-card balance checks send the code in a
POST body (one URL for every guess), OpenSSH 9.8+ (`sshd-session`) in rsyslog's RFC 3339 file format,
PostgreSQL with pgBadger's recommended `log_line_prefix`, other schema and table names and pgaudit's
default settings (no row counts), Sysmon as
Winlogbeat ships it (ECS, `winlog.*`), Auth0 through a log stream (`{"log_id", "data"}`), Zeek JSON with a
shipper's `_path` and ISO timestamps, and X posts with API v2's default fields (no `created_at`: the time
is in the post id). Each rewrite is a pure function of one line, so the actors, labels and attacks are the
same and only shapes and names differ: detection results must not depend on the style.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

import orjson

Restyle = Callable[[str], str]
STYLES = ("classic", "shipped")

_BSD = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S+) (\S+?)(\[\d+\])?: ")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_PG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? (\S+) \[(\d+)\] ([^@\s]*)@(\S*) ([A-Z]+:  .*)$", re.S)


_GIFT_LOOKUP = re.compile(r'"(?:GET|POST) /api/gift_cards/balance\?code=[^ "]+ (HTTP/[0-9.]+)"')
_ROWS = re.compile(r"(?<=,<not logged>),\d+$")
_TABLES = [(re.compile(rf"\b(?:public\.)?{old}\b"), new) for old, new in (
    ("customers", "crm.client_accounts"), ("payments", "billing.card_payments"), ("orders", "sales.order_headers"))]


def vhost_combined(vhost: str) -> Restyle:
    """nginx/Apache combined -> Apache `vhost_combined` (`%v:%p` first), Debian's default for virtual hosts;
    gift-card balance checks as a storefront that posts the code in the body logs them."""
    return lambda line: f"{vhost}:443 " + _GIFT_LOOKUP.sub(r'"POST /giftcard/check-balance \1"', line)


def rsyslog_sshd_session(year: int) -> Restyle:
    """BSD syslog -> rsyslog's RSYSLOG_FileFormat (RFC 3339, microseconds); OpenSSH 9.8+ logs as `sshd-session`."""

    def restyle(line: str) -> str:
        m = _BSD.match(line)
        if not m or m.group(1) not in _MONTHS:
            return line
        month, day, clock, host, prog, pid = m.groups()
        stamp = f"{year:04d}-{_MONTHS[month]:02d}-{int(day):02d}T{clock}.000000+00:00"
        prog = "sshd-session" if prog == "sshd" else prog
        return f"{stamp} {host} {prog}{pid or ''}: {line[m.end():]}"

    return restyle


def pgbadger_prefix() -> Restyle:
    """`%m [%p] %u@%d ` -> pgBadger's `%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h `, tables in schemas,
    audit lines without row counts."""
    counters: dict[str, int] = {}

    def restyle(line: str) -> str:
        m = _PG.match(line)
        if not m:
            return line  # continuation lines (a statement's next lines) stay as they are
        stamp, zone, pid, user, db, rest = m.groups()
        for pattern, table in _TABLES:  # another schema's names for the same data
            rest = pattern.sub(table, rest)
        rest = _ROWS.sub("", rest)  # pgaudit's default: log_rows = off
        counters[pid] = counters.get(pid, 0) + 1  # %l: the session's line number
        client = "[local]" if user else ""  # the classic shape names no client: a Unix socket, as PostgreSQL writes it
        return f"{stamp} {zone} [{pid}]: [{counters[pid]}-1] user={user},db={db},app=,client={client} {rest}"

    return restyle


def winlogbeat(line: str) -> str:
    """An evtx_dump-style Sysmon event -> the ECS document Winlogbeat ships (event data values as strings)."""
    try:
        event = orjson.loads(line)["Event"]
        system, data = event["System"], event.get("EventData") or {}
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return line
    provider = (system.get("Provider") or {}).get("#attributes", {})
    execution = (system.get("Execution") or {}).get("#attributes", {})
    when = system["TimeCreated"]["#attributes"]["SystemTime"]
    doc = {
        "@timestamp": when[:23] + "Z" if len(when) > 23 else when,
        "event": {"code": str(system["EventID"]), "kind": "event", "provider": provider.get("Name")},
        "host": {"name": system.get("Computer")},
        "log": {"level": "information"},
        "winlog": {
            "channel": system.get("Channel"), "computer_name": system.get("Computer"), "event_id": str(system["EventID"]),
            "provider_name": provider.get("Name"), "provider_guid": "{" + str(provider.get("Guid", "")).lower() + "}",
            "record_id": system.get("EventRecordID"), "version": system.get("Version"), "api": "wineventlog",
            "process": {"pid": execution.get("ProcessID"), "thread": {"id": execution.get("ThreadID")}},
            "user": {"identifier": ((system.get("Security") or {}).get("#attributes") or {}).get("UserID")},
            "event_data": {k: str(v) for k, v in data.items() if v is not None},
        },
    }
    return orjson.dumps(doc).decode()


def auth0_log_stream(line: str) -> str:
    """An Auth0 log event -> the envelope an Auth0 log stream (webhook or EventBridge) delivers."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    return orjson.dumps({"log_id": event.get("log_id") or event.get("_id"), "data": event}).decode()


def zeek_shipped(path: str) -> Restyle:
    """Zeek JSON -> as a shipper forwards it: `_path` added, `ts` in ISO 8601 (`JSON::TS_ISO8601`)."""

    def restyle(line: str) -> str:
        try:
            row = orjson.loads(line)
            ts = dt.datetime.fromtimestamp(float(row["ts"]), dt.timezone.utc)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return line
        row = {"_path": path, **row, "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        return orjson.dumps(row).decode()

    return restyle


def x_default_fields(line: str) -> str:
    """An X API v2 post with the default fields a plain request returns: no `created_at` (the id holds it)."""
    try:
        post = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    post.pop("created_at", None)
    post.setdefault("edit_history_tweet_ids", [post.get("id")])
    return orjson.dumps(post).decode()


def restyles(style: str, vhost: str, year: int) -> dict[str, Restyle]:
    """Sink name -> rewrite of its lines, for a style."""
    if style not in STYLES:
        raise ValueError(f"unknown simulator style {style!r}: choose one of {', '.join(STYLES)}")
    if style == "classic":
        return {}
    return {
        "web": vhost_combined(vhost),
        "authlog": rsyslog_sshd_session(year),
        "pg": pgbadger_prefix(),
        "sysmon": winlogbeat,
        "auth0": auth0_log_stream,
        "conn": zeek_shipped("conn"),
        "social": x_default_fields,
    }
