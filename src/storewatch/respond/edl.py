"""External dynamic lists: the plain-text block lists (one IP, network or domain a line) that Palo Alto
(External Dynamic List), Fortinet (External Block List / threat feed) and Check Point (custom IoC feed)
firewalls fetch over HTTP on a schedule.

Entries live in `<workspace>/respond/edl.json`, each value with the actions that put it there and when
each claim expires; a value is listed while at least one claim is live, so two incidents blocking the
same IP do not unblock it when the first one is rolled back. `render` is the list as a firewall reads it;
`edl_router` serves it at `/edl/ip.txt` and `/edl/domain.txt` (the dashboard mounts it and finds the
workspace in `app.state.workspace`).
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from storewatch.workspace import Workspace

KINDS = ("ip", "domain")


def path(ws: Workspace) -> Path:
    return ws.home / "respond" / "edl.json"


@contextmanager
def _locked(ws: Workspace) -> Iterator[dict]:
    """The lists, read under an exclusive lock and written back atomically when the block ends."""
    file = path(ws)
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = orjson.loads(file.read_bytes()) if file.exists() else {}
        lists = {kind: data.get(kind, {}) for kind in KINDS}
        yield lists
        tmp = file.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(lists, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        os.replace(tmp, file)


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prune(claims: dict[str, str], now: datetime) -> dict[str, str]:
    return {aid: until for aid, until in claims.items() if until > _iso(now)}


def add(ws: Workspace, kind: str, value: str, action_id: str, expires_at: datetime) -> None:
    """Claim `value` on the `kind` list for `action_id` until `expires_at` (re-adding renews the claim)."""
    now = datetime.now(timezone.utc)
    with _locked(ws) as lists:
        for v in list(lists[kind]):
            lists[kind][v] = _prune(lists[kind][v], now)
            if not lists[kind][v]:
                del lists[kind][v]
        lists[kind].setdefault(value, {})[action_id] = _iso(expires_at)


def remove(ws: Workspace, kind: str, value: str, action_id: str) -> bool:
    """Drop `action_id`'s claim; the value leaves the list when no live claim is left. False if none existed."""
    with _locked(ws) as lists:
        claims = lists[kind].get(value, {})
        found = claims.pop(action_id, None) is not None
        if not claims:
            lists[kind].pop(value, None)
        return found


def entries(ws: Workspace, kind: str, now: datetime | None = None) -> list[dict]:
    """Live entries: value, latest expiry, and the actions holding it."""
    file = path(ws)
    if not file.exists():
        return []
    lists = orjson.loads(file.read_bytes())
    out = []
    for value, claims in lists.get(kind, {}).items():
        live = _prune(claims, now or datetime.now(timezone.utc))
        if live:
            out.append({"value": value, "expires_at": max(live.values()), "actions": sorted(live)})
    return sorted(out, key=lambda e: _sort_key(kind, e["value"]))


def _sort_key(kind: str, value: str) -> tuple:
    if kind == "ip":
        net = ipaddress.ip_network(value, strict=False)
        return (net.version, int(net.network_address), net.prefixlen)
    return (value,)


def render(ws: Workspace, kind: Literal["ip", "domain"]) -> str:
    """The list as firewalls fetch it: one entry a line, nothing else (no comments: not every vendor skips them)."""
    if kind not in KINDS:
        raise ValueError(f"unknown list {kind!r}: use one of {', '.join(KINDS)}")
    values = [e["value"] for e in entries(ws, kind)]
    return "".join(v + "\n" for v in values)


def _workspace(request: Request) -> Workspace:
    return getattr(request.app.state, "workspace", None) or Workspace.at()


edl_router = APIRouter(tags=["edl"])


@edl_router.get("/edl/ip.txt", response_class=PlainTextResponse, summary="Blocked IPs and networks, one a line")
def edl_ip(request: Request) -> PlainTextResponse:
    return PlainTextResponse(render(_workspace(request), "ip"), headers={"Cache-Control": "no-store"})


@edl_router.get("/edl/domain.txt", response_class=PlainTextResponse, summary="Blocked domains, one a line")
def edl_domain(request: Request) -> PlainTextResponse:
    return PlainTextResponse(render(_workspace(request), "domain"), headers={"Cache-Control": "no-store"})
