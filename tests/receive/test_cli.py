"""`storewatch receive` as a process: kill -9 right after acknowledgements loses nothing; exposure needs secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
from typer.testing import CliRunner

from storewatch.cli import app
from tests.receive.conftest import JSONL_TOKEN

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60


def start(home: Path) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "STOREWATCH_JSONL_TOKEN": JSONL_TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "storewatch.cli", "receive", "--home", str(home), "--http", "0",
                             "--syslog-tcp", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status = home / "receive" / "status.json"
    end = time.monotonic() + DEADLINE
    while True:
        try:
            doc = json.loads(status.read_text())
            if doc["pid"] == proc.pid:
                return proc, doc["listening"]
        except (OSError, ValueError, KeyError):
            pass
        assert proc.poll() is None and time.monotonic() < end, "receiver did not start"
        time.sleep(0.1)


def test_kill_9_right_after_acknowledgements_loses_no_acknowledged_event(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    proc, listening = start(home)
    acked: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=f"http://{listening['http']}", timeout=10) as c:
            for n in range(100_000):
                try:
                    answer = c.post("/ingest/jsonl", content=orjson.dumps({"seq": n, "pad": "x" * 200}),
                                    headers={"Authorization": f"Bearer {JSONL_TOKEN}"})
                except httpx.HTTPError:
                    return  # the receiver is gone
                if answer.status_code == 200:
                    acked.append(n)

    sender = threading.Thread(target=send)
    sender.start()
    end = time.monotonic() + DEADLINE
    while len(acked) < 50:
        assert time.monotonic() < end
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # while requests are in flight
    proc.wait()
    sender.join(DEADLINE)
    spooled = set()
    for line in (home / "inbox" / "jsonl" / "jsonl.jsonl").read_bytes().splitlines():
        spooled.add(orjson.loads(line)["seq"])
    assert len(acked) >= 50 and set(acked) <= spooled

    proc, _ = start(home)  # a restart appends after what was there, and the status says it ran
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(DEADLINE) == 0
    result = CliRunner().invoke(app, ["receive", "--status", "--json", "--home", str(home)])
    doc = json.loads(result.output)
    assert doc["running"] is False and doc["stopped"] and set(doc["listening"]) == {"http", "syslog-tcp"}


def test_listening_beyond_loopback_needs_secrets(tmp_path: Path, monkeypatch) -> None:
    for name in ("STOREWATCH_STRIPE_WEBHOOK_SECRET", "STOREWATCH_SHOPIFY_WEBHOOK_SECRET", "STOREWATCH_AUTH0_TOKEN",
                 "STOREWATCH_JSONL_TOKEN", "STOREWATCH_RECEIVE_SYSLOG_ALLOW"):
        monkeypatch.delenv(name, raising=False)
    home = str(tmp_path / "ws")
    result = CliRunner().invoke(app, ["receive", "--home", home, "--host", "0.0.0.0", "--http", "8099"])
    assert result.exit_code == 2 and "no webhook secret or token is set" in result.output
    monkeypatch.setenv("STOREWATCH_JSONL_TOKEN", JSONL_TOKEN)
    result = CliRunner().invoke(app, ["receive", "--home", home, "--host", "0.0.0.0", "--syslog-udp", "5514"])
    assert result.exit_code == 2 and "syslog has no authentication" in result.output
    monkeypatch.setenv("STOREWATCH_JSONL_TOKEN", "short")
    result = CliRunner().invoke(app, ["receive", "--home", home, "--http", "8099"])
    assert result.exit_code == 2 and "jsonl token" in result.output and "short" not in result.output.replace("jsonl token", "")
