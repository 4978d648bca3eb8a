"""Webhook signatures computed the way each vendor documents them."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from storewatch.receive.signatures import Refused, SeenRecently, check_shopify, check_token, stripe_timestamp

BODY = b'{"id":"evt_1","object":"event","type":"charge.failed"}'
SECRET = "whsec_5f3c2a"


def stripe_header(body: bytes, secret: str, t: int) -> str:
    """Stripe's scheme: v1 = hex HMAC-SHA256 of "<t>.<body>" under the endpoint secret."""
    return f"t={t},v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_stripe_signature_accepted_with_tolerance_and_while_rolling_secrets() -> None:
    assert stripe_timestamp(BODY, stripe_header(BODY, SECRET, 1000), [SECRET], now=1200, tolerance=300) == 1000
    rolled = stripe_header(BODY, "whsec_new", 1000) + "," + stripe_header(BODY, SECRET, 1000).split(",")[1] + ",v0=abc"
    assert stripe_timestamp(BODY, rolled, ["whsec_other", SECRET], now=1000, tolerance=300) == 1000


@pytest.mark.parametrize("header, now, reason", [
    (None, 1000, "no Stripe-Signature header"),
    ("v1=abc", 1000, "Stripe-Signature without one timestamp and a v1 signature"),
    ("t=1000,v0=abc", 1000, "Stripe-Signature without one timestamp and a v1 signature"),
    (stripe_header(BODY, "whsec_wrong", 1000), 1000, "Stripe signature does not match"),
    (stripe_header(BODY + b" ", SECRET, 1000), 1000, "Stripe signature does not match"),
    (stripe_header(BODY, SECRET, 1000), 1301, "Stripe signature timestamp 301 s from now, outside the 300 s tolerance"),
])
def test_stripe_refusals(header, now, reason) -> None:
    with pytest.raises(Refused) as refused:
        stripe_timestamp(BODY, header, [SECRET], now=now, tolerance=300)
    assert (refused.value.status, refused.value.reason) == (401, reason)
    assert SECRET not in refused.value.reason


def test_stripe_library_agrees_when_installed() -> None:
    stripe = pytest.importorskip("stripe")
    header = stripe_header(BODY, SECRET, 1_800_000_000)
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=None)


def test_shopify_hmac_is_base64_of_the_raw_body() -> None:
    good = base64.b64encode(hmac.new(b"shpss_key", BODY, hashlib.sha256).digest()).decode()
    check_shopify(BODY, good, ["shpss_key"])
    for header, reason in ((None, "no X-Shopify-Hmac-Sha256 header"), (good, "Shopify HMAC does not match")):
        with pytest.raises(Refused) as refused:
            check_shopify(BODY, header, ["shpss_other"])
        assert refused.value.reason == reason


def test_tokens_bare_or_bearer() -> None:
    check_token("Zq3vN8xW2mK7pL4r", "Zq3vN8xW2mK7pL4r", "x")
    check_token("Bearer Zq3vN8xW2mK7pL4r", "Zq3vN8xW2mK7pL4r", "x")
    check_token("Bearer Zq3vN8xW2mK7pL4r", "Bearer Zq3vN8xW2mK7pL4r", "x")  # configured as Auth0 sends it
    for header in (None, "Bearer Zq3vN8xW2mK7pL4", "Zq3vN8xW2mK7pL4rX"):
        with pytest.raises(Refused):
            check_token(header, "Zq3vN8xW2mK7pL4r", "x")


def test_seen_recently_forgets_after_its_time_and_beyond_its_capacity() -> None:
    seen = SeenRecently(ttl=10, capacity=2)
    seen.add("a", now=0)
    assert seen.seen("a", now=9) and not seen.seen("a", now=10)
    seen.add("b", now=20), seen.add("c", now=20), seen.add("d", now=20)
    assert not seen.seen("b", now=20) and seen.seen("c", now=20) and seen.seen("d", now=20)
