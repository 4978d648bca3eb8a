"""In-store attacks: an employee's refund fraud, and a night-time break-in."""

from __future__ import annotations


from storewatch.simulate import clock, physical, pos
from storewatch.simulate.world import World


def _open_time(world: World, day: int) -> float:
    rng, est = world.rng, world.est
    return est.profile.local(est.start + day * clock.DAY, float(rng.uniform(*est.profile.open_hours(0.5, 0.5))))


def refund_fraud(world: World) -> None:
    """One cashier keys many no-receipt returns to the same card, plus post-voids of real sales."""
    est, rng = world.est, world.rng
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    emp = store.employees[int(rng.integers(0, len(store.employees)))]
    last4 = f"{int(rng.integers(0, 10000)):04d}"
    ws = int(rng.choice(store.workstations))
    n = int(rng.integers(8, 20)) * est.days
    times = sorted(_open_time(world, int(rng.integers(0, est.days))) for _ in range(n))
    for t in times:
        pos.inject(world, pos.return_(world, t, store, ws, emp, receipted=rng.random() < 0.1, last4=last4,
                                      price=round(float(rng.uniform(60, 300)), 2)))
    voids = [_open_time(world, int(rng.integers(0, est.days))) for _ in range(int(rng.integers(3, 8)))]
    for t in voids:
        sale = pos.sale(world, t, store, ws, emp, int(rng.integers(1, 4)))
        sale.tender = "Cash"
        pos.inject(world, sale)
        pos.inject(world, pos.PosTx(t + float(rng.uniform(120, 900)), store, ws, emp, "postvoid", voided=sale))
    world.label("refund_fraud", min(times + voids), max(times + voids) + 900,
                [("employee", emp), ("store", store.id), ("card", f"************{last4}"), ("host", store.pos_host(ws))],
                f"Employee {emp} issued {n} returns (mostly no-receipt) refunded to card ending {last4}, and post-voided cash sales.")


def after_hours_intrusion(world: World) -> None:
    """Rear door forced at night, cameras blinded, then the till opened and refunds keyed with a staff login."""
    est, rng = world.est, world.rng
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    day = int(rng.integers(0, est.days))
    t = est.profile.local(est.start + day * clock.DAY, float(rng.uniform(1, 4)))  # the small hours, local time
    door, cams = store.doors[1], store.cameras
    lines = [(t, physical.door_alarm(t, store, door, "Forced")),
             (t + 35, physical.onvif(t + 35, "tns1:VideoSource/GlobalSceneChange/ImagingService", store, cams[0], {"State": True})),
             (t + 70, physical.onvif(t + 70, "tns1:VideoSource/SignalLoss", store, cams[-1], {"State": True}))]
    emp = store.employees[int(rng.integers(0, len(store.employees)))]
    ws = store.workstations[0]
    tt = t + float(rng.uniform(300, 900))
    for _ in range(int(rng.integers(2, 5))):
        pos.inject(world, pos.PosTx(tt, store, ws, emp, "nosale"))
        tt += float(rng.uniform(30, 200))
    for _ in range(int(rng.integers(1, 4))):
        pos.inject(world, pos.return_(world, tt, store, ws, emp, receipted=False, price=round(float(rng.uniform(150, 400)), 2)))
        tt += float(rng.uniform(30, 200))
    lines.append((tt + 400, physical.door_alarm(tt + 400, store, door, "Normal")))
    world.sinks["onvif"].add([x[0] for x in lines], [x[1] for x in lines])
    world.label("after_hours_intrusion", t, tt + 400,
                [("store", store.id), ("device", door), ("device", cams[0]), ("device", cams[-1]), ("employee", emp),
                 ("host", store.pos_host(ws))],
                f"Store {store.id} at night: {door} forced, camera tamper and signal loss, then no-sales and no-receipt returns as {emp}.")
