"""The webhook endpoints: verify, spool, then answer 200; anything else is a 4xx (or 503) with a logged reason.

- `POST /webhooks/stripe`: Stripe event objects, `Stripe-Signature` checked (see `signatures`). The same
  signature twice is a replay (409). The same event id under a new signature is Stripe retrying a delivery
  whose answer it did not get: answered 200 and not spooled again.
- `POST /webhooks/shopify`: Shopify webhook bodies, `X-Shopify-Hmac-Sha256` checked. Spooled as the body
  with the `X-Shopify-Topic`, `X-Shopify-Shop-Domain` and `X-Shopify-Webhook-Id` headers added as keys (the
  Shopify reader keeps topic and shop in `attributes`); a webhook id already spooled is a retry (200).
- `POST /webhooks/auth0`: an Auth0 custom webhook log stream's batches (JSON array, JSON lines or one
  object), `Authorization` token checked; each log event becomes one line.
- `POST /ingest/jsonl[/<stream>]`: JSON objects one per line, `Authorization: Bearer <token>`; each stream
  name gets its own spool folder, so one kind of record per stream keeps sniffing exact.

Bodies are capped (`web.limits.BodyLimit`, 413). While the spool is too full every endpoint answers 503
with `Retry-After`, so the vendors retry later (Stripe for three days, Shopify for 48 hours).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Callable

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from storewatch.receive.config import ReceiveConfig
from storewatch.receive.signatures import Refused, SeenRecently, check_shopify, check_token, stripe_timestamp
from storewatch.receive.spool import Spool
from storewatch.receive.syslog import SAMPLE
from storewatch.web.limits import BodyLimit

log = logging.getLogger("storewatch.receive")

RETRY_AFTER = 30  # seconds a sender is asked to wait while the spool is too full
STRIPE_RETRIES = 3 * 24 * 3600  # Stripe retries an undelivered event for up to three days
SHOPIFY_RETRIES = 48 * 3600
_STREAM = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_SHOPIFY_HEADERS = ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id")

Check = Callable[[Request, bytes], tuple[list[str], list[str]]]  # (lines to spool, keys to remember once spooled)


class Endpoints:
    """The checks and parsers of each endpoint, and what they remember to catch replays and retries."""

    def __init__(self, spool: Spool, config: ReceiveConfig, clock: Callable[[], float] = time.time) -> None:
        self.spool, self.config, self.clock = spool, config, clock
        self.counters = spool.counters
        self.signatures = SeenRecently(ttl=2 * config.stripe_tolerance)
        self.deliveries = SeenRecently(ttl=STRIPE_RETRIES)

    async def handle(self, request: Request, source: str, check: Check) -> JSONResponse:
        peer = request.client.host if request.client else "-"
        if why := self.spool.too_full():
            self.counters.refused[f"{source}: spool full"] += 1
            log.warning("refused source=%s peer=%s reason=%r", source, peer, why)
            return JSONResponse({"detail": "spool full, retry later"}, 503, headers={"Retry-After": str(RETRY_AFTER)})
        body = await request.body()
        try:
            lines, keys = check(request, body)
        except Refused as refused:
            if refused.status == 400:  # signed or authorized, but broken: kept aside with its reason
                self.spool.quarantine(source, refused.reason, body[:SAMPLE], peer)
            else:
                self.counters.refused[f"{source}: {refused.reason}"] += 1
                log.warning("refused source=%s peer=%s status=%d reason=%r", source, peer, refused.status, refused.reason)
            return JSONResponse({"detail": refused.reason}, refused.status)
        if not lines and keys:
            self.counters.duplicate[source] += 1
            return JSONResponse({"accepted": 0, "duplicate": True})
        try:
            self.spool.append(source, lines)
        except OSError as exc:  # not on disk: not acknowledged, the sender retries
            self.counters.refused[f"{source}: spool write failed"] += 1
            log.error("spool write failed source=%s error=%s", source, exc)
            return JSONResponse({"detail": "could not store, retry later"}, 503, headers={"Retry-After": str(RETRY_AFTER)})
        now = self.clock()
        for key in keys:
            (self.signatures if key.startswith("sig:") else self.deliveries).add(key, now)
        return JSONResponse({"accepted": len(lines)})

    def stripe(self, request: Request, body: bytes) -> tuple[list[str], list[str]]:
        header = request.headers.get("stripe-signature")
        stripe_timestamp(body, header, self.config.stripe_secrets, self.clock(), self.config.stripe_tolerance)
        now = self.clock()
        if self.signatures.seen(f"sig:{header}", now):
            raise Refused(409, "replayed: this signature was already received")
        event = _object(body, "Stripe event")
        delivery = f"stripe:{event['id']}" if isinstance(event.get("id"), str) else None
        if delivery and self.deliveries.seen(delivery, now):
            return [], [delivery]
        return [_line(event)], [f"sig:{header}"] + ([delivery] if delivery else [])

    def shopify(self, request: Request, body: bytes) -> tuple[list[str], list[str]]:
        check_shopify(body, request.headers.get("x-shopify-hmac-sha256"), self.config.shopify_secrets)
        order = _object(body, "Shopify webhook")
        headers = {h: request.headers[h] for h in _SHOPIFY_HEADERS if h in request.headers}
        delivery = f"shopify:{headers.get('X-Shopify-Webhook-Id')}" if "X-Shopify-Webhook-Id" in headers else None
        if delivery and self.deliveries.seen(delivery, self.clock()):
            return [], [delivery]
        return [_line({**order, **headers})], ([delivery] if delivery else [])

    def auth0(self, request: Request, body: bytes) -> tuple[list[str], list[str]]:
        check_token(request.headers.get("authorization"), self.config.auth0_token or "", "Auth0 log stream")
        events = []
        for item in _json_values(body, "Auth0 log stream batch"):
            inner = item.get("data") if isinstance(item, dict) else None
            event = inner if isinstance(inner, dict) and "log_id" in item else item  # the stream's envelope, opened
            if not isinstance(event, dict):
                raise Refused(400, "Auth0 log stream batch holds something other than log events")
            events.append(_line(event))
        return events, []

    def jsonl(self, request: Request, body: bytes) -> tuple[list[str], list[str]]:
        check_token(request.headers.get("authorization"), self.config.jsonl_token or "", "JSON lines")
        lines = []
        for n, value in _json_lines(body, ""):
            if not isinstance(value, dict):
                raise Refused(400, f"line {n}: not a JSON object")
            lines.append(_line(value))
        return lines, []


def create_app(spool: Spool, config: ReceiveConfig, clock: Callable[[], float] = time.time) -> ASGIApp:
    """The receiver's own small web app (not the dashboard): only the endpoints whose secret is set exist."""
    endpoints = Endpoints(spool, config, clock)
    on = set(config.endpoints())

    def route(path: str, source: str, check: Check) -> Route:
        async def endpoint(request: Request) -> JSONResponse:
            return await endpoints.handle(request, source, check)
        return Route(path, endpoint, methods=["POST"])

    async def stream(request: Request) -> JSONResponse:
        name = request.path_params["stream"]
        if not _STREAM.fullmatch(name):
            return JSONResponse({"detail": "stream names are 1-32 of a-z, 0-9, _ and -"}, 404)
        return await endpoints.handle(request, f"jsonl-{name}", endpoints.jsonl)

    routes = [route(f"/webhooks/{name}", name, getattr(endpoints, name)) for name in ("stripe", "shopify", "auth0") if name in on]
    if "jsonl" in on:
        routes += [route("/ingest/jsonl", "jsonl", endpoints.jsonl), Route("/ingest/jsonl/{stream}", stream, methods=["POST"])]
    return _CountedLimit(Starlette(routes=routes), config.body_max, spool)


