"""Stripe webhook event objects: charges, refunds, disputes and early fraud warnings."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from storewatch.simulate import ids
from storewatch.simulate.world import World

DECLINES = {"card_declined": "generic_decline", "incorrect_cvc": "incorrect_cvc",
            "insufficient_funds": "insufficient_funds"}


@dataclass
class Card:
    brand: str
    last4: str
    fingerprint: str
    exp_month: int
    exp_year: int
    country: str = "US"
    funding: str = "credit"


def customer_card(world: World, k: int) -> Card:
    c = world.est.customers
    return Card(c.card_brand[k], c.card_last4[k], c.card_fp[k], *c.card_exp[k])


def charge(world: World, ts: float, amount: int, card: Card, ip: str, email: str | None, customer: str | None,
           failure: str | None = None, order_name: str | None = None, risk: str = "normal") -> dict:
    """A charge object; `failure` is a Stripe failure_code (card_declined, incorrect_cvc, ...)."""
    ok = failure is None
    meta = {"client_ip": ip}
    if order_name:
        meta["order_name"] = order_name
    return {
        "id": "ch_" + ids.hex_id(world.rng, 24), "object": "charge", "amount": amount, "amount_refunded": 0,
        "currency": "usd", "status": "succeeded" if ok else "failed", "paid": ok, "refunded": False,
        "created": int(ts), "customer": customer,
        "outcome": ({"network_status": "approved_by_network", "reason": None, "risk_level": risk,
                     "type": "authorized", "seller_message": "Payment complete."} if ok else
                    {"network_status": "declined_by_network", "reason": DECLINES[failure], "risk_level": risk,
                     "type": "issuer_declined", "seller_message": "The bank did not return any further details with this decline."}),
        "failure_code": failure,
        "failure_message": None if ok else "Your card was declined.",
        "billing_details": {"email": email, "address": {"country": card.country}},
        "payment_method_details": {"type": "card", "card": {
            "brand": card.brand, "country": card.country, "fingerprint": card.fingerprint, "last4": card.last4,
            "exp_month": card.exp_month, "exp_year": card.exp_year, "funding": card.funding}},
        "metadata": meta,
    }


def event(world: World, ts: float, kind: str, obj: dict) -> str:
    """Wrap an object in a Stripe event envelope, as one JSON line."""
    return orjson.dumps({"id": "evt_" + ids.hex_id(world.rng, 24), "object": "event", "api_version": "2024-06-20",
                         "created": int(ts), "type": kind, "data": {"object": obj}}).decode()


def emit_charge(world: World, ts: float, ch: dict) -> None:
    world.sinks["stripe"].add1(ts, event(world, ts, "charge.succeeded" if ch["paid"] else "charge.failed", ch))


def emit_refund(world: World, ts: float, ch: dict) -> None:
    refunded = dict(ch, refunded=True, amount_refunded=ch["amount"])
    world.sinks["stripe"].add1(ts, event(world, ts, "charge.refunded", refunded))


def emit_dispute(world: World, ts: float, ch: dict, reason: str = "fraudulent") -> None:
    dispute = {"id": "dp_" + ids.hex_id(world.rng, 24), "object": "dispute", "amount": ch["amount"],
               "charge": ch["id"], "currency": "usd", "created": int(ts), "reason": reason,
               "status": "needs_response", "is_charge_refundable": False,
               "evidence_details": {"due_by": int(ts) + 7 * 86400, "has_evidence": False}}
    world.sinks["stripe"].add1(ts, event(world, ts, "charge.dispute.created", dispute))


def emit_fraud_warning(world: World, ts: float, ch: dict, fraud_type: str = "made_with_stolen_card") -> None:
    efw = {"id": "issfr_" + ids.hex_id(world.rng, 24), "object": "radar.early_fraud_warning", "actionable": True,
           "charge": ch["id"], "created": int(ts), "fraud_type": fraud_type, "livemode": True}
    world.sinks["stripe"].add1(ts, event(world, ts, "radar.early_fraud_warning.created", efw))
