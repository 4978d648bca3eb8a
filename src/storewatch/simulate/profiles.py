"""Business habits: time zone, opening hours, traffic rates and the shapes of ordinary activity.

A style (styles.py) changes how records are written; a profile changes what the business does. `classic`
is the habits the simulator always had (UTC stores open 8-21, shoppers peaking in the evening, 150 till
transactions a store-day, ...). `varied` draws every habit from the seed, within ranges real retailers show:
a time zone from US Pacific to central Europe (so opening hours cross midnight UTC), other opening hours
and daily peaks, traffic rates from a third to several times classic's, longer or shorter shopper sessions,
other basket sizes, return shares, staff and till counts, database query mixes and SSH noise. Rate-based
detections then meet distributions they were not written against.

Attacks are not drawn from the profile: a brute force is still hundreds of attempts, a card tester still
dozens of cards, whatever the shop's own rates. An estate of one or two stores is a small business
(`small_business`): one or two tills a store, a handful of staff, a few servers doing several jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from storewatch.simulate import clock

PROFILES = ("classic", "varied")
# Rates a profile multiplies: the estate's per-source rates (estate.Estate.rate) and a few fixed volumes.
VOLUMES = ("web", "auth", "orders", "pos", "net", "endpoint", "db", "social",
           "ssh_noise", "admin", "bots", "crawlers", "db_connects")


@dataclass(frozen=True)
class Profile:
    name: str
    utc_offset: int = 0  # local time = UTC + offset (hours); the curves below are per UTC hour
    store_hours: tuple[int, int] = (clock.STORE_OPEN_HOUR, clock.STORE_CLOSE_HOUR)  # local, [open, close)
    web_curve: np.ndarray = field(default_factory=lambda: clock.WEB_CURVE)
    store_curve: np.ndarray = field(default_factory=lambda: clock.STORE_CURVE)
    office_curve: np.ndarray = field(default_factory=lambda: clock.OFFICE_CURVE)
    volume: dict[str, float] = field(default_factory=lambda: dict.fromkeys(VOLUMES, 1.0))
    pages_p: float = 0.3  # geometric p of a session's extra pages: 1/p pages on average
    page_gap: float = 25.0  # mean seconds between a shopper's pages
    login_share: float = 0.33
    mobile_share: float = 0.15  # sessions from a roaming (mobile carrier) address
    typo_share: float = 0.03  # logins preceded by a wrong password
    not_found_every: int = 97  # one page in N is a 404
    basket_lines: tuple[int, int] = (1, 4)  # order lines, [lo, hi)
    basket_qty: tuple[int, ...] = (1, 1, 1, 2)  # quantity of a line, drawn uniformly from these
    pos_items: tuple[int, ...] = (1, 1, 1, 2, 3)
    pos_kinds: tuple[float, float, float, float] = (0.035, 0.04, 0.044, 0.975)  # cumulative: return, no-sale, post-void; above the last a voided line
    receipted: float = 0.8  # returns with a receipt
    tills: tuple[int, int] = (2, 6)  # per store, [lo, hi)
    store_staff: tuple[int, int] = (5, 11)
    cameras: tuple[int, int] = (3, 7)
    head_office: tuple[int, int] = (18, 35)
    ops_staff: tuple[int, int] = (3, 6)  # head-office staff who also SSH to servers
    db_mix: tuple[float, float, float, float] = (0.45, 0.75, 0.85, 0.95)  # cumulative: customer lookup, order lookup, insert, stock update; the rest SET
    order_rows: int = 7  # an order lookup returns up to this many rows
    ssh_noise_tries: tuple[int, int] = (1, 4)  # failed tries per internet-noise address, [lo, hi)
    ops_sessions: float = 6.0  # staff SSH sessions per server per day
    monitor_every: float = 60.0  # seconds between uptime checks

    def local(self, day_start: float, hour: float) -> float:
        """The UTC moment of a local hour on the UTC day starting at `day_start`."""
        return day_start + ((hour - self.utc_offset) % 24) * clock.HOUR

    def open_hours(self, margin_open: float, margin_close: float) -> tuple[float, float]:
        """Local hours inside opening time, `margin_open` after opening and `margin_close` before closing."""
        return self.store_hours[0] + margin_open, self.store_hours[1] - margin_close


def build(name: str, seed: int) -> Profile:
    if name == "classic":
        return Profile("classic")
    if name == "varied":
        return varied(seed)
    raise ValueError(f"unknown simulator profile {name!r}: choose one of {', '.join(PROFILES)}")


def small_business(p: Profile) -> Profile:
    """One or two shops: a till or two each, a few store staff, a handful of people in the office."""
    return replace(p, tills=(1, 3), store_staff=(2, 6), head_office=(2, 6), ops_staff=(1, 3))


def _bump(hours: np.ndarray, peak: float, width: float) -> np.ndarray:
    """A bell over the day's hours, wrapping round midnight."""
    d = np.minimum(np.abs(hours - peak), 24 - np.abs(hours - peak))
    return np.exp(-0.5 * (d / width) ** 2)


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _cumulative(shares: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in np.cumsum(shares))


