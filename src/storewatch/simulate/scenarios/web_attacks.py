"""Attacks visible in the storefront access log: admin brute force, gift-card enumeration, scraping, scanning."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import web
from storewatch.simulate.world import World

SCRAPER_UAS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36",
               "python-requests/2.31.0", "Scrapy/2.11.0 (+https://scrapy.org)",
               "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.212 Safari/537.36")
SCANNER_UAS = ("sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.63 Safari/537.36 Nuclei")
PROBES = ("/products?id=1%27%20OR%20%271%27=%271", "/search?q=%27%20UNION%20SELECT%20username,password%20FROM%20users--",
          "/search?q=<script>alert(document.cookie)</script>", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
          "/static/../../../../etc/passwd", "/download?file=../../../../etc/passwd", "/.env", "/.git/config",
          "/wp-login.php", "/wp-admin/setup-config.php", "/phpmyadmin/index.php", "/server-status", "/admin/config.php",
          "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", "/api/v1/users?id=1%20AND%201=1", "/actuator/env", "/backup.zip",
          "/index.php?page=php://filter/convert.base64-encode/resource=index", "/products/1;waitfor%20delay%270:0:5%27--")


def _add(world: World, events: list[tuple[float, str]], sink: str = "web") -> None:
    world.sinks[sink].add([e[0] for e in events], [e[1] for e in events])


def admin_bruteforce(world: World) -> None:
    """One IP hammers /admin/login with 401s, gets in with a staff account, then browses and exports."""
    est, rng = world.est, world.rng
    ip = est.fresh_ip()
    ua = str(rng.choice(["python-requests/2.31.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0"]))
    n = int(rng.integers(150, 600))
    t0 = est.at(0.05, 0.85, 3 * 3600)
    ts = t0 + np.cumsum(rng.uniform(2, 14, n))
    site = f"https://www.{est.domain}"
    events = [(float(t), web.combined(float(t), ip, "POST", "/admin/login", 401, 42, site + "/admin/login", ua)) for t in ts]
    user = est.staff[int(rng.integers(0, len(est.staff)))][0]
    t = float(ts[-1]) + float(rng.uniform(2, 10))
    events.append((t, web.combined(t, ip, "POST", "/admin/login", 302, 0, site + "/admin/login", ua)))
    events.append((t + 1, web.combined(t + 1, ip, "GET", "/admin", 200, 18342, site + "/admin/login", ua)))
    _add(world, events)
    panel = [(t + 5 + 30 * i, web.common(t + 5 + 30 * i, ip, user, "GET", p, 200, int(rng.integers(3000, 900000))))
             for i, p in enumerate(["/admin/customers", "/admin/customers/export", "/admin/orders/export", "/admin/discounts"])]
    _add(world, panel, "admin")
    world.label("admin_bruteforce", t0, panel[-1][0], [("ip", ip), ("user", user)],
                f"{n} failed POST /admin/login (401) from one IP, then a successful login as {user} and data exports.")


def giftcard_enumeration(world: World) -> None:
    """Balance checks on many distinct gift-card codes, almost all 404."""
    est, rng = world.est, world.rng
    ips = est.fresh_ips(int(rng.integers(1, 4)))
    ua = str(rng.choice(["python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1"]))
    n = int(rng.integers(300, 1500))
    t0 = est.at(0.05, 0.85, 4 * 3600)
    ts = t0 + np.cumsum(rng.exponential(6, n))
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    events = []
    for i, t in enumerate(ts):
        code = "".join(letters[rng.integers(0, len(letters), 4)]) + "-" + "".join(letters[rng.integers(0, len(letters), 4)]) + \
            "-" + "".join(letters[rng.integers(0, len(letters), 4)])
        hit = rng.random() < 0.004
        method = "GET" if i % 5 else "POST"
        events.append((float(t), web.combined(float(t), ips[i % len(ips)], method, f"/api/gift_cards/balance?code={code}",
                                              200 if hit else 404, 61 if hit else 24, "-", ua)))
    _add(world, events)
    world.label("giftcard_enumeration", t0, float(ts[-1]), [("ip", ip) for ip in ips],
                f"{n} gift-card balance lookups on distinct codes from {len(ips)} IP(s), nearly all 404.")


def scraping_bot(world: World) -> None:
    """A whole /24 crawls the catalogue fast with headless or spoofed user agents."""
    est, rng = world.est, world.rng
    net = (*est.fresh_subnet16(), int(rng.integers(0, 256)))
    ips = est.fresh_ips(int(rng.integers(40, 160)), subnet24=net)
    n = int(3000 + 15000 * est.scale * rng.uniform(0.8, 1.3))
    t0 = est.at(0.05, 0.8, 5 * 3600)
    ts = t0 + np.cumsum(rng.exponential(0.6, n))
    who = rng.integers(0, len(ips), n)
    uas = [SCRAPER_UAS[int(i)] for i in rng.integers(0, len(SCRAPER_UAS), len(ips))]
    prods = rng.integers(0, len(est.products), n)
    events = [(float(t), web.combined(float(t), ips[w], "GET", f"{web.product_path(world, int(p))}?page={int(p) % 7 + 1}",
                                      200, 21000 + int(p) * 37 % 9000, "-", uas[w])) for t, w, p in zip(ts, who, prods)]
    _add(world, events)
    world.label("scraping_bot", t0, float(ts[-1]), [("ip", ip) for ip in ips],
                f"{n} product page fetches from {len(ips)} IPs in {net[0]}.{net[1]}.{net[2]}.0/24 with headless/fake UAs.")


def web_attack_scan(world: World) -> None:
    """Vulnerability scanner: SQLi, XSS, traversal and well-known paths, mostly 404/403."""
    est, rng = world.est, world.rng
    ips = est.fresh_ips(int(rng.integers(1, 3)))
    n = int(rng.integers(300, 1500))
    t0 = est.at(0.05, 0.85, 2 * 3600)
    ts = t0 + np.cumsum(rng.exponential(1.5, n))
    events = []
    for i, t in enumerate(ts):
        path = PROBES[int(rng.integers(0, len(PROBES)))]
        status = int(rng.choice([404, 404, 404, 403, 400, 500, 200]))
        events.append((float(t), web.combined(float(t), ips[i % len(ips)], "GET" if i % 6 else "POST", path, status,
                                              162 if status != 200 else 5123, "-", SCANNER_UAS[i % len(SCANNER_UAS)])))
    _add(world, events)
    world.label("web_attack_scan", t0, float(ts[-1]), [("ip", ip) for ip in ips],
                f"{n} scanner requests (sqlmap/Nikto/Nuclei) probing SQLi, XSS and path traversal.")
