"""The webhook endpoints: verified bodies are spooled before the 200; everything else is refused and counted."""

from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from storewatch.receive.config import ReceiveConfig
from storewatch.receive.http import create_app
from storewatch.receive.spool import Limits
from tests.receive.conftest import (
    AUTH0_BATCH, AUTH0_TOKEN, CONFIG, JSONL_TOKEN, SHOPIFY_ORDER, STRIPE_SECRET, shopify_headers, stripe_event, stripe_headers,
)

NOW = 1_796_000_100


def client(spool, config: ReceiveConfig = CONFIG, now: float = NOW) -> TestClient:
    return TestClient(create_app(spool, config, clock=lambda: now), client=("198.51.100.1", 40000))


def spooled(spool, source: str) -> list[dict]:
    path = spool.root / source / f"{source}.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def test_stripe_event_spooled_once_replays_refused_retries_answered(spool) -> None:
    c, body = client(spool), stripe_event("evt_1")
    headers = stripe_headers(body, NOW - 10)
    assert c.post("/webhooks/stripe", content=body, headers=headers).json() == {"accepted": 1}
    [event] = spooled(spool, "stripe")
    assert event["id"] == "evt_1" and event["data"]["object"]["failure_code"] == "card_declined"
    assert "4111111111111111" not in orjson.dumps(event).decode()  # scrubbed before it reached the disk
    assert event["data"]["object"]["metadata"]["note"].startswith("card [PAN:last4=1111:tok=")
    replay = c.post("/webhooks/stripe", content=body, headers=headers)
    assert replay.status_code == 409 and replay.json()["detail"] == "replayed: this signature was already received"
    retry = c.post("/webhooks/stripe", content=body, headers=stripe_headers(body, NOW - 5))  # Stripe re-sending evt_1
    assert retry.status_code == 200 and retry.json() == {"accepted": 0, "duplicate": True}
    assert len(spooled(spool, "stripe")) == 1
    counters = spool.counters
    assert counters.accepted["stripe"] == 1 and counters.duplicate["stripe"] == 1
    assert counters.refused["stripe: replayed: this signature was already received"] == 1 and counters.pans_scrubbed == 1


def test_stripe_refusals_are_counted_with_their_reason_and_nothing_spooled(spool, caplog) -> None:
    caplog.set_level("WARNING", logger="storewatch.receive")
    c, body = client(spool), stripe_event("evt_2")
    cases = [({}, "no Stripe-Signature header"),
             (stripe_headers(body, NOW, secret="whsec_forged"), "Stripe signature does not match"),
             (stripe_headers(body, NOW - 301), "Stripe signature timestamp 301 s from now, outside the 300 s tolerance")]
    for headers, reason in cases:
        answer = c.post("/webhooks/stripe", content=body, headers=headers)
        assert (answer.status_code, answer.json()["detail"]) == (401, reason)
        assert spool.counters.refused[f"stripe: {reason}"] == 1
        assert f"reason={reason!r}" in caplog.text and "peer=198.51.100.1" in caplog.text
    assert spooled(spool, "stripe") == []
    assert STRIPE_SECRET not in caplog.text and "v1=" not in caplog.text  # neither the secret nor a signature


def test_a_signed_but_broken_body_is_quarantined_with_its_reason(spool) -> None:
    body = b'{"id": "evt_3", "object": "event", '
    answer = client(spool).post("/webhooks/stripe", content=body, headers=stripe_headers(body, NOW))
    assert answer.status_code == 400 and answer.json()["detail"].startswith("Stripe event: invalid JSON")
    [kept] = [orjson.loads(line) for line in (spool.quarantine_dir / "stripe.jsonl").read_bytes().splitlines()]
    assert kept["sample"] == body.decode() and kept["peer"] == "198.51.100.1" and kept["reason"].startswith("Stripe event: invalid JSON")
    assert sum(spool.counters.malformed.values()) == 1 and spooled(spool, "stripe") == []


