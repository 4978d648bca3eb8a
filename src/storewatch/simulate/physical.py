"""Store physical security: ONVIF event notifications and 15-minute people-counter periods."""

from __future__ import annotations

import numpy as np
import orjson

from storewatch.simulate import clock
from storewatch.simulate.estate import Store
from storewatch.simulate.world import World

COUNTER_HEADER = "store_id,period_start,entries,exits\n"


def onvif(ts: float, topic: str, store: Store, device: str, data: dict) -> str:
    return orjson.dumps({"UtcTime": clock.iso_ms(ts), "Topic": topic,
                         "Source": {"Store": store.id, "Device": device}, "Data": data}).decode()


def door_alarm(ts: float, store: Store, door: str, state: str) -> str:
    return onvif(ts, "tns1:Door/State/DoorAlarm", store, door, {"State": state})


def granted(ts: float, store: Store, door: str, holder: str) -> str:
    return onvif(ts, "tns1:AccessControl/AccessGranted/Credential", store, door,
                 {"CredentialHolderName": holder, "State": True})


def background(world: World, t0: float, t1: float) -> None:
    """Opening/closing badge-ins, daytime delivery door held open, rare denied badges; counters."""
    rng, est = world.rng, world.est
    habits = est.profile
    opens, closes = habits.store_hours
    day0 = est.start + world.day_of(t0) * clock.DAY
    ts_out, lines = [], []
    c_ts, c_lines = [], []
    periods = np.arange(day0, day0 + clock.DAY, 900.0)
    hour = ((periods - day0) // 3600).astype(int)
    for store in est.stores:
        opener, closer = rng.choice(store.employees, 2)
        for t, holder in ((habits.local(day0, opens - 0.5) + rng.uniform(0, 1500), opener),
                          (habits.local(day0, closes + 0.1) + rng.uniform(0, 900), closer)):
            if t0 <= t < t1:
                ts_out.append(t); lines.append(granted(t, store, store.doors[0], str(holder)))
        if rng.random() < 0.5:
            t = habits.local(day0, rng.uniform(*habits.open_hours(1, 5)))
            if t0 <= t < t1:
                ts_out += [t, t + 240]
                lines += [door_alarm(t, store, store.doors[1], "HeldOpen"), door_alarm(t + 240, store, store.doors[1], "Normal")]
        if rng.random() < 0.15:
            t = habits.local(day0, rng.uniform(*habits.open_hours(1, 1)))
            if t0 <= t < t1:
                ts_out.append(t)
                lines.append(onvif(t, "tns1:AccessControl/Denied/CredentialNotFound", store, store.doors[1],
                                   {"CredentialHolderName": "", "Reason": "CredentialNotFound"}))
        # People counter: the store curve scaled by the store's own footfall, zero when shut.
        mean = habits.store_curve[hour] * store.traffic * est.rate["pos"] * 3.2
        entries = rng.poisson(mean)
        exits = np.maximum(0, np.roll(entries, 1) + rng.integers(-2, 3, len(entries)))
        exits[mean == 0] = 0
        for p, e, x in zip(periods, entries, exits):
            if t0 <= p < t1:
                c_ts.append(p); c_lines.append(f"{store.id},{clock.iso_ms(p)},{e},{x}")
    world.sinks["onvif"].add(ts_out, lines)
    world.sinks["counter"].add(c_ts, c_lines)
