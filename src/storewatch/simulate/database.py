"""PostgreSQL stderr log (log_line_prefix '%m [%p] %u@%d ') with pgaudit session auditing.

pgaudit runs with log_rows=on, so every AUDIT line ends with the affected/returned row count:
AUDIT: SESSION,<stmt>,<substmt>,<CLASS>,<COMMAND>,,,"<statement>",<not logged>,<rows>
"""

from __future__ import annotations

import numpy as np

from storewatch.simulate import clock
from storewatch.simulate.world import World

APP_USER, DB = "shop_app", "shopdb"


def log(ts: float, pid: int, user: str, db: str, msg: str, level: str = "LOG") -> str:
    return f"{clock.pg(ts)} [{pid}] {user}@{db} {level}:  {msg}"


def audit(ts: float, pid: int, user: str, cls: str, command: str, statement: str, rows: int,
          stmt_id: int = 1, db: str = DB) -> str:
    quoted = statement.replace('"', '""')
    return log(ts, pid, user, db, f'AUDIT: SESSION,{stmt_id},1,{cls},{command},,,"{quoted}",<not logged>,{rows}')


def connect(ts: float, pid: int, host: str, user: str, app: str = "psycopg") -> list[tuple[float, str]]:
    return [(ts, log(ts, pid, "[unknown]", "[unknown]", f"connection received: host={host} port={49152 + pid % 16000}")),
            (ts + 0.004, log(ts + 0.004, pid, user, DB, f"connection authorized: user={user} database={DB} application_name={app}"))]


def emit(world: World, events: list[tuple[float, str]]) -> None:
    if events:
        world.sinks["pg"].add([t for t, _ in events], [s for _, s in events])


def background(world: World, t0: float, t1: float) -> None:
    est, rng = world.est, world.rng
    n_cust = len(est.customers)
    events: list[tuple[float, str]] = []
    habits = est.profile
    customer, order, insert, update = habits.db_mix
    ts = clock.times(rng, 14000 * max(est.scale, 0.05) * est.rate["db"], t0, t1, habits.web_curve + 1)
    kinds = rng.random(len(ts))
    keys = rng.integers(1, max(n_cust, 2) * 4, len(ts))
    pids = rng.integers(2000, 60000, 40)
    for t, k, key in zip(ts, kinds, keys):
        pid = int(pids[int(key) % len(pids)])
        if k < customer:
            ev = audit(t, pid, APP_USER, "READ", "SELECT", f"SELECT id, email, name FROM customers WHERE id = {key}", 1)
        elif k < order:
            ev = audit(t, pid, APP_USER, "READ", "SELECT", f"SELECT id, status, total FROM orders WHERE customer_id = {key}",
                       int(key % habits.order_rows))
        elif k < insert:
            ev = audit(t, pid, APP_USER, "WRITE", "INSERT",
                       f"INSERT INTO orders (customer_id, total, status) VALUES ({key}, {key % 300 + 0.99}, 'paid')", 1)
        elif k < update:
            ev = audit(t, pid, APP_USER, "WRITE", "UPDATE", f"UPDATE inventory SET quantity = quantity - 1 WHERE sku_id = {key % 900}", 1)
        else:
            ev = audit(t, pid, APP_USER, "MISC", "SET", "SET application_name = 'storefront'", 0)
        events.append((float(t), ev))
    apps = est.server("app") + est.server("web")
    for t in clock.times(rng, 200 * habits.volume["db_connects"], t0, t1, habits.web_curve + 1):
        events += connect(float(t), int(rng.integers(2000, 60000)), apps[int(rng.integers(0, len(apps)))].ip, APP_USER)
    for t in np.arange(np.ceil(t0 / 300) * 300, t1, 300):
        events.append((t, log(t, 27, "", "", "checkpoint starting: time")))
        w = int(rng.integers(50, 4000))
        events.append((t + 27, log(t + 27, 27, "", "", f"checkpoint complete: wrote {w} buffers ({w / 163.84:.1f}%); "
                                   f"0 WAL file(s) added, 0 removed, {int(rng.integers(0, 3))} recycled; write=26.{int(rng.integers(100, 999))} s, "
                                   f"sync=0.004 s, total=27.{int(rng.integers(100, 999))} s")))
    emit(world, events)
