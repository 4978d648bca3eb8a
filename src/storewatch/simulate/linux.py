"""Linux /var/log/auth.log on the data-centre servers: sshd, sudo, cron and PAM in BSD syslog form."""

from __future__ import annotations

import base64

import numpy as np

from storewatch.simulate import clock
from storewatch.simulate.world import World

NOISE_USERS = ("admin", "test", "oracle", "ubuntu", "user", "postgres", "git", "guest", "pi", "ftpuser")


def line(ts: float, host: str, prog: str, pid: int | None, msg: str) -> str:
    tag = f"{prog}[{pid}]" if pid else prog
    return f"{clock.syslog(ts)} {host} {tag}: {msg}"


def key_fp(world: World, user: str) -> str:
    """A stable per-user key fingerprint for this run (drawn on first use, then remembered)."""
    cache = world.__dict__.setdefault("_key_fps", {})
    if user not in cache:
        cache[user] = base64.b64encode(world.rng.bytes(32)).decode().rstrip("=")
    return cache[user]


def ssh_session(world: World, ts: float, host: str, user: str, ip: str, method: str = "publickey",
                length: float = 300.0) -> list[tuple[float, str]]:
    """An accepted SSH login with its PAM session open/close and disconnect."""
    rng = world.rng
    pid, port = int(rng.integers(1000, 65000)), int(rng.integers(32768, 61000))
    how = f"ssh2: ED25519 SHA256:{key_fp(world, user)}" if method == "publickey" else "ssh2"
    uid = 1000 + sum(user.encode()) % 500
    return [
        (ts, line(ts, host, "sshd", pid, f"Accepted {method} for {user} from {ip} port {port} {how}")),
        (ts + 0.01, line(ts + 0.01, host, "sshd", pid, f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)")),
        (ts + length, line(ts + length, host, "sshd", pid, f"Disconnected from user {user} {ip} port {port}")),
        (ts + length + 0.01, line(ts + length + 0.01, host, "sshd", pid, f"pam_unix(sshd:session): session closed for user {user}")),
    ]


def failed(world: World, ts: float, host: str, user: str, ip: str, invalid: bool) -> list[tuple[float, str]]:
    rng = world.rng
    pid, port = int(rng.integers(1000, 65000)), int(rng.integers(32768, 61000))
    out = []
    if invalid:
        out.append((ts, line(ts, host, "sshd", pid, f"Invalid user {user} from {ip} port {port}")))
    who = f"invalid user {user}" if invalid else user
    out.append((ts + 1.9, line(ts + 1.9, host, "sshd", pid, f"Failed password for {who} from {ip} port {port} ssh2")))
    out.append((ts + 2.2, line(ts + 2.2, host, "sshd", pid, f"Connection closed by {who} {ip} port {port} [preauth]")))
    return out


def sudo(ts: float, host: str, user: str, command: str) -> str:
    return line(ts, host, "sudo", None, f"  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND={command}")


def emit(world: World, events: list[tuple[float, str]]) -> None:
    if events:
        world.sinks["authlog"].add([t for t, _ in events], [s for _, s in events])


COMMANDS = ("/usr/bin/systemctl restart nginx", "/usr/bin/journalctl -u app --since today", "/usr/bin/apt-get update",
            "/usr/bin/systemctl status postgresql", "/usr/bin/tail -n 200 /var/log/nginx/error.log", "/usr/bin/df -h")


def background(world: World, t0: float, t1: float) -> None:
    est, rng = world.est, world.rng
    events: list[tuple[float, str]] = []
    for srv in est.servers:
        # Hourly cron on every box.
        for h in np.arange(np.ceil(t0 / 3600) * 3600, t1, 3600):
            pid = int(rng.integers(1000, 65000))
            events.append((h + 1, line(h + 1, srv.name, "CRON", pid, "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")))
            events.append((h + 2, line(h + 2, srv.name, "CRON", pid, "pam_unix(cron:session): session closed for user root")))
        # Staff and deploy automation come in through the bastion with keys.
        for t in clock.times(rng, est.profile.ops_sessions, t0, t1, est.profile.office_curve):
            user = est.ops_users[int(rng.integers(0, len(est.ops_users)))]
            events += ssh_session(world, t, srv.name, user, est.bastion_ip, "publickey", float(rng.exponential(600)))
            if user not in ("deploy", "ansible") or rng.random() < 0.5:
                tt = t + float(rng.uniform(5, 120))
                events.append((tt, sudo(tt, srv.name, user, COMMANDS[int(rng.integers(0, len(COMMANDS)))])))
                events.append((tt + 0.01, line(tt + 0.01, srv.name, "sudo", None, f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={1000 + sum(user.encode()) % 500})")))
    # Internet background radiation against exposed sshd: short, unsuccessful, spread out.
    exposed = est.server("bastion") + est.server("web")[:1]
    for t in clock.times(rng, 120 * est.profile.volume["ssh_noise"], t0, t1, clock.FLAT):
        ip = est.random_public(1)[0]
        srv = exposed[int(rng.integers(0, len(exposed)))]
        for k in range(int(rng.integers(*est.profile.ssh_noise_tries))):
            events += failed(world, t + k * 4, srv.name, NOISE_USERS[int(rng.integers(0, len(NOISE_USERS)))], ip, True)
    emit(world, events)
