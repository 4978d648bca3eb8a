"""Shopify Admin API order objects, plus the Stripe charge each web checkout produces."""

from __future__ import annotations

import numpy as np
import orjson

from storewatch.simulate import clock, ids, payments
from storewatch.simulate.traffic import Sessions
from storewatch.simulate.world import World

JSONL = "orders/shopify_orders.jsonl"
PAGE2 = "orders/shopify_orders_page2.json"
PAGE2_TMP = "orders/.page2.partial.jsonl"


def route(days: int):
    """Earlier days go to the JSON-lines export; the last day is the API page (JSON document)."""
    return lambda day: PAGE2_TMP if days > 1 and day >= days - 1 else JSONL


def order_id(world: World) -> int:
    return ids.not_luhn(int(world.rng.integers(5 * 10**12, 6 * 10**12)))


def address(first: str, last: str, addr1: str, city: str, province: str, zip_: str, cc: str = "US") -> dict:
    return {"first_name": first, "last_name": last, "address1": addr1, "city": city, "province_code": province,
            "zip": zip_, "country_code": cc}


def order(world: World, ts: float, *, email: str, ip: str, ua: str, customer_id: int, orders_count: int,
          shipping: dict, billing: dict, items: list[tuple[str, str, float, int]],
          discounts: list[dict] | None = None, gateways: tuple[str, ...] = ("stripe",),
          lang: str = "en-US", oid: int | None = None) -> dict:
    """One order; items are (sku, title, unit price, quantity); discounts [{'code','amount','type'}]."""
    oid = oid or order_id(world)
    gross = round(sum(p * q for _, _, p, q in items), 2)
    off = round(sum(float(d["amount"]) for d in discounts or []), 2)
    total = max(round(gross - off, 2), 0.0)
    return {
        "id": oid, "name": f"#{str(oid)[-5:]}", "email": email, "created_at": clock.iso_offset(ts),
        "currency": "USD", "total_price": f"{total:.2f}", "subtotal_price": f"{total:.2f}",
        "total_discounts": f"{off:.2f}", "financial_status": "paid", "browser_ip": ip,
        "client_details": {"browser_ip": ip, "user_agent": ua, "accept_language": lang},
        "customer": {"id": customer_id, "email": email, "orders_count": int(orders_count)},
        "shipping_address": shipping, "billing_address": billing,
        "line_items": [{"sku": s, "quantity": q, "price": f"{p:.2f}", "title": t} for s, t, p, q in items],
        "discount_codes": discounts or [], "payment_gateway_names": list(gateways),
    }


def emit(world: World, ts: float, o: dict) -> None:
    world.sinks["orders"].add1(ts, orjson.dumps(o).decode())


def customer_order(world: World, ts: float, k: int, ip: str, ua: str, items=None, discounts=None) -> tuple[dict, dict]:
    """A customer's ordinary checkout: the order and its successful Stripe charge."""
    c, rng, habits = world.est.customers, world.rng, world.est.profile
    if items is None:
        items = [(p[0], p[1], p[3], int(q)) for p, q in
                 ((world.est.products[int(rng.integers(0, len(world.est.products)))], rng.choice(habits.basket_qty))
                  for _ in range(int(rng.integers(*habits.basket_lines))))]
    home = address(c.first[k], c.last[k], c.address1[k], c.city[k], c.province[k], c.zip[k])
    o = order(world, ts, email=c.email[k], ip=ip, ua=ua, customer_id=c.shop_id[k], orders_count=c.orders_count[k],
              shipping=home, billing=home, items=items, discounts=discounts)
    ch = payments.charge(world, ts + 1.3, int(round(float(o["total_price"]) * 100)), payments.customer_card(world, k),
                         ip, c.email[k], f"cus_{str(c.shop_id[k])[-8:]}", order_name=o["name"])
    return o, ch


def background(world: World, t0: float, t1: float, s: Sessions) -> None:
    rng = world.rng
    for i in np.flatnonzero(s.order):
        t, k = float(s.order_ts[i]), int(s.cust[i])
        promo = None
        if world.promo_codes and rng.random() < 0.08:
            promo = [{"code": str(rng.choice(world.promo_codes)), "amount": "10.00", "type": "fixed_amount"}]
        o, ch = customer_order(world, t, k, s.ip[i], s.ua[i], discounts=promo)
        r = rng.random()
        if r < 0.035:  # a decline first, then the customer retries and succeeds
            failed = payments.charge(world, t, ch["amount"], payments.customer_card(world, k), s.ip[i],
                                     ch["billing_details"]["email"], ch["customer"],
                                     failure=str(rng.choice(list(payments.DECLINES))))
            payments.emit_charge(world, t - 30, failed)
        emit(world, t, o)
        payments.emit_charge(world, t + 1.3, ch)
        if r > 0.9995:
            payments.emit_dispute(world, t + float(rng.uniform(3600, 30 * 3600)), ch, "product_not_received")
        elif r > 0.98:
            payments.emit_refund(world, t + float(rng.uniform(3600, 30 * 3600)), ch)


def write_page2(world: World) -> None:
    """Turn the last day's buffered orders into the Admin REST API page document."""
    tmp = world.out / PAGE2_TMP
    if not tmp.exists():
        return
    with open(tmp, "rb") as f:
        orders = [orjson.loads(line) for line in f if line.strip()]
    tmp.unlink()
    (world.out / PAGE2).write_bytes(orjson.dumps({"orders": orders}, option=orjson.OPT_INDENT_2) + b"\n")
    sink = world.sinks["orders"]
    sink.records[PAGE2] = sink.records.pop(PAGE2_TMP, len(orders))
    sink.malformed[PAGE2] = sink.malformed.pop(PAGE2_TMP, 0)