class _CountedLimit(BodyLimit):
    """The dashboard's body cap, with each refusal counted and logged as the receiver's refusals are."""

    def __init__(self, app: ASGIApp, limit: int, spool: Spool) -> None:
        super().__init__(app, limit)
        self.spool = spool

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = scope.get("path", "").rstrip("/").rsplit("/", 1)[-1] or "-"
        self.spool.counters.refused[f"{source}: body over {self.limit} bytes"] += 1
        log.warning("refused source=%s reason=%r", source, f"body over {self.limit} bytes")
        await super()._refuse(scope, receive, send)


def _json_values(body: bytes, what: str) -> list:
    """A body's JSON values: an array's items, one object, or JSON lines (the formats a log stream sends)."""
    try:
        value = orjson.loads(body)
        return value if isinstance(value, list) else [value]
    except orjson.JSONDecodeError:
        return [value for _, value in _json_lines(body, f"{what}: ")]


def _json_lines(body: bytes, what: str) -> list[tuple[int, object]]:
    """Each non-blank line's JSON value, with its line number; `Refused` at the first that is not JSON."""
    values = []
    for n, raw in enumerate(body.splitlines(), 1):
        if raw.strip():
            try:
                values.append((n, orjson.loads(raw)))
            except orjson.JSONDecodeError as exc:
                raise Refused(400, f"{what}line {n}: invalid JSON: {exc.msg}") from None
    return values


def _object(body: bytes, what: str) -> dict:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"{what}: invalid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what}: not a JSON object")
    return value


def _line(value: dict) -> str:
    return orjson.dumps(value).decode()
