"""`watch` as a whole: the incidents of a batch `detect` on the same data; kill -9 and restart with no line
lost or doubled; readers (`incidents --json`, `status`) answering while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from storewatch.detect import incremental
from storewatch.detect.engine import detect
from storewatch.ingest.engine import ingest
from storewatch.simulate.core import simulate
from storewatch.store import reader
from storewatch.watch.session import Options, Watch
from storewatch.workspace import Workspace
from tests.watch.test_follow import line


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("estate")
    simulate(out, days=1, scale=0.02, seed=3)
    return out


def _logs(estate: Path) -> list[Path]:
    """The estate's log files (not its labels and notes)."""
    return sorted(p for p in estate.rglob("*") if p.is_file() and p.parent != estate)


def _incidents(ws: Workspace) -> tuple[set, set]:
    with reader.opened(ws) as con:
        alerts = {r[0] for r in con.execute("SELECT alert_id FROM alerts").fetchall()}
        incidents = {(r[0], r[1], tuple(sorted((e["type"], e["value"]) for e in r[2])))
                     for r in con.execute("SELECT scenario, severity, entities FROM incidents").fetchall()}
    return alerts, incidents


def test_watch_finds_the_incidents_a_batch_detect_finds(estate, tmp_path):
    batch = Workspace.at(tmp_path / "batch")
    ingest(_logs(estate), batch)
    detect(batch)
    expected = _incidents(batch)
    assert len(expected[1]) >= 2  # the estate has attacks to find

    live, watched = Workspace.at(tmp_path / "live"), tmp_path / "watched"
    passes: list = []
    incremental.after_pass.append(lambda ws, report: passes.append(report.incidents))
    try:
        def step() -> None:
            Watch(live, [watched], Options(once=True, quiet=0.0, window=timedelta(days=3650)), lambda *a, **k: None).run()

        # every file arrives in two parts cut mid-line, with a pass between them
        for part in (0, 1):
            for src in _logs(estate):
                data = src.read_bytes()
                dest = watched / src.relative_to(estate)
                dest.parent.mkdir(parents=True, exist_ok=True)
                cut = len(data) // 2 if src.suffix != ".xml" else 0  # a document arrives whole
                with open(dest, "ab") as fh:
                    fh.write(data[:cut] if part == 0 else data[cut:])
            step()
        step()
    finally:
        incremental.after_pass.clear()
    assert passes and passes[-1] == len(expected[1])  # the hook saw every pass's incidents
    assert _incidents(live) == expected


def storewatch(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "storewatch.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _wait_for(check, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := check()):
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def _passes(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == "pass"]


def test_kill_9_then_restart_stores_every_line_once(tmp_path):
    ws, logs = Workspace.at(tmp_path / "ws"), tmp_path / "logs"
    logs.mkdir()
    log, log_file = logs / "access.log", tmp_path / "watch.jsonl"
    # every 5th line repeats the one before: identical lines are distinct records
    lines = [line(n // 5 * 5 if n % 5 == 4 else n, f"/item/{n // 5 * 5 if n % 5 == 4 else n}") for n in range(600)]
    args = ["watch", str(logs), "--home", str(ws.home), "--interval", "0.1", "--no-detect", "--log-file", str(log_file)]
    watch = storewatch(*args)
    try:
        for i in range(0, 300, 10):
            with open(log, "a") as fh:
                fh.writelines(lines[i:i + 10])
            time.sleep(0.02)
        _wait_for(lambda: _passes(log_file))
        watch.send_signal(signal.SIGKILL)  # wherever it is: mid-pass, mid-commit, idle
        assert watch.wait(30) == -signal.SIGKILL
        with open(log, "a") as fh:
            fh.writelines(lines[300:450])
        watch = storewatch(*args)
        with open(log, "a") as fh:
            fh.writelines(lines[450:])
        _wait_for(lambda: sum(p["read"] for p in _passes(log_file)) >= 600 or None)
        with reader.opened(ws) as con:
            got = con.execute("SELECT source_line, url_path FROM events ORDER BY source_line").fetchall()
        assert got == [(n + 1, lines[n].split('"GET ')[1].split(" ")[0]) for n in range(600)]
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(60) == 0  # a clean stop
        assert json.loads(log_file.read_text().splitlines()[-1])["event"] == "watch_stopped"
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


def test_readers_answer_while_watch_runs(estate, tmp_path):
    ws, watched, log_file = Workspace.at(tmp_path / "ws"), tmp_path / "watched", tmp_path / "watch.jsonl"
    watched.mkdir()
    watch = storewatch("watch", str(watched), "--home", str(ws.home), "--interval", "0.2", "--quiet", "0",
                       "--window", "3650d", "--log-file", str(log_file))
    try:
        _wait_for(lambda: log_file.exists() and "watch_started" in log_file.read_text())
        for src in _logs(estate):
            dest = watched / src.relative_to(estate)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())
        found = _wait_for(lambda: [p for p in _passes(log_file) if p.get("incidents")])
        listed = subprocess.run([sys.executable, "-m", "storewatch.cli", "incidents", "--json", "--home", str(ws.home)],
                                capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) >= 1 and found[-1]["incidents"] >= 1
        status = subprocess.run([sys.executable, "-m", "storewatch.cli", "status", "--json", "--home", str(ws.home)],
                                capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr
        assert sum(r["events"] for r in json.loads(status.stdout)["by_source"]) > 0
        assert watch.poll() is None  # still watching
        watch.send_signal(signal.SIGINT)
        assert watch.wait(120) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
