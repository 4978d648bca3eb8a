"""nginx combined access log for the storefront and an Apache common log for the admin panel host."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import clock
from storewatch.simulate.traffic import Sessions
from storewatch.simulate.world import World

SEARCH_TERMS = ("tent", "jacket", "boots", "rain+shell", "beanie", "socks", "sleeping+bag", "headlamp",
                "fleece", "gloves", "backpack", "stove", "parka", "gift+card", "sale")
COLLECTIONS = ("mens", "womens", "kids", "camping", "hiking", "sale", "new-arrivals", "accessories")
ADMIN_PAGES = ("/admin/orders", "/admin/products", "/admin/customers", "/admin/reports/sales",
               "/admin/inventory", "/admin/orders/export", "/admin/discounts", "/admin/settings")
OTHER_BOTS = ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
              "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
              "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")


def combined(ts: float, ip: str, method: str, path: str, status: int, size: int, ref: str, ua: str,
             user: str = "-") -> str:
    """One nginx `combined` line."""
    return f'{ip} - {user} [{clock.clf(ts)}] "{method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'


def common(ts: float, ip: str, user: str, method: str, path: str, status: int, size: int) -> str:
    """One Apache `common` line (no referrer, no user agent)."""
    return f'{ip} - {user} [{clock.clf(ts)}] "{method} {path} HTTP/1.1" {status} {size}'


def access_route(days: int):
    """logrotate naming: the last day is access.log, older days access.log.N.gz."""
    return lambda day: "web/access.log" if day >= days - 1 else f"web/access.log.{days - 1 - day}.gz"


def product_path(world: World, k: int) -> str:
    return f"/products/{world.est.products[k % len(world.est.products)][2]}"


def background(world: World, t0: float, t1: float, s: Sessions) -> None:
    est, rng = world.est, world.rng
    site = f"https://www.{est.domain}"
    n_prod = len(est.products)
    ts_out: list[float] = []
    lines: list[str] = []
    add_ts, add = ts_out.append, lines.append
    gaps = rng.exponential(est.profile.page_gap, int(s.pages.sum()) + 8 * len(s) + 1)
    sizes = rng.integers(9000, 42000, len(gaps))
    picks = rng.integers(0, 1 << 30, len(gaps))
    g = 0
    s.login_ts = np.zeros(len(s))
    s.order_ts = np.zeros(len(s))
    for i in range(len(s)):
        t, ip, ua = float(s.ts[i]), s.ip[i], s.ua[i]
        r = picks[g]
        first = ("/", f"/collections/{COLLECTIONS[r % len(COLLECTIONS)]}",
                 f"/search?q={SEARCH_TERMS[r % len(SEARCH_TERMS)]}", product_path(world, r))[r % 4]
        ref = ("-", "https://www.google.com/", "-", "https://www.bing.com/")[r >> 3 & 3]
        add_ts(t); add(combined(t, ip, "GET", first, 200, int(sizes[g]), ref, ua))
        if r >> 5 & 1:
            add_ts(t + 0.2); add(combined(t + 0.2, ip, "GET", "/assets/site.css", 200 if r >> 6 & 1 else 304,
                                          150014 if r >> 6 & 1 else 0, site + first, ua))
            add_ts(t + 0.3); add(combined(t + 0.3, ip, "GET", "/assets/app.js", 200, 301877, site + first, ua))
        prev = first
        for _ in range(int(s.pages[i]) - 1):
            g += 1
            t += float(gaps[g])
            r = picks[g]
            page = product_path(world, r % n_prod) if r & 3 else f"/collections/{COLLECTIONS[r % len(COLLECTIONS)]}"
            status = 404 if r % est.profile.not_found_every == 0 else 200
            add_ts(t); add(combined(t, ip, "GET", page, status, int(sizes[g]) if status == 200 else 162, site + prev, ua))
            prev = page
        if s.login[i]:
            t += 4
            add_ts(t); add(combined(t, ip, "GET", "/account/login", 200, 8123, site + prev, ua))
            add_ts(t + 9); add(combined(t + 9, ip, "POST", "/account/login", 302, 0, site + "/account/login", ua))
            s.login_ts[i] = t + 9.4
        if s.order[i]:
            t += float(gaps[g]) + 20
            for dt, m, p, st, sz in ((0, "POST", "/cart/add", 200, 412), (3, "GET", "/cart", 200, 14211),
                                     (10, "GET", "/checkout", 200, 22412), (95, "POST", "/checkout", 302, 0)):
                add_ts(t + dt); add(combined(t + dt, ip, m, p, st, sz, site + prev, ua))
            s.order_ts[i] = t + 96
        g += 1
    # Unverified SEO/social bots: a little steady noise.
    for t in clock.times(rng, 900 * est.scale ** 0.5 * est.profile.volume["bots"], t0, t1, clock.FLAT):
        k = int(rng.integers(0, 1 << 30))
        add_ts(t); add(combined(t, est.random_public(1)[0], "GET", product_path(world, k), 200, 20000 + k % 9000,
                                "-", OTHER_BOTS[k % len(OTHER_BOTS)]))
    world.sinks["web"].add(ts_out, lines)
    _admin_panel(world, t0, t1)


def _admin_panel(world: World, t0: float, t1: float) -> None:
    """Head-office staff using the admin panel from the office NAT during office hours."""
    est, rng = world.est, world.rng
    ts = clock.times(rng, 250 * est.rate["web"] * max(0.3, est.scale ** 0.5) * est.profile.volume["admin"], t0, t1,
                     est.profile.office_curve)
    users = rng.integers(0, len(est.staff), len(ts))
    pages = rng.integers(0, len(ADMIN_PAGES), len(ts))
    sizes = rng.integers(3000, 90000, len(ts))
    lines = [common(float(t), est.office_ip, est.staff[u][0], "GET", ADMIN_PAGES[p], 200, int(z))
             for t, u, p, z in zip(ts, users, pages, sizes)]
    world.sinks["admin"].add(ts, lines)
