"""After a pass, `watch` sends what became due through the notification channels (the same call `detect`
makes), with a real local receiver standing in for the webhook."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

from typer.testing import CliRunner

from storewatch.cli import app
from storewatch.detect import incremental
from storewatch.simulate import simulate
from storewatch.watch import hooks


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.server.got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_watch_pass_notifies_the_incidents_it_found(tmp_path: Path) -> None:
    simulate(tmp_path / "estate", days=1, scale=0.05, seed=5)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.got = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"STOREWATCH_WEBHOOK_URL": f"http://127.0.0.1:{server.server_address[1]}/hook",
           "STOREWATCH_WEBHOOK_TOKEN": "hook-token-secret-for-the-test"}
    try:
        out = CliRunner().invoke(app, ["watch", str(tmp_path / "estate" / "web"), str(tmp_path / "estate" / "payments"),
                                       "--once", "--log-json", "--home", str(tmp_path / "ws")], env=env)
    finally:
        server.shutdown()
        server.server_close()
        incremental.after_pass[:] = [h for h in incremental.after_pass if h not in hooks.HOOKS]
    assert out.exit_code == 0, out.output
    assert "after_pass_failed" not in out.output
    assert server.got, "no notification sent after the pass"
    assert all("incident" in json.dumps(body).lower() for body in server.got)