def varied(seed: int) -> Profile:
    """Habits drawn from the seed, on a stream of their own (the estate's other draws are classic's)."""
    rng = np.random.default_rng([seed, 0x50F11E])
    hours = np.arange(24, dtype=float)
    offset = int(rng.integers(-8, 3))
    open_ = int(rng.integers(7, 11))
    close = int(rng.integers(open_ + 9, min(23, open_ + 14) + 1))
    inside = (hours >= open_) & (hours < close)
    store = np.where(inside, 2 + 8 * _bump(hours, rng.uniform(open_ + 2, close - 2), rng.uniform(2, 5)), 0.0)
    floor = rng.uniform(0.08, 0.4)
    web = 10 * (floor + (1 - floor) * np.maximum(_bump(hours, rng.uniform(18, 22), rng.uniform(2, 4)),
                                                 rng.uniform(0, 1) * _bump(hours, rng.uniform(11, 14), rng.uniform(1, 3))))
    start = int(rng.integers(7, 10))
    office = np.where((hours >= start) & (hours < start + int(rng.integers(8, 12))), 10 - 2 * _bump(hours, 12.5, 0.8), 0.2)
    roll = lambda curve: np.roll(curve, -offset)  # noqa: E731 - local hours to UTC hours
    volume = {k: _logu(rng, lo, hi) for k, (lo, hi) in {
        "web": (0.4, 2.5), "auth": (0.4, 2.5), "orders": (0.4, 2.0), "pos": (0.3, 2.5), "net": (0.3, 3),
        "endpoint": (0.3, 3), "db": (0.3, 3), "social": (0.2, 3), "ssh_noise": (0.2, 12), "admin": (0.2, 3),
        "bots": (0.2, 4), "crawlers": (0.2, 3), "db_connects": (0.3, 3)}.items()}
    tills_lo, staff_lo, office_lo = int(rng.integers(1, 4)), int(rng.integers(3, 9)), int(rng.integers(8, 31))
    qty_max, items_max = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    return Profile(
        name="varied", utc_offset=offset, store_hours=(open_, close),
        web_curve=roll(web), store_curve=roll(store), office_curve=roll(office), volume=volume,
        pages_p=float(rng.uniform(0.12, 0.5)), page_gap=_logu(rng, 8, 90), login_share=float(rng.uniform(0.12, 0.55)),
        mobile_share=float(rng.uniform(0.05, 0.5)), typo_share=float(rng.uniform(0.01, 0.08)),
        not_found_every=int(rng.integers(30, 400)),
        basket_lines=(1, int(rng.integers(2, 8))), basket_qty=(1, 1) + tuple(range(1, qty_max + 1)),
        pos_items=(1, 1) + tuple(range(1, items_max + 1)),
        pos_kinds=_cumulative(np.array([rng.uniform(0.01, 0.07), rng.uniform(0.002, 0.015), rng.uniform(0.001, 0.008)]))
        + (1 - float(rng.uniform(0.005, 0.05)),),
        receipted=float(rng.uniform(0.6, 0.95)),
        tills=(tills_lo, tills_lo + int(rng.integers(1, 7))), store_staff=(staff_lo, staff_lo + int(rng.integers(2, 13))),
        cameras=(3, int(rng.integers(4, 10))), head_office=(office_lo, office_lo + int(rng.integers(5, 26))),
        ops_staff=(int(rng.integers(2, 5)), 5 + int(rng.integers(0, 4))),
        db_mix=_cumulative(rng.dirichlet([4, 3, 1, 1, 0.5]))[:4], order_rows=int(rng.integers(3, 41)),
        ssh_noise_tries=(1, int(rng.integers(2, 11))), ops_sessions=float(rng.uniform(2, 15)),
        monitor_every=float(rng.choice([30.0, 60.0, 120.0, 300.0])),
    )
