"""Infrastructure attacks: SSH brute force, POS malware with C2 beaconing, exfiltration, port scan, bulk DB read."""

from __future__ import annotations

import numpy as np

from storewatch.simulate import database, endpoint, ids, intel, linux, network
from storewatch.simulate.world import World

FAMILIES = ("Prilex", "FrostPOS", "Cherrypicker", "BlackPOS", "TreasureHunt", "GlitchPOS", "MajikPOS", "AlinaSpark")
DROP_DIRS = ("C:\\Users\\Public\\Libraries", "C:\\ProgramData\\Intel\\Logs", "C:\\Users\\{user}\\AppData\\Roaming\\Microsoft\\Crypto",
             "C:\\Windows\\Temp\\~wrk", "C:\\Users\\Public\\Documents\\cache")
DROP_NAMES = ("svch0st.exe", "winupd32.exe", "dllhost64.exe", "msdtc_x.exe", "rundl132.exe", "taskhostw2.exe", "ctfmon_.exe")


def ssh_bruteforce(world: World) -> None:
    """Hundreds of failed passwords from one IP, then an accepted password from that same IP."""
    est, rng = world.est, world.rng
    ip = est.fresh_ip()
    srv = (est.server("bastion") + est.server("web"))[int(rng.integers(0, 2))]
    n = int(rng.integers(200, 800))
    t0 = est.at(0.05, 0.85, 3 * 3600)
    ts = t0 + np.cumsum(rng.exponential(8, n))
    victim = est.ops_users[int(rng.integers(2, len(est.ops_users)))] if len(est.ops_users) > 2 else "deploy"
    pool = ["root", "admin", "ubuntu", victim, victim, "postgres", "test", "oracle"]
    events = []
    for t in ts:
        user = pool[int(rng.integers(0, len(pool)))]
        events += linux.failed(world, float(t), srv.name, user, ip, invalid=user not in ("root", victim, "postgres"))
    t_ok = float(ts[-1]) + 5
    events += linux.ssh_session(world, t_ok, srv.name, victim, ip, "password", float(rng.uniform(300, 2400)))
    events.append((t_ok + 40, linux.sudo(t_ok + 40, srv.name, victim, "/bin/bash")))
    linux.emit(world, events)
    world.label("ssh_bruteforce", t0, t_ok + 60, [("ip", ip), ("host", srv.name), ("user", victim)],
                f"{n} failed SSH passwords against {srv.name} from one IP, then Accepted password for {victim} and sudo bash.")


