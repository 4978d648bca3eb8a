"""Webhook senders that sign as the vendors do, and a spool in a fresh workspace."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
import pytest

from storewatch.receive.config import ReceiveConfig
from storewatch.receive.spool import Limits, Spool
from storewatch.receive.status import Counters

STRIPE_SECRET = "whsec_9kTq2mZ"
SHOPIFY_SECRET = "shpss_4f1a9c"
AUTH0_TOKEN = "Auth0Tok-7hQ2xN9vL4mK8pR3wE5tY6uI"
JSONL_TOKEN = "Jsonl-Tok-2bX9qW4eR7tY1uI6oP3aS8dF"
CONFIG = ReceiveConfig(stripe_secrets=[STRIPE_SECRET], shopify_secrets=[SHOPIFY_SECRET], auth0_token=AUTH0_TOKEN,
                       jsonl_token=JSONL_TOKEN)


def stripe_headers(body: bytes, t: int, secret: str = STRIPE_SECRET) -> dict[str, str]:
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


def shopify_headers(body: bytes, topic: str, webhook_id: str, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-Shopify-Hmac-Sha256": digest, "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": "north-shop.myshopify.com",
            "X-Shopify-Webhook-Id": webhook_id, "Content-Type": "application/json"}


def stripe_event(event_id: str, card: str = "4111111111111111") -> bytes:
    """A charge.failed event as Stripe sends it; a careless integration put a card number in its metadata."""
    return orjson.dumps({
        "id": event_id, "object": "event", "type": "charge.failed", "created": 1796000000, "livemode": True,
        "data": {"object": {"id": "ch_3Q", "object": "charge", "amount": 129900, "currency": "usd", "status": "failed",
                            "created": 1796000000, "failure_code": "card_declined", "receipt_email": "mallory@example.net",
                            "metadata": {"client_ip": "198.51.100.23", "note": f"card {card}"},
                            "payment_method_details": {"card": {"last4": card[-4:], "brand": "visa", "country": "US"}},
                            "outcome": {"reason": "do_not_honor", "risk_level": "elevated", "type": "issuer_declined"}}}})


SHOPIFY_ORDER = orjson.dumps({
    "id": 5501, "name": "#5501", "email": "Eve@Example.org", "created_at": "2026-12-08T01:00:00Z",
    "financial_status": "paid", "total_price": "899.00", "currency": "USD", "browser_ip": "203.0.113.77",
    "line_items": [{"title": "TV"}], "note": "call 5555 5555 5555 4444",
    "shipping_address": {"first_name": "Eve", "last_name": "Stone", "city": "Reno", "country_code": "US"}})

AUTH0_BATCH = orjson.dumps([
    {"log_id": "90020261208010000", "data": {"date": "2026-12-08T01:00:00.000Z", "type": "fp", "ip": "198.51.100.9",
                                              "user_name": "victim@example.com", "connection": "Username-Password-Authentication",
                                              "log_id": "90020261208010000", "description": "Wrong email or password."}},
    {"log_id": "90020261208010001", "data": {"date": "2026-12-08T01:00:05.000Z", "type": "s", "ip": "198.51.100.9",
                                              "user_name": "victim@example.com", "connection": "Username-Password-Authentication",
                                              "log_id": "90020261208010001", "description": ""}}])


@pytest.fixture
def spool(ws):
    s = Spool(ws, Limits(), Counters())
    yield s
    s.close()
