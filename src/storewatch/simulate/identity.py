"""Auth0 tenant log events (the /api/v2/logs shape) for shopper and staff logins."""

from __future__ import annotations

import numpy as np
import orjson

from storewatch.simulate import clock, ids
from storewatch.simulate.estate import FIRST, LAST, MAIL_DOMAINS, UAS
from storewatch.simulate.traffic import Sessions
from storewatch.simulate.world import World

DESCRIPTIONS = {
    "s": "Successful login", "f": "Wrong email or password.", "fp": "Wrong email or password.",
    "fu": "Invalid user", "ss": "Successful signup", "scp": "Password changed successfully",
    "sce": "Email changed successfully", "limit_wc": "Blocked IP address: too many failed logins", "slo": "Successful logout",
}
CONNECTION = "Username-Password-Authentication"


def event(world: World, ts: float, kind: str, ip: str, ua: str, user_id: str | None, user_name: str,
          description: str | None = None, client: str = "Storefront", details: dict | None = None) -> str:
    """One Auth0 log event as a JSON line; failures for unknown users carry no user_id."""
    e = {"date": clock.iso_ms(ts), "type": kind, "description": description or DESCRIPTIONS[kind],
         "connection": CONNECTION, "client_id": world.est.auth0_client if client == "Storefront"
         else world.est.auth0_client[:8] + client.replace(" ", ""), "client_name": client,
         "ip": ip, "user_agent": ua}
    if user_id:
        e["user_id"] = user_id
    e["user_name"] = user_name
    if details:
        e["details"] = details
    e["log_id"] = ids.hex_id(world.rng, 32)
    return orjson.dumps(e).decode()


def background(world: World, t0: float, t1: float, s: Sessions) -> None:
    est, rng = world.est, world.rng
    c = est.customers
    sink = world.sinks["auth0"]
    idx = np.flatnonzero(s.login)
    typo = rng.random(len(idx)) < est.profile.typo_share
    logout = rng.random(len(idx)) < 0.12
    ts_out, lines = [], []
    for i, ty, lo in zip(idx, typo, logout):
        t, k = float(s.login_ts[i]), int(s.cust[i])
        if ty:
            ts_out.append(t - 21.3); lines.append(event(world, t - 21.3, "fp", s.ip[i], s.ua[i], c.user_id[k], c.email[k]))
        ts_out.append(t); lines.append(event(world, t, "s", s.ip[i], s.ua[i], c.user_id[k], c.email[k]))
        if lo:
            t2 = t + float(rng.exponential(900))
            ts_out.append(t2); lines.append(event(world, t2, "slo", s.ip[i], s.ua[i], c.user_id[k], c.email[k]))
    # New shoppers signing up: fresh identities, not (yet) customers.
    for t in clock.times(rng, 350 * est.scale * est.rate["auth"], t0, t1, est.profile.web_curve):
        f, l = FIRST[rng.integers(0, len(FIRST))], LAST[rng.integers(0, len(LAST))]
        email = f"{f}{'.' if rng.random() < 0.5 else ''}{l}{rng.integers(1, 9999)}@{MAIL_DOMAINS[rng.integers(0, len(MAIL_DOMAINS))]}"
        ts_out.append(t); lines.append(event(world, t, "ss", est.random_public(1)[0], UAS[rng.integers(0, len(UAS))],
                                             "auth0|" + ids.hex_id(rng, 24), email))
    sink.add(ts_out, lines)