def pos_malware(world: World) -> None:
    """Dropper writes an oddly named binary to a user-writable path; it resolves a C2 and beacons regularly."""
    est, rng = world.est, world.rng
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    ws = int(rng.choice(store.workstations))
    host, src = store.pos_host(ws), store.pos_ip(ws)
    user = endpoint.pos_user(world, store)
    family = str(rng.choice(FAMILIES))
    world.malware_family = family
    c2_ip = est.fresh_ip()
    c2_domain = f"{intel._domain(world).split('.')[0]}.{str(rng.choice(['top', 'xyz', 'online', 'site', 'icu']))}"
    sha = ids.hex_id(rng, 64)
    image = f"{str(rng.choice(DROP_DIRS)).format(user=f'pos{store.id}')}\\{str(rng.choice(DROP_NAMES))}"
    t0 = est.at(0.05, 0.5)
    ps = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    pid, guid = int(rng.integers(1000, 9999)), ids.guid(rng)
    endpoint.emit(world, t0 - 30, host, 1, endpoint.process(world, t0 - 30, host, user, ps, ids.hex_id(rng, 64),
                  int(rng.integers(1000, 9999)), ids.guid(rng), cmd=f"{ps} -nop -w hidden -enc {ids.hex_id(rng, 40)}",
                  parent="C:\\Windows\\explorer.exe"))
    endpoint.emit(world, t0 - 12, host, 11, endpoint.file_create(t0 - 12, ps, user, ids.guid(rng), 4242, image))
    endpoint.emit(world, t0, host, 1, endpoint.process(world, t0, host, user, image, sha, pid, guid,
                                                       parent=ps, cwd=image.rsplit("\\", 1)[0] + "\\"))
    endpoint.emit(world, t0 + 2, host, 22, endpoint.dns(t0 + 2, image, user, guid, pid, c2_domain, c2_ip))
    period = float(rng.choice([60, 90, 120, 180, 300]))
    t_end = min(est.end - 60, t0 + float(rng.uniform(12, 40)) * 3600)
    beats = np.arange(t0 + 5, t_end, period) + rng.normal(0, period * 0.04, len(np.arange(t0 + 5, t_end, period)))
    n = len(beats)
    ob = rng.integers(300, 900, n)
    ob[rng.random(n) < 0.02] = rng.integers(40000, 250000)  # batches of scraped track data
    network.emit(world, "conn", network.batch(beats, src, c2_ip, 443, "tcp", "ssl", rng.uniform(0.2, 1.5, n), ob,
                                              rng.integers(200, 600, n), "SF"))
    for t in beats[:: max(1, n // 400)]:
        endpoint.emit(world, float(t), host, 3, endpoint.network(float(t), image, user, guid, pid, src, host, c2_ip, c2_domain, 443))
    world.iocs += [("ip", c2_ip, f"{family} C2 server"), ("domain", c2_domain, f"{family} C2 domain"),
                   ("sha256", sha, f"{family} payload")]
    world.label("pos_malware", t0 - 30, float(beats[-1]),
                [("host", host), ("ip", src), ("store", store.id), ("ip", c2_ip), ("domain", c2_domain), ("device", host)],
                f"{family} on {host}: {image} (SHA256 {sha}) beacons to {c2_domain} ({c2_ip}) every ~{int(period)}s.")


def exfiltration(world: World) -> None:
    """A data-centre server pushes gigabytes to an unfamiliar external address, far above its baseline."""
    est, rng = world.est, world.rng
    srv = (est.server("db") + est.server("file") + est.server("app"))[int(rng.integers(0, 3))]
    dst = est.fresh_ip()
    n = int(rng.integers(20, 120))
    t0 = est.at(0.05, 0.85, 2 * 3600)
    ts = t0 + np.cumsum(rng.exponential(40, n))
    port = int(rng.choice([443, 8443, 22, 993]))
    network.emit(world, "dc_conn", network.batch(ts, srv.ip, dst, port, "tcp", "ssl" if port != 22 else "ssh",
                                                 rng.uniform(30, 300, n), rng.integers(40_000_000, 400_000_000, n),
                                                 rng.integers(2000, 20000, n), "SF"))
    world.label("exfiltration", t0, float(ts[-1]), [("host", srv.name), ("ip", srv.ip), ("ip", dst)],
                f"{srv.name} sent ~{n * 0.22:.0f} GB in {n} connections to {dst}:{port}, far above its baseline.")


def internal_port_scan(world: World) -> None:
    """A store back-office PC sweeps hosts and ports across the LAN and the data centre."""
    est, rng = world.est, world.rng
    store = est.stores[int(rng.integers(0, len(est.stores)))]
    n = int(rng.integers(500, 3000))
    t0 = est.at(0.05, 0.9, 3600)
    ts = t0 + np.cumsum(rng.exponential(0.4, n))
    targets = [f"10.{store.num}.{int(a)}.{int(b)}" for a, b in zip(rng.integers(0, 5, n), rng.integers(1, 255, n))]
    dc = rng.random(n) < 0.4
    targets = [f"10.0.{int(rng.integers(1, 10))}.{int(rng.integers(1, 255))}" if d else t for t, d in zip(targets, dc)]
    ports = rng.choice([21, 22, 23, 25, 80, 135, 139, 443, 445, 1433, 3306, 3389, 5432, 5900, 8080, 8443], n)
    state = ["REJ" if r < 0.6 else "S0" for r in rng.random(n)]
    network.emit(world, "conn", network.batch(ts, store.office_ip, targets, ports, "tcp", "-", 0.0001, 0, 0, state))
    world.label("internal_port_scan", t0, float(ts[-1]), [("ip", store.office_ip), ("host", store.office_host), ("store", store.id)],
                f"{store.office_host} probed {n} host:port pairs across the store LAN and data centre (REJ/S0).")


def bulk_data_read(world: World) -> None:
    """A user who never reads whole tables dumps customers and payments from an unusual host."""
    est, rng = world.est, world.rng
    user = est.staff[int(rng.integers(0, len(est.staff)))][0]
    host = f"10.0.9.{int(rng.integers(100, 250))}"
    t0 = est.at(0.05, 0.9, 3600)
    pid = int(rng.integers(2000, 60000))
    n_cust = len(est.customers)
    events = database.connect(t0, pid, host, user, "psql")
    stmts = [("SELECT * FROM customers", n_cust), ("SELECT * FROM payments", int(n_cust * 3.1)),
             ("SELECT id, email, phone, address FROM customers ORDER BY id", n_cust),
             ("COPY (SELECT * FROM orders) TO STDOUT WITH CSV", int(n_cust * 4.2))]
    t = t0
    for i, (stmt, rows) in enumerate(stmts[: int(rng.integers(2, 5))], start=1):
        t += float(rng.uniform(20, 200))
        cmd = "COPY" if stmt.startswith("COPY") else "SELECT"
        events.append((t, database.audit(t, pid, user, "READ", cmd, stmt, rows, stmt_id=i)))
        events.append((t + 0.01, database.log(t + 0.01, pid, user, database.DB, f"duration: {rows * 0.004:.3f} ms")))
    database.emit(world, events)
    world.label("bulk_data_read", t0, t + 1, [("user", user), ("ip", host)],
                f"Database user {user} connected from {host} and read whole customers/payments tables.")
