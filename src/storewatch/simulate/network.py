"""Zeek conn.log: store LANs as JSON lines, the data centre as native TSV with the full header."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storewatch.simulate import clock, ids
from storewatch.simulate.world import World

FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
          "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents").split()
TYPES = ("time string addr port addr port enum string interval count count string bool bool count string count count "
         "count count set[string]").split()
HISTORY = {"SF": "ShADadFf", "REJ": "Sr", "S0": "S", "RSTO": "ShADadR", "OTH": "Dd"}


def tsv_header(ts: float) -> str:
    return ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
            f"#open\t{clock.zeek_stamp(ts)}\n#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")


def tsv_footer(ts: float) -> str:
    return f"#close\t{clock.zeek_stamp(ts)}\n"


@dataclass
class Conns:
    """A batch of connections as parallel arrays (cheap to draw with numpy, rendered in one pass)."""

    ts: np.ndarray
    orig: list[str]
    resp: list[str]
    rport: np.ndarray
    proto: list[str]
    service: list[str]
    duration: np.ndarray
    ob: np.ndarray
    rb: np.ndarray
    state: list[str]


def batch(ts, orig, resp, rport, proto, service, duration, ob, rb, state) -> Conns:
    n = len(ts)
    as_list = lambda v: list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v] * n  # noqa: E731
    return Conns(np.asarray(ts, float), as_list(orig), as_list(resp), np.broadcast_to(np.asarray(rport), (n,)).copy(),
                 as_list(proto), as_list(service), np.broadcast_to(np.asarray(duration, float), (n,)).copy(),
                 np.broadcast_to(np.asarray(ob), (n,)).astype(np.int64), np.broadcast_to(np.asarray(rb), (n,)).astype(np.int64),
                 as_list(state))


def _derived(world: World, c: Conns):
    n = len(c.ts)
    uids = ids.hex_ids(world.rng, n, 17)
    oport = world.rng.integers(49152, 65535, n)
    opk = np.maximum(1, c.ob // 1400 + (c.ob > 0)).astype(np.int64)
    rpk = np.maximum(0, c.rb // 1400 + (c.rb > 0)).astype(np.int64)
    return uids, oport, opk, rpk


def _local(ip: str) -> bool:
    return ip.startswith("10.")


def _header_and_history(proto: str, state: str) -> tuple[int, str]:
    """IP+transport header bytes per packet and Zeek's history string, the same in both log forms."""
    return (40 if proto == "tcp" else 28), (HISTORY["OTH"] if proto == "udp" else HISTORY.get(state, "ShADadFf"))


def render_json(world: World, c: Conns) -> list[str]:
    uids, oport, opk, rpk = _derived(world, c)
    out = []
    for i in range(len(c.ts)):
        st, proto = c.state[i], c.proto[i]
        hdr, hist = _header_and_history(proto, st)
        svc = f'"service":"{c.service[i]}",' if c.service[i] != "-" else ""
        dur = f'"duration":{c.duration[i]:.6f},' if st != "S0" else ""
        out.append(
            f'{{"ts":{c.ts[i]:.6f},"uid":"C{uids[i]}","id.orig_h":"{c.orig[i]}","id.orig_p":{oport[i]},'
            f'"id.resp_h":"{c.resp[i]}","id.resp_p":{c.rport[i]},"proto":"{proto}",{svc}{dur}'
            f'"orig_bytes":{c.ob[i]},"resp_bytes":{c.rb[i]},"conn_state":"{st}","local_orig":{str(_local(c.orig[i])).lower()},'
            f'"local_resp":{str(_local(c.resp[i])).lower()},"missed_bytes":0,"history":"{hist}","orig_pkts":{opk[i]},'
            f'"orig_ip_bytes":{c.ob[i] + hdr * opk[i]},"resp_pkts":{rpk[i]},"resp_ip_bytes":{c.rb[i] + hdr * rpk[i]}}}')
    return out


