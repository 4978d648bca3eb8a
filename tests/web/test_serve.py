"""`storewatch serve` as a real process: SIGTERM stops it although a client is still sending a request."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import storewatch

# Not a performance bound: the dashboard gives requests SHUTDOWN_GRACE (5 s) before closing them; this
# only tells "stops" from "waits for as long as the client holds on" (which is forever here).
HANG_GUARD = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(port: int, proc: subprocess.Popen) -> socket.socket:
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not start: {proc.stdout.read() if proc.poll() is not None else 'no answer'}")


def test_sigterm_stops_serve_while_a_client_is_mid_request(tmp_path):
    from storewatch.store import db
    from storewatch.workspace import Workspace

    with db.opened(Workspace.at(tmp_path / "ws")):  # serve reads an existing workspace
        pass
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(storewatch.__file__).parents[1])}
    env.pop("STOREWATCH_API_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "storewatch.cli", "serve", "--port", str(port),
                             "--home", str(tmp_path / "ws")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        with _connect(port, proc) as slow:
            slow.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                         b"\r\nContent-Length: 100000\r\n\r\ntoken=")  # and then nothing more
            with _connect(port, proc) as probe:  # the server answers, so the slow request is in its hands
                probe.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert probe.recv(64).startswith(b"HTTP/1.1 200")
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=HANG_GUARD)
        assert proc.returncode in (0, -signal.SIGTERM)
        output = proc.stdout.read()
        assert "Traceback" not in output and "Dashboard: http://127.0.0.1:" in output
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