def test_shopify_webhook_keeps_topic_and_shop_and_a_retried_webhook_id_is_spooled_once(spool) -> None:
    c = client(spool)
    headers = shopify_headers(SHOPIFY_ORDER, "orders/create", "wh-1")
    assert c.post("/webhooks/shopify", content=SHOPIFY_ORDER, headers=headers).json() == {"accepted": 1}
    assert c.post("/webhooks/shopify", content=SHOPIFY_ORDER, headers=headers).json() == {"accepted": 0, "duplicate": True}
    [order] = spooled(spool, "shopify")
    assert (order["id"], order["X-Shopify-Topic"], order["X-Shopify-Shop-Domain"]) == (5501, "orders/create", "north-shop.myshopify.com")
    assert "5555 5555 5555 4444" not in order["note"]
    forged = c.post("/webhooks/shopify", content=SHOPIFY_ORDER, headers=shopify_headers(SHOPIFY_ORDER, "orders/create", "wh-2", "other"))
    assert (forged.status_code, forged.json()["detail"]) == (401, "Shopify HMAC does not match")


def test_auth0_batch_becomes_one_event_per_line(spool) -> None:
    c = client(spool)
    assert c.post("/webhooks/auth0", content=AUTH0_BATCH, headers={"Authorization": AUTH0_TOKEN}).json() == {"accepted": 2}
    assert [(e["type"], e["log_id"]) for e in spooled(spool, "auth0")] == [("fp", "90020261208010000"), ("s", "90020261208010001")]
    lines = b"\n".join(orjson.dumps(e) for e in orjson.loads(AUTH0_BATCH))  # the stream's "JSON lines" format
    assert c.post("/webhooks/auth0", content=lines, headers={"Authorization": AUTH0_TOKEN}).json() == {"accepted": 2}
    assert len(spooled(spool, "auth0")) == 4
    wrong = c.post("/webhooks/auth0", content=AUTH0_BATCH, headers={"Authorization": "Bearer " + JSONL_TOKEN})
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "wrong token (Auth0 log stream)")


def test_json_lines_with_a_token_per_stream(spool) -> None:
    c, auth = client(spool), {"Authorization": f"Bearer {JSONL_TOKEN}"}
    answer = c.post("/ingest/jsonl/pos-gw", content=b'{"a": 1}\n\n{"b": "x"}\n', headers=auth)
    assert answer.json() == {"accepted": 2}
    assert spooled(spool, "jsonl-pos-gw") == [{"a": 1}, {"b": "x"}]
    bad = c.post("/ingest/jsonl", content=b'{"a": 1}\n[1]\n', headers=auth)
    assert (bad.status_code, bad.json()["detail"]) == (400, "line 2: not a JSON object")
    assert c.post("/ingest/jsonl/Bad..Name", content=b"{}", headers=auth).status_code == 404
    assert c.post("/ingest/jsonl", content=b"{}").status_code == 401


def test_endpoints_without_a_secret_do_not_exist(spool) -> None:
    c = client(spool, ReceiveConfig(jsonl_token=JSONL_TOKEN))
    body = stripe_event("evt_4")
    assert c.post("/webhooks/stripe", content=body, headers=stripe_headers(body, NOW)).status_code == 404
    assert c.post("/webhooks/auth0", content=AUTH0_BATCH, headers={"Authorization": AUTH0_TOKEN}).status_code == 404


def test_a_full_spool_answers_503_with_retry_after_and_takes_nothing(spool) -> None:
    spool.limits = Limits(max_bytes=0)
    body = stripe_event("evt_5")
    answer = client(spool).post("/webhooks/stripe", content=body, headers=stripe_headers(body, NOW))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert spool.counters.refused["stripe: spool full"] == 1 and spooled(spool, "stripe") == []


def test_a_body_over_the_cap_is_refused_413_and_counted(spool) -> None:
    config = ReceiveConfig(jsonl_token=JSONL_TOKEN, body_max=1000)
    answer = client(spool, config).post("/ingest/jsonl", content=b'{"a": "' + b"x" * 2000 + b'"}',
                                        headers={"Authorization": f"Bearer {JSONL_TOKEN}"})
    assert answer.status_code == 413 and spool.counters.refused["jsonl: body over 1000 bytes"] == 1