def render_tsv(world: World, c: Conns) -> list[str]:
    uids, oport, opk, rpk = _derived(world, c)
    out = []
    for i in range(len(c.ts)):
        st, proto = c.state[i], c.proto[i]
        hdr, hist = _header_and_history(proto, st)
        dur = f"{c.duration[i]:.6f}" if st != "S0" else "-"
        lo, lr = "T" if _local(c.orig[i]) else "F", "T" if _local(c.resp[i]) else "F"
        out.append(f"{c.ts[i]:.6f}\tC{uids[i]}\t{c.orig[i]}\t{oport[i]}\t{c.resp[i]}\t{c.rport[i]}\t{proto}\t{c.service[i]}\t"
                   f"{dur}\t{c.ob[i]}\t{c.rb[i]}\t{st}\t{lo}\t{lr}\t0\t{hist}\t{opk[i]}\t{c.ob[i] + hdr * opk[i]}\t"
                   f"{rpk[i]}\t{c.rb[i] + hdr * rpk[i]}\t-")
    return out


def emit(world: World, sink: str, c: Conns) -> None:
    """Render a batch into conn.log (JSON, stores) or dc_conn.log (TSV, data centre)."""
    lines = render_json(world, c) if sink == "conn" else render_tsv(world, c)
    world.sinks[sink].add(c.ts, lines)


def external_pool(world: World) -> list[str]:
    """SaaS/CDN/update endpoints the estate talks to every day (drawn once per run)."""
    if not hasattr(world, "_ext_pool"):
        world._ext_pool = world.est.fresh_ips(60)  # type: ignore[attr-defined]
    return world._ext_pool  # type: ignore[attr-defined]


def background(world: World, t0: float, t1: float) -> None:
    est, rng = world.est, world.rng
    api = est.server("app")[0].ip
    pool = external_pool(world)
    r, curve = est.rate["net"], est.profile.store_curve
    for s in est.stores:
        pos_hosts = [s.pos_ip(w) for w in s.workstations]
        ts = clock.times(rng, 520 * s.traffic * r, t0, t1, curve + 0.3)
        n = len(ts)
        emit(world, "conn", batch(ts, [pos_hosts[i] for i in rng.integers(0, len(pos_hosts), n)], api, 443, "tcp", "ssl",
                                  rng.gamma(2, 0.5, n), rng.integers(600, 3000, n), rng.integers(1500, 7000, n), "SF"))
        ts = clock.times(rng, 300 * r, t0, t1, curve + 1)
        n = len(ts)
        hosts = pos_hosts + [s.office_ip]
        emit(world, "conn", batch(ts, [hosts[i] for i in rng.integers(0, len(hosts), n)], s.gateway, 53, "udp", "dns",
                                  rng.uniform(0.001, 0.05, n), rng.integers(30, 70, n), rng.integers(60, 300, n), "SF"))
        ts = clock.times(rng, 180 * r, t0, t1, curve + 0.2)
        n = len(ts)
        emit(world, "conn", batch(ts, s.office_ip, [pool[i] for i in rng.integers(0, len(pool), n)], 443, "tcp", "ssl",
                                  rng.gamma(2, 3, n), rng.lognormal(7.5, 1, n).astype(int), rng.lognormal(10, 1.2, n).astype(int), "SF"))
    # Data centre: app tiers to the databases (unseen where one box runs both: a local socket), and every
    # server's modest outbound baseline.
    dbs = est.server("db")
    tiers = [s for s in est.server("app") + est.server("web") if not s.does("db")]
    if tiers:
        ts = clock.times(rng, 9000 * max(est.scale, 0.1) * r, t0, t1, est.profile.web_curve + 1)
        n = len(ts)
        src = [tiers[i].ip for i in rng.integers(0, len(tiers), n)]
        dst = [dbs[i].ip for i in rng.integers(0, len(dbs), n)]
        emit(world, "dc_conn", batch(ts, src, dst, 5432, "tcp", "-", rng.gamma(2, 2, n), rng.integers(300, 9000, n),
                                     rng.lognormal(9, 1.3, n).astype(int), "SF"))
    for srv in est.servers:
        ts = clock.times(rng, 60 * r, t0, t1, clock.FLAT)
        n = len(ts)
        emit(world, "dc_conn", batch(ts, srv.ip, [pool[i] for i in rng.integers(0, len(pool), n)], 443, "tcp", "ssl",
                                     rng.gamma(2, 1, n), rng.lognormal(8, 0.8, n).astype(int),
                                     rng.lognormal(10, 1, n).astype(int), "SF"))
