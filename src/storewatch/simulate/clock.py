"""One epoch-seconds clock for the whole simulator, the vendor timestamp spellings, and diurnal sampling.

Every generator works on float epoch seconds (fast in numpy); the spellings below turn them into each
vendor's own text at write time, so a single record can be rendered the same way by background and attacks.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

DAY = 86400
HOUR = 3600
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Relative activity per UTC hour. Web shoppers peak in the evening; stores follow opening hours.
WEB_CURVE = np.array([3, 2, 1.5, 1, 1, 1.2, 2, 3.5, 5, 6, 6.5, 7, 7.5, 7, 7, 7, 7.5, 8, 9, 10, 10, 9, 7, 5], float)
STORE_CURVE = np.array([0] * 8 + [2, 4, 6, 8, 10, 9, 7, 7, 8, 9, 9, 7, 4] + [0] * 3, float)
OFFICE_CURVE = np.array([0.2] * 7 + [2, 6, 9, 10, 10, 8, 9, 10, 9, 7, 4] + [1, 0.5, 0.3, 0.2, 0.2, 0.2], float)
FLAT = np.ones(24)

STORE_OPEN_HOUR = 8
STORE_CLOSE_HOUR = 21


@lru_cache(maxsize=256)
def _ymd(day: int) -> tuple[int, int, int]:
    d = dt.date(1970, 1, 1) + dt.timedelta(days=day)
    return d.year, d.month, d.day


def parts(ts: float) -> tuple[int, int, int, int, int, int]:
    """(year, month, day, hour, minute, second) of an epoch float, UTC."""
    s = int(ts)
    day, sod = divmod(s, DAY)
    h, rem = divmod(sod, HOUR)
    m, sec = divmod(rem, 60)
    y, mo, d = _ymd(day)
    return y, mo, d, h, m, sec


def _frac(ts: float, digits: int) -> int:
    return int((ts - int(ts)) * 10**digits)


def iso_ms(ts: float) -> str:
    """2026-11-16T00:01:21.770Z (Auth0, ONVIF, X, people counter)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{m:02d}:{s:02d}.{_frac(ts, 3):03d}Z"


def iso_us(ts: float) -> str:
    """2026-11-16T00:19:13.349825Z (Windows event SystemTime)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{m:02d}:{s:02d}.{_frac(ts, 6):06d}Z"


def iso_s(ts: float) -> str:
    """2026-11-16T08:14:14Z (POSLog, labels, STIX)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{m:02d}:{s:02d}Z"


def iso_offset(ts: float) -> str:
    """2026-11-16T00:22:57+00:00 (Shopify)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{m:02d}:{s:02d}+00:00"


def date(ts: float) -> str:
    y, mo, d, *_ = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}"


def clf(ts: float) -> str:
    """16/Nov/2026:00:00:10 +0000 (nginx / Apache)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{d:02d}/{MONTHS[mo - 1]}/{y:04d}:{h:02d}:{m:02d}:{s:02d} +0000"


def syslog(ts: float) -> str:
    """Nov 16 00:00:10 (BSD syslog: no year, space-padded day)."""
    _, mo, d, h, m, s = parts(ts)
    return f"{MONTHS[mo - 1]} {d:2d} {h:02d}:{m:02d}:{s:02d}"


def sysmon_utc(ts: float) -> str:
    """2026-11-16 00:19:13.349 (Sysmon EventData UtcTime)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{m:02d}:{s:02d}.{_frac(ts, 3):03d}"


def pg(ts: float) -> str:
    """2026-11-16 00:40:11.409 UTC (PostgreSQL %m): Sysmon's form with the zone named."""
    return sysmon_utc(ts) + " UTC"


def zeek_stamp(ts: float) -> str:
    """2026-11-16-00-00-00 (Zeek #open / #close)."""
    y, mo, d, h, m, s = parts(ts)
    return f"{y:04d}-{mo:02d}-{d:02d}-{h:02d}-{m:02d}-{s:02d}"


def expected(per_day: float, t0: float, t1: float, curve: np.ndarray) -> float:
    """Expected event count in [t0, t1) for a daily total spread along an hourly curve."""
    hours = np.arange(int(t0 // HOUR), int(np.ceil(t1 / HOUR)))
    if len(hours) == 0 or curve.sum() == 0:
        return 0.0
    return float(per_day * curve[hours % 24].sum() / curve.sum())


def times(rng: np.random.Generator, per_day: float, t0: float, t1: float, curve: np.ndarray) -> np.ndarray:
    """Poisson arrivals in [t0, t1) following an hourly curve; sorted epoch floats."""
    hours = np.arange(int(t0 // HOUR), int(np.ceil(t1 / HOUR)))
    w = curve[hours % 24].astype(float)
    if len(hours) == 0 or w.sum() == 0:
        return np.empty(0)
    n = rng.poisson(per_day * w.sum() / curve.sum())
    pick = rng.choice(len(hours), size=n, p=w / w.sum())
    ts = hours[pick] * float(HOUR) + rng.random(n) * HOUR
    ts = ts[(ts >= t0) & (ts < t1)]
    ts.sort()
    return ts
