"""Benign look-alikes: activity that resembles an attack but is normal here (benign.jsonl)."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import clock, database, identity, network, physical, pos, web
from storewatch.simulate.world import World

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
ADMIN_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"


def _nights(world: World, hour: float, jitter_s: float) -> list[float]:
    est, rng = world.est, world.rng
    return [est.profile.local(est.start + d * clock.DAY, hour) + float(rng.uniform(0, jitter_s)) for d in range(est.days)]


def verified_crawler(world: World) -> None:
    """Googlebot (66.249.64.0/19) and Bingbot (157.55.0.0/16) walking the catalogue at a polite pace."""
    est, rng = world.est, world.rng
    bots = [(f"66.249.{int(rng.integers(64, 96))}.{int(rng.integers(1, 255))}", GOOGLEBOT) for _ in range(6)] + \
           [(f"157.55.{int(rng.integers(0, 256))}.{int(rng.integers(1, 255))}", BINGBOT) for _ in range(3)]
    ts = clock.times(rng, 4000 * max(est.scale, 0.1) * est.profile.volume["crawlers"], est.start, est.end, clock.FLAT)
    who = rng.integers(0, len(bots), len(ts))
    prods = rng.integers(0, len(est.products), len(ts))
    lines = [web.combined(float(t), bots[w][0], "GET", web.product_path(world, int(p)), 200, 18000 + int(p) * 53 % 7000,
                          "-", bots[w][1]) for t, w, p in zip(ts, who, prods)]
    world.sinks["web"].add(ts, lines)
    world.label("verified_crawler", est.start, est.end, [("ip", ip) for ip, _ in bots],
                "Googlebot and Bingbot from their published ranges crawling many product pages.", benign=True)


def uptime_monitor(world: World) -> None:
    """Two external monitors hit /healthz at a fixed interval (a minute in the classic profile), day and night."""
    est = world.est
    for k, (ip, ua) in enumerate(est.monitor_ips):
        ts = np.arange(est.start + 7 * k, est.end, est.profile.monitor_every)
        world.sinks["web"].add(ts, [web.combined(float(t), ip, "GET", "/healthz", 200, 2, "-", ua) for t in ts])
    world.label("uptime_monitor", est.start, est.end, [("ip", ip) for ip, _ in est.monitor_ips],
                f"Uptime monitors polling /healthz every {est.profile.monitor_every:g} seconds.", benign=True)


def office_nat(world: World) -> None:
    """Head-office staff all log in from one NAT address every working morning."""
    est, rng = world.est, world.rng
    site = f"https://www.{est.domain}"
    users = []
    for d in range(est.days):
        for user, email in est.staff:
            if rng.random() < 0.2:
                continue
            t = est.profile.local(est.start + d * clock.DAY, float(rng.uniform(7.5, 10.5)))
            uid = "auth0|staff" + str(abs(hash_str(email)))[:10]
            world.sinks["auth0"].add1(t, identity.event(world, t, "s", est.office_ip, ADMIN_UA, uid, email, client="Admin Portal"))
            world.sinks["web"].add1(t + 2, web.combined(t + 2, est.office_ip, "POST", "/admin/login", 302, 0, site + "/admin/login", ADMIN_UA))
            users.append(email)
    world.label("office_nat", est.start, est.end, [("ip", est.office_ip)] + [("email", e) for e in dict.fromkeys(users)],
                "Many distinct staff accounts logging in successfully from the office NAT address.", benign=True)


def hash_str(s: str) -> int:
    """Stable small hash (Python's hash() is salted per process)."""
    h = 7
    for ch in s.encode():
        h = (h * 31 + ch) % 1_000_000_007
    return h


def nightly_backup(world: World) -> None:
    """The file server ships many GB offsite at the same hour every night."""
    est, rng = world.est, world.rng
    src = est.server("file")[0]
    dst = est.fresh_ip()
    hour = float(rng.uniform(1, 3))
    for t in _nights(world, hour, 300):
        n = int(rng.integers(30, 60))
        ts = t + np.cumsum(rng.exponential(30, n))
        network.emit(world, "dc_conn", network.batch(ts, src.ip, dst, 443, "tcp", "ssl", rng.uniform(60, 400, n),
                                                     rng.integers(100_000_000, 400_000_000, n), rng.integers(5000, 40000, n), "SF"))
        world.label("nightly_backup", t, float(ts[-1]), [("host", src.name), ("ip", src.ip), ("ip", dst)],
                    f"Scheduled offsite backup from {src.name} to {dst} (same hour every night).", benign=True)


def etl_job(world: World) -> None:
    """etl_svc reads whole tables from the ETL host every night."""
    est, rng = world.est, world.rng
    etl = est.server("etl")[0]
    hour = float(rng.uniform(0.5, 4))
    n_cust = len(est.customers)
    for t in _nights(world, hour, 120):
        pid = int(rng.integers(2000, 60000))
        events = database.connect(t, pid, etl.ip, "etl_svc", "etl")
        tt = t
        for i, (table, rows) in enumerate((("orders", int(n_cust * 4.2)), ("customers", n_cust), ("order_items", int(n_cust * 7.5))), 1):
            tt += float(rng.uniform(30, 240))
            events.append((tt, database.audit(tt, pid, "etl_svc", "READ", "SELECT", f"SELECT * FROM {table}", rows, stmt_id=i)))
        database.emit(world, events)
        world.label("etl_job", t, tt + 1, [("user", "etl_svc"), ("ip", etl.ip)],
                    "Nightly ETL export reading full tables as etl_svc.", benign=True)


def normal_returns(world: World) -> None:
    """Every cashier at one store handles a return or two, a few without receipt."""
    est, rng = world.est, world.rng
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    t_min, t_max = est.end, est.start
    for emp in store.employees:
        for _ in range(int(rng.integers(1, 3))):
            d = int(rng.integers(0, est.days))
            t = est.profile.local(est.start + d * clock.DAY, float(rng.uniform(*est.profile.open_hours(1, 1))))
            pos.inject(world, pos.return_(world, t, store, int(rng.choice(store.workstations)), emp, receipted=rng.random() < 0.7))
            t_min, t_max = min(t_min, t), max(t_max, t)
    world.label("normal_returns", t_min, t_max + 70, [("store", store.id)] + [("employee", e) for e in store.employees],
                "Ordinary returns (some without receipt) spread across all employees of the store.", benign=True)


def camera_reboot(world: World) -> None:
    """Firmware maintenance: a few cameras lose signal briefly and report a reboot."""
    est, rng = world.est, world.rng
    for store in [est.stores[int(i)] for i in rng.choice(len(est.stores), min(3, len(est.stores)), replace=False)]:
        cam = store.cameras[int(rng.integers(0, len(store.cameras)))]
        t = est.profile.local(est.start + int(rng.integers(0, est.days)) * clock.DAY, float(rng.uniform(3, 5)))
        lines = [(t, physical.onvif(t, "tns1:VideoSource/SignalLoss", store, cam, {"State": True})),
                 (t + 95, physical.onvif(t + 95, "tns1:Monitoring/OperatingTime/LastReboot", store, cam,
                                         {"Status": clock.iso_ms(t + 95)})),
                 (t + 100, physical.onvif(t + 100, "tns1:VideoSource/SignalLoss", store, cam, {"State": False}))]
        world.sinks["onvif"].add([x[0] for x in lines], [x[1] for x in lines])
        world.label("camera_reboot", t, t + 100, [("store", store.id), ("device", cam)],
                    "Camera reboot during the maintenance window (brief signal loss).", benign=True)


def password_typo(world: World) -> None:
    """Customers who get their password wrong once or twice, then in, from their usual IP."""
    est, rng = world.est, world.rng
    c = est.customers
    for k in rng.choice(len(c), int(rng.integers(5, 15)), replace=False):
        k = int(k)
        t = est.at(0.02, 0.95)
        tries = int(rng.integers(1, 3))
        for j in range(tries):
            world.sinks["auth0"].add1(t + 15 * j, identity.event(world, t + 15 * j, "fp", c.ip[k], c.ua[k], c.user_id[k], c.email[k]))
        world.sinks["auth0"].add1(t + 15 * tries, identity.event(world, t + 15 * tries, "s", c.ip[k], c.ua[k], c.user_id[k], c.email[k]))
        world.label("password_typo", t, t + 15 * tries, [("email", c.email[k]), ("ip", c.ip[k])],
                    "Customer mistyped the password, then logged in from the usual IP.", benign=True)


def staff_ssh(world: World) -> None:
    """Operators and automation log in with keys from the bastion (rendered by linux.background)."""
    est = world.est
    world.label("staff_ssh", est.start, est.end, [("ip", est.bastion_ip)] + [("user", u) for u in est.ops_users],
                "Staff and deploy automation SSH with publickey from the bastion.", benign=True)


def campaign_export(world: World) -> None:
    """Opt-in noise (`simulate --noise campaign_export`): the marketing team's new campaign tool, run from the
    analysts' laptops (10.20.4.0/24), exports the whole customers table as mkt_campaign once a day, at a
    different hour each day. Bulk read of customer data from a rarely seen client, no schedule: every
    detection rightly flags it, and only an exception (user and network) says it is expected."""
    est, rng = world.est, world.rng
    hours = rng.permutation(np.arange(1.0, 24.0, 3.0))  # ≥ 3 h apart: no day repeats another's hour
    n_cust = len(est.customers)
    for d in range(est.days):
        t = est.start + d * clock.DAY + float(hours[d % len(hours)]) * 3600 + float(rng.uniform(0, 600))
        pid, host = int(rng.integers(2000, 60000)), f"10.20.4.{int(rng.integers(20, 240))}"
        events = database.connect(t, pid, host, "mkt_campaign", "campaign-builder")
        tt = t + float(rng.uniform(5, 60))
        events.append((tt, database.audit(tt, pid, "mkt_campaign", "READ", "SELECT", "SELECT * FROM customers", n_cust)))
        database.emit(world, events)
        world.label("campaign_export", t, tt + 1, [("user", "mkt_campaign"), ("ip", host)],
                    f"Campaign tool export of the customer table from {host} as mkt_campaign.", benign=True)
