"""Payment and promotion fraud: card testing, chargebacks, a leaked staff discount code."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import ids, orders, payments, social, web
from storewatch.simulate.estate import CARD_BRANDS, UAS
from storewatch.simulate.world import World


def card_testing(world: World) -> None:
    """Dozens to hundreds of tiny charges on many distinct cards from one or a few IPs, mostly declined."""
    est, rng = world.est, world.rng
    ips = est.fresh_ips(int(rng.integers(1, 4)))
    n = int(rng.integers(60, 300))
    t0 = est.at(0.05, 0.85, 2 * 3600)
    ts = t0 + np.cumsum(rng.exponential(20, n))
    fps = ids.hex_ids(rng, n, 16)
    worked = []
    ua = UAS[int(rng.integers(0, len(UAS)))]
    for i, t in enumerate(ts):
        ip = ips[i % len(ips)]
        card = payments.Card(CARD_BRANDS[int(rng.integers(0, 2))], f"{int(rng.integers(0, 10000)):04d}", fps[i],
                             int(rng.integers(1, 13)), int(rng.integers(2026, 2031)),
                             str(rng.choice(["US", "US", "GB", "BR", "MX", "CA"])), str(rng.choice(["credit", "debit", "prepaid"])))
        declined = rng.random() < 0.85
        fail = str(rng.choice(list(payments.DECLINES), p=[0.6, 0.25, 0.15])) if declined else None
        if not declined:
            worked.append(card.fingerprint)
        ch = payments.charge(world, float(t), int(rng.integers(50, 301)), card, ip, None, None, failure=fail, risk="elevated")
        payments.emit_charge(world, float(t), ch)
        world.sinks["web"].add1(float(t) - 0.5, web.combined(float(t) - 0.5, ip, "POST", "/api/checkout/payment",
                                                             402 if declined else 200, 96, f"https://www.{est.domain}/checkout", ua))
    world.label("card_testing", t0, float(ts[-1]), [("ip", ip) for ip in ips] + [("card", fp) for fp in worked],
                f"{n} small ($0.50-$3.00) charges on {n} distinct cards, {n - len(worked)} declined.")


def chargeback_fraud(world: World) -> None:
    """A customer buys several times on one card, then every charge gets disputed as fraudulent."""
    est, rng = world.est, world.rng
    c = est.customers
    k = int(rng.integers(0, len(c)))
    card = payments.customer_card(world, k)
    n = int(rng.integers(3, 7))
    t0 = est.at(0.02, 0.4)
    span = (est.end - t0) * 0.5
    charges = []
    for t in np.sort(rng.uniform(t0, t0 + span, n)):
        o, ch = orders.customer_order(world, float(t), k, c.ip[k], c.ua[k])
        orders.emit(world, float(t), o)
        payments.emit_charge(world, float(t) + 1.3, ch)
        charges.append((float(t), ch))
    t_end = t0
    for t, ch in charges:
        td = float(rng.uniform(t + 3600, est.end - 60))
        tw = td - float(rng.uniform(600, 7200))
        payments.emit_fraud_warning(world, max(tw, t + 60), ch)
        payments.emit_dispute(world, td, ch, "fraudulent")
        t_end = max(t_end, td)
    world.label("chargeback_fraud", t0, t_end, [("email", c.email[k]), ("card", card.fingerprint), ("ip", c.ip[k])],
                f"{n} orders by one customer on one card, each followed by an early fraud warning and a fraudulent dispute.")


def leaked_discount_code(world: World) -> None:
    """A post leaks an internal staff code; then many unrelated customers redeem it."""
    est, rng = world.est, world.rng
    c = est.customers
    code = f"STAFF{str(rng.choice(['', '-', '_']))}{ids.hex_id(rng, 6).upper()}"
    pct = int(rng.choice([30, 40, 50]))
    t0 = est.at(0.05, 0.6)
    author = social.author_id(world)
    social.emit(world, t0, f"lol {est.brand.split()[0]} employee code {code} still works, {pct}% off everything", author)
    n = int(rng.integers(25, 80))
    buyers = rng.choice(len(c), n, replace=False)
    emails = []
    ts = np.sort(t0 + rng.exponential(6 * 3600, n))
    ts = np.minimum(ts, est.end - 120)
    for t, k in zip(ts, buyers):
        k = int(k)
        p = est.products[int(rng.integers(0, len(est.products)))]
        qty = int(rng.integers(1, 4))
        disc = [{"code": code, "amount": f"{p[3] * qty * pct / 100:.2f}", "type": "percentage"}]
        o, ch = orders.customer_order(world, float(t), k, c.ip[k], c.ua[k], items=[(p[0], p[1], p[3], qty)], discounts=disc)
        orders.emit(world, float(t), o)
        payments.emit_charge(world, float(t) + 1.3, ch)
        emails.append(c.email[k])
    world.label("leaked_discount_code", t0, float(ts[-1]), [("user", author)] + [("email", e) for e in emails],
                f"Post by author {author} leaked staff discount code {code} ({pct}% off); {n} customers redeemed it.")
