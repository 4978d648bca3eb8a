"""Who sent a webhook: each vendor's documented check, and a memory of what was already received.

- Stripe ("Check the webhook signatures"): `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`, each v1
  the HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's signing secret; several v1 appear while a secret is
  rolled. A timestamp further than the tolerance from now is refused (a captured request replayed later).
- Shopify ("Verify webhooks"): `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw body under the app's
  client secret.
- Auth0 custom webhook log streams and the generic JSON-lines endpoint: the `Authorization` header the stream
  (or the sender) was configured with, compared in constant time.

Every comparison is `hmac.compare_digest`; a refusal's reason never holds a secret or the expected value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict


class Refused(Exception):
    """A request not accepted: the HTTP status to answer and the reason logged and counted."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def stripe_timestamp(payload: bytes, header: str | None, secrets: list[str], now: float, tolerance: int) -> int:
    """The signed timestamp of a Stripe webhook whose signature one of `secrets` made, else `Refused`."""
    if not header:
        raise Refused(401, "no Stripe-Signature header")
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [v.strip() for k, v in pairs if k.strip() == "t"]
    signatures = [v.strip() for k, v in pairs if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise Refused(401, "Stripe-Signature without one timestamp and a v1 signature")
    signed = stamps[0].encode() + b"." + payload
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    if not any(hmac.compare_digest(e, sig) for e in expected for sig in signatures):
        raise Refused(401, "Stripe signature does not match")
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        raise Refused(401, f"Stripe signature timestamp {int(now - timestamp)} s from now, outside the {tolerance} s tolerance")
    return timestamp


def check_shopify(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """`Refused` unless the body carries a Shopify HMAC made with one of `secrets`."""
    if not header:
        raise Refused(401, "no X-Shopify-Hmac-Sha256 header")
    for secret in secrets:
        digest = base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()
        if hmac.compare_digest(digest, header.strip()):
            return
    raise Refused(401, "Shopify HMAC does not match")


def check_token(header: str | None, token: str, what: str) -> None:
    """`Refused` unless the Authorization header is the token, bare or as `Bearer <token>` (Auth0 sends the
    stream's "Authorization Token" verbatim, so it may be configured with or without the word)."""
    if not header:
        raise Refused(401, f"no Authorization header ({what})")
    if not hmac.compare_digest(_bare(header).encode(), _bare(token).encode()):
        raise Refused(401, f"wrong token ({what})")


def _bare(value: str) -> str:
    value = value.strip()
    return value[7:].strip() if value[:7].lower() == "bearer " else value


class SeenRecently:
    """Keys (a signature, an event id) seen within the last `ttl` seconds, at most `capacity` of them.

    Kept in memory: after a restart a replay within the tolerance is not caught here, but the store's
    deduplication still keeps the event once."""

    def __init__(self, ttl: float, capacity: int = 100_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()  # key -> when it expires, in insertion order

    def seen(self, key: str, now: float) -> bool:
        self._expire(now)
        return key in self._seen

    def add(self, key: str, now: float) -> None:
        self._expire(now)
        while len(self._seen) >= self.capacity:
            self._seen.popitem(last=False)
        self._seen[key] = now + self.ttl

    def _expire(self, now: float) -> None:
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
