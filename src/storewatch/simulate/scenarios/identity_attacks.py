"""Attacks on shopper identities: credential stuffing, account takeover, promo (signup) abuse."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import identity, ids, orders, payments, web
from storewatch.simulate.estate import CITIES, FIRST, LAST, MAIL_DOMAINS, STREETS, UAS
from storewatch.simulate.world import World

FOREIGN_LANGS = ("pt-BR", "ru-RU", "vi-VN", "id-ID", "tr-TR", "uk-UA", "ro-RO")


def _fake_email(rng) -> str:
    f, l = FIRST[rng.integers(0, len(FIRST))], LAST[rng.integers(0, len(LAST))]
    return f"{f}{('.', '_', '')[rng.integers(0, 3)]}{l}{rng.integers(1, 9999)}@{MAIL_DOMAINS[rng.integers(0, len(MAIL_DOMAINS))]}"


def credential_stuffing(world: World) -> None:
    """Slow, distributed: each IP tries a few combo-list credentials per hour; mostly unknown users."""
    est, rng = world.est, world.rng
    c = est.customers
    hours = float(rng.uniform(4, 12))
    t0 = est.at(0.05, 0.7, hours * 3600)
    t1 = t0 + hours * 3600
    ips: list[str] = []
    for _ in range(int(rng.integers(3, 7))):
        ips += est.fresh_ips(int(rng.integers(12, 35)), subnet16=est.fresh_subnet16())
    uas = [UAS[i] for i in rng.integers(0, len(UAS), len(ips))]
    cracked = [int(k) for k in rng.choice(len(c), int(rng.integers(3, 7)), replace=False)]
    ts_out, lines = [], []
    for ip, ua in zip(ips, uas):
        per_hour = float(rng.uniform(1.5, 5))
        n = max(2, rng.poisson(per_hour * hours))
        for t in np.sort(rng.uniform(t0, t1, n)):
            if rng.random() < 0.8:
                kind, uid, name = "fu", None, _fake_email(rng)
            else:
                k = int(rng.integers(0, len(c)))
                kind, uid, name = "fp", c.user_id[k], c.email[k]
            ts_out.append(t); lines.append(identity.event(world, float(t), kind, ip, ua, uid, name))
    for k in cracked:
        j = int(rng.integers(0, len(ips)))
        t = float(rng.uniform(t0, t1))
        ts_out.append(t); lines.append(identity.event(world, t, "s", ips[j], uas[j], c.user_id[k], c.email[k]))
    for j in rng.choice(len(ips), 3, replace=False):
        t = float(rng.uniform(t0 + 3600, t1))
        ts_out.append(t); lines.append(identity.event(world, t, "limit_wc", ips[j], uas[j], None, _fake_email(rng)))
    world.sinks["auth0"].add(ts_out, lines)
    world.label("credential_stuffing", t0, t1, [("ip", ip) for ip in ips] + [("email", c.email[k]) for k in cracked],
                f"Distributed credential stuffing from {len(ips)} IPs: mostly fu/fp failures on unknown users, "
                f"{len(cracked)} accounts successfully logged into.")


def account_takeover(world: World) -> None:
    """New IP/UA/language logs in, changes email and password, buys high value with gift cards to a new address."""
    est, rng = world.est, world.rng
    c = est.customers
    k = int(rng.choice(np.flatnonzero(c.orders_count >= 3)))
    ip = est.fresh_ip()
    ua = UAS[(UAS.index(c.ua[k]) + 1 + int(rng.integers(0, len(UAS) - 1))) % len(UAS)]
    lang = str(rng.choice(FOREIGN_LANGS))
    t = est.at(0.1, 0.8, 3 * 3600)
    new_email = _fake_email(rng).split("@")[0] + "@" + str(rng.choice(["proton.me", "tutanota.com", "mail.ru", "yandex.com"]))
    site = f"https://www.{est.domain}"
    events = [(t, web.combined(t, ip, "GET", "/account/login", 200, 8123, "-", ua)),
              (t + 7, web.combined(t + 7, ip, "POST", "/account/login", 302, 0, site + "/account/login", ua)),
              (t + 200, web.combined(t + 200, ip, "POST", "/account/email", 302, 0, site + "/account", ua)),
              (t + 320, web.combined(t + 320, ip, "POST", "/account/password", 302, 0, site + "/account", ua))]
    auth = [(t + 7.4, identity.event(world, t + 7.4, "s", ip, ua, c.user_id[k], c.email[k])),
            (t + 200.5, identity.event(world, t + 200.5, "sce", ip, ua, c.user_id[k], new_email,
                                       details={"previous_email": c.email[k]})),
            (t + 320.5, identity.event(world, t + 320.5, "scp", ip, ua, c.user_id[k], new_email))]
    t_order = t + float(rng.uniform(900, 2400))
    items = [(p[0], p[1], p[3], int(rng.integers(2, 5))) for p in
             sorted(est.products, key=lambda p: -p[3])[: int(rng.integers(3, 6))]]
    gross = sum(p * q for _, _, p, q in items)
    city, prov = CITIES[int(rng.integers(0, len(CITIES)))]
    drop = orders.address(str(rng.choice(FIRST)).title(), str(rng.choice(LAST)).title(),
                          f"{int(rng.integers(100, 9999))} {STREETS[int(rng.integers(0, len(STREETS)))]} Unit {int(rng.integers(2, 300))}",
                          city, prov, f"{int(rng.integers(10000, 99999)):05d}")
    home = orders.address(c.first[k], c.last[k], c.address1[k], c.city[k], c.province[k], c.zip[k])
    gift = round(gross * float(rng.uniform(0.4, 0.8)), 2)
    o = orders.order(world, t_order, email=new_email, ip=ip, ua=ua, customer_id=c.shop_id[k],
                     orders_count=c.orders_count[k], shipping=drop, billing=home, items=items,
                     gateways=("gift_card", "stripe"), lang=lang)
    o["total_price"] = o["subtotal_price"] = f"{gross:.2f}"
    orders.emit(world, t_order, o)
    card = payments.customer_card(world, k)
    ch = payments.charge(world, t_order + 1.5, int(round((gross - gift) * 100)), card, ip, new_email,
                         f"cus_{str(c.shop_id[k])[-8:]}", order_name=o["name"], risk="elevated")
    payments.emit_charge(world, t_order + 1.5, ch)
    events.append((t_order - 60, web.combined(t_order - 60, ip, "GET", "/checkout", 200, 22412, site + "/cart", ua)))
    events.append((t_order, web.combined(t_order, ip, "POST", "/checkout", 302, 0, site + "/checkout", ua)))
    world.sinks["web"].add([e[0] for e in events], [e[1] for e in events])
    world.sinks["auth0"].add([e[0] for e in auth], [e[1] for e in auth])
    world.label("account_takeover", t, t_order + 2,
                [("email", c.email[k]), ("user", c.user_id[k]), ("ip", ip), ("email", new_email), ("card", card.fingerprint)],
                f"Login from new IP/UA ({lang}), email changed to {new_email} and password changed, then order "
                f"{o['name']} of ${gross:.2f} paid ${gift:.2f} by gift card, shipped to a new address.")


def promo_abuse(world: World) -> None:
    """Many fresh signups with near-identical emails each redeem the first-order code to one address."""
    est, rng = world.est, world.rng
    code = world.promo_codes[0]
    base_f, base_l = str(rng.choice(FIRST)), str(rng.choice(LAST))
    dom = str(rng.choice(["gmail.com", "outlook.com"]))
    n = int(rng.integers(12, 30))
    t0 = est.at(0.05, 0.75, 6 * 3600)
    ips = est.fresh_ips(int(rng.integers(1, 4)), subnet24=(*est.fresh_subnet16(), int(rng.integers(0, 256))))
    ua = UAS[int(rng.integers(0, len(UAS)))]
    city, prov = CITIES[int(rng.integers(0, len(CITIES)))]
    street = f"{int(rng.integers(100, 9999))} {STREETS[int(rng.integers(0, len(STREETS)))]}"
    zip_ = f"{int(rng.integers(10000, 99999)):05d}"
    card_fps = [payments.Card("visa", f"{int(rng.integers(0, 10000)):04d}", fp, 5, 2029) for fp in
                ids.hex_ids(rng, 2, 16)]
    emails, t = [], t0
    for i in range(n):
        local = (f"{base_f}.{base_l}+{i + 1}", f"{base_f}{base_l}{i + 1}", f"{base_f[0]}.{base_f[1:]}.{base_l}{i}",
                 f"{base_f}.{base_l}.{i + 1}")[i % 4]
        email = f"{local}@{dom}"
        emails.append(email)
        ip = ips[i % len(ips)]
        uid = "auth0|" + ids.hex_id(rng, 24)
        t += float(rng.uniform(300, 1200))
        world.sinks["auth0"].add1(t, identity.event(world, t, "ss", ip, ua, uid, email))
        first = base_f.title()
        addr = orders.address(first, base_l.title(), street + ("", " Apt 2", " #2", " apt. 2")[i % 4], city, prov, zip_)
        p = est.products[int(rng.integers(0, len(est.products)))]
        to = t + float(rng.uniform(120, 600))
        o = orders.order(world, to, email=email, ip=ip, ua=ua, customer_id=int(rng.integers(10**9, 10**10)),
                         orders_count=1, shipping=addr, billing=addr, items=[(p[0], p[1], p[3], 1)],
                         discounts=[{"code": code, "amount": f"{p[3] * 0.15:.2f}", "type": "percentage"}])
        orders.emit(world, to, o)
        card = card_fps[i % len(card_fps)]
        payments.emit_charge(world, to + 1.2, payments.charge(world, to + 1.2, int(round(float(o["total_price"]) * 100)),
                                                           card, ip, email, None, order_name=o["name"]))
        world.sinks["web"].add1(to, web.combined(to, ip, "POST", "/checkout", 302, 0, f"https://www.{est.domain}/checkout", ua))
    world.label("promo_abuse", t0, t + 600, [("email", e) for e in emails] + [("ip", ip) for ip in ips],
                f"{n} new signups with near-identical emails each used first-order code {code}, shipping to {street}, {city}.")
