"""Shopper sessions: the one draw that web, Auth0, Shopify and Stripe all render, so they agree on
who was where (same customer, IP, user agent and minute across sources)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storewatch.simulate import clock
from storewatch.simulate.world import World

SESSIONS_PER_DAY = 34000


@dataclass
class Sessions:
    ts: np.ndarray
    cust: np.ndarray
    ip: list[str]
    ua: list[str]
    pages: np.ndarray
    login: np.ndarray
    order: np.ndarray
    login_ts: np.ndarray | None = None  # filled in by the web renderer, reused by Auth0/Shopify/Stripe
    order_ts: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ts)


def sessions(world: World, t0: float, t1: float) -> Sessions:
    est, rng = world.est, world.rng
    habits = est.profile
    ts = clock.times(rng, SESSIONS_PER_DAY * est.scale * est.rate["web"], t0, t1, habits.web_curve)
    n = len(ts)
    c = est.customers
    # A long tail: a few customers visit often, most rarely.
    cust = np.minimum((rng.pareto(1.2, n) * len(c) / 8).astype(int), len(c) - 1)
    cust = (cust + rng.integers(0, len(c), n) * (rng.random(n) < 0.5)) % len(c)
    mobile = rng.random(n) < habits.mobile_share
    roam = est.random_public(int(mobile.sum()))
    it = iter(roam)
    ip = [next(it) if m else c.ip[k] for k, m in zip(cust, mobile)]
    ua = [c.ua[k] for k in cust]
    pages = 2 + rng.geometric(habits.pages_p, n)
    login = rng.random(n) < habits.login_share
    order = rng.random(n) < 0.10 * est.rate["orders"]
    return Sessions(ts, cust, ip, ua, pages, login, order)
