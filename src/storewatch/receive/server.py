"""The receiver process: syslog over UDP and TCP and the webhook app, in one asyncio loop, until SIGINT/SIGTERM.

Spool writes (and their fsync) run on the loop itself: while one batch is written nothing else is read, which
is the simplest honest back-pressure. While the spool is too full, TCP connections are not read (the kernel's
window fills and the sender waits, as rsyslog and syslog-ng do), HTTP answers 503, and UDP datagrams, which
cannot be held back, are dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from typing import Callable

import uvicorn

from storewatch.receive.config import ReceiveConfig
from storewatch.receive.http import create_app
from storewatch.receive.spool import Spool
from storewatch.receive.status import Counters, mark_stopped, receive_dir, write_status
from storewatch.receive.syslog import Framer, Malformed, datagram, spool_line
from storewatch.web.security import is_loopback
from storewatch.workspace import Workspace

log = logging.getLogger("storewatch.receive")

STATUS_EVERY = 1.0  # seconds between status files
MEASURE_EVERY = 10.0  # seconds between re-measuring the inbox (an operator may have removed ingested files)
PAUSE = 0.5  # seconds a TCP reader waits before checking the spool again
UDP_BUFFER = 4 << 20  # bytes of kernel receive buffer asked for: bursts wait there, not on the floor
READ_SIZE = 256 << 10  # bytes read from a TCP connection at once: one fsync per read
UDP_BATCH = 4096  # datagrams read before they are spooled together
MAX_DATAGRAM = 65535


class ReceiverBusy(RuntimeError):
    """Another receiver already spools into this workspace."""


def refusal(host: str, config: ReceiveConfig, syslog: bool, http: bool) -> str | None:
    """Why listening beyond loopback is refused with this configuration, or None."""
    if is_loopback(host):
        return None
    if http and not config.endpoints():
        return ("no webhook secret or token is set, so nothing could be verified; set them "
                "(e.g. STOREWATCH_STRIPE_WEBHOOK_SECRET) or listen on 127.0.0.1")
    if syslog and not config.syslog_allow:
        return ("syslog has no authentication: set `receive: {syslog_allow: [<sender networks>]}` in respond.yml "
                "(or STOREWATCH_RECEIVE_SYSLOG_ALLOW) or listen on 127.0.0.1")
    return None


class Receiver:
    def __init__(self, ws: Workspace, config: ReceiveConfig, host: str = "127.0.0.1", syslog_udp: int | None = None,
                 syslog_tcp: int | None = None, http: int | None = None) -> None:
        self.ws, self.config, self.host = ws, config, host
        self.ports = {"syslog-udp": syslog_udp, "syslog-tcp": syslog_tcp, "http": http}
        self.counters = Counters()
        self.listening: dict[str, str] = {}
        self.started = datetime.now(timezone.utc)
        self._connections: set[asyncio.Task] = set()

    async def run(self, ready: Callable[[dict[str, str]], None] | None = None) -> None:
        """Listen until SIGINT/SIGTERM (or `stop` is set); `ready` gets the addresses once all listen."""
        receive_dir(self.ws).mkdir(parents=True, exist_ok=True, mode=0o700)
        with _exclusive(self.ws), contextlib.closing(Spool(self.ws, self.config.limits, self.counters)) as spool:
            self.spool = spool
            loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, self.stop.set)
            closers = await self._listen(loop)
            self._status()
            if ready:
                ready(self.listening)
            log.info("receiving %s", " ".join(f"{k}={v}" for k, v in self.listening.items()))
            ticker = asyncio.create_task(self._tick())
            await self.stop.wait()
            log.info("stopping")
            ticker.cancel()
            for close in closers:
                await close()
            self._status()
        mark_stopped(self.ws)

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> list[Callable]:
        closers: list[Callable] = []
        if (port := self.ports["syslog-udp"]) is not None:
            udp = _bound(self.host, port, socket.SOCK_DGRAM)
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
            loop.add_reader(udp.fileno(), self._datagrams, udp)
            self.listening["syslog-udp"] = _address(udp)

            async def close_udp() -> None:
                loop.remove_reader(udp.fileno())
                udp.close()
            closers.append(close_udp)
        if (port := self.ports["syslog-tcp"]) is not None:
            server = await asyncio.start_server(self._connection, sock=_bound(self.host, port, socket.SOCK_STREAM))
            self.listening["syslog-tcp"] = _address(server.sockets[0])

            async def close_tcp() -> None:
                server.close()
                for task in list(self._connections):
                    task.cancel()
                await asyncio.gather(*self._connections, return_exceptions=True)
            closers.append(close_tcp)
        if (port := self.ports["http"]) is not None:
            listener = _bound(self.host, port, socket.SOCK_STREAM)
            config = uvicorn.Config(create_app(self.spool, self.config), log_level="warning", server_header=False,
                                    lifespan="off", timeout_graceful_shutdown=5)
            web = _Server(config)
            task = asyncio.create_task(web.serve(sockets=[listener]))
            self.listening["http"] = _address(listener)

            async def close_http() -> None:
                web.should_exit = True
                await task
            closers.append(close_http)
        return closers

    def _allowed(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        ip = getattr(ip, "ipv4_mapped", None) or ip  # an IPv4 sender seen on an IPv6 socket
        return ip.is_loopback or any(ip in net for net in self.config.syslog_allow)

    def take(self, frames: list[bytes | Malformed], peer: str) -> None:
        """Spool the messages of some frames, quarantine the rest (one fsync for all)."""
        now = datetime.now(timezone.utc)
        lines = []
        for frame in frames:
            line = spool_line(frame, peer, now) if isinstance(frame, bytes) else frame
            if isinstance(line, Malformed):
                self.spool.quarantine("syslog", line.reason, line.sample, peer)
            else:
                lines.append(line)
        self.spool.append("syslog", lines)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        peer = (writer.get_extra_info("peername") or ("-",))[0]
        framer = Framer()
        try:
            if not self._allowed(peer):
                self.counters.refused[f"syslog-tcp: sender {peer} not in receive.syslog_allow"] += 1
                log.warning("refused source=syslog-tcp peer=%s reason='not in receive.syslog_allow'", peer)
                return
            while True:
                if why := self.spool.too_full():
                    self.counters.paused["syslog-tcp"] += 1
                    log.warning("paused source=syslog-tcp peer=%s reason=%r", peer, why)
                    while self.spool.too_full():
                        await asyncio.sleep(PAUSE)  # not reading: the kernel's window holds the sender back
                data = await reader.read(READ_SIZE)
                frames = framer.feed(data) if data else framer.close()
                try:
                    self.take(frames, peer)
                except OSError as exc:  # the disk refused: count what is lost and stop reading this sender
                    self.counters.dropped["syslog-tcp: spool write failed"] += len(frames)
                    log.error("spool write failed source=syslog-tcp peer=%s error=%s", peer, exc)
                    break
                if not data:
                    break
        except (ConnectionError, OSError) as exc:
            log.warning("connection source=syslog-tcp peer=%s ended: %s", peer, exc)
        except asyncio.CancelledError:  # the receiver stops: a frame cut short is kept aside, not lost
            if rest := framer.pending():
                self.spool.quarantine("syslog", "receiver stopped before the frame was complete", rest, peer)
            raise
        finally:
            self._connections.discard(task)
            writer.close()

    def _datagrams(self, sock: socket.socket) -> None:
        """Read every datagram waiting (up to `UDP_BATCH`), then spool them with one write and one fsync: under
        load the batches grow, so the disk's sync rate does not bound the message rate."""
        by_peer: dict[str, list[bytes | Malformed]] = {}
        for _ in range(UDP_BATCH):
            try:
                data, addr = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                log.warning("syslog-udp read failed: %s", exc)
                break
            peer = addr[0]
            if not self._allowed(peer):
                self.counters.refused[f"syslog-udp: sender {peer} not in receive.syslog_allow"] += 1
            elif self.spool.too_full():
                self.counters.dropped["syslog-udp: spool full"] += 1  # UDP cannot be held back: counted, never silent
            else:
                by_peer.setdefault(peer, []).append(datagram(data))
        for peer, frames in by_peer.items():
            try:
                self.take(frames, peer)
            except OSError as exc:
                self.counters.dropped["syslog-udp: spool write failed"] += len(frames)
                log.error("spool write failed source=syslog-udp error=%s", exc)

    async def _tick(self) -> None:
        measured = 0.0
        while True:
            await asyncio.sleep(STATUS_EVERY)
            measured += STATUS_EVERY
            if measured >= MEASURE_EVERY:
                self.spool.measure()
                measured = 0.0
            self._status()

    def _status(self) -> None:
        write_status(self.ws, self.counters, self.listening, self.started,
                     {"bytes": self.spool.size, "max_bytes": self.config.limits.max_bytes,
                      "too_full": self.spool.too_full()})


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the receiver stops all its listeners together."""

    def capture_signals(self):
        return contextlib.nullcontext()


def _bound(host: str, port: int, kind: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    if kind == socket.SOCK_STREAM:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(128)
    sock.setblocking(False)
    return sock


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@contextlib.contextmanager
def _exclusive(ws: Workspace):
    """One receiver per workspace: two would interleave lines in the same spool files."""
    path = receive_dir(ws) / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReceiverBusy(f"another `storewatch receive` spools into {ws.home}; stop it first") from None
        yield
    finally:
        os.close(fd)
