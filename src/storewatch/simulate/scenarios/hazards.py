"""Privacy hazards: real-looking card numbers leaked into raw logs, which the ingest must scrub."""

from __future__ import annotations

from storewatch.simulate import database, identity, pos, social, web
from storewatch.simulate.world import World


def leak_pans(world: World) -> None:
    """One Luhn-valid PAN in each of: a search URL, an Auth0 username, a pgaudit literal, a POS comment, a post."""
    est, rng = world.est, world.rng
    c = est.customers
    k = int(rng.integers(0, len(c)))
    t = est.at(0.05, 0.9)
    world.sinks["web"].add1(t, web.combined(t, c.ip[k], "GET", f"/search?q={world.pan()}", 200, 4021,
                                            f"https://www.{est.domain}/", c.ua[k]))
    t = est.at(0.05, 0.9)
    world.sinks["auth0"].add1(t, identity.event(world, t, "fu", c.ip[k], c.ua[k], None, world.pan()))
    t = est.at(0.05, 0.9)
    pid = int(rng.integers(2000, 60000))
    world.sinks["pg"].add1(t, database.audit(t, pid, database.APP_USER, "WRITE", "INSERT",
                                             f"INSERT INTO payment_notes (order_id, note) VALUES ({int(rng.integers(10000, 99999))}, "
                                             f"'customer read card {world.pan()} over phone')", 1))
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    day = int(rng.integers(0, est.days))
    t = est.profile.local(est.start + day * 86400, float(rng.uniform(*est.profile.open_hours(2, 3))))
    tx = pos.sale(world, t, store, store.workstations[0], store.employees[0])
    tx.comment = f"manual key entry PAN {world.pan()} exp 0928"
    pos.inject(world, tx)
    t = est.at(0.05, 0.9)
    social.emit(world, t, f"why did {est.brand} charge my card {world.pan()} twice??", social.author_id(world))
