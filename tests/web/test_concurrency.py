"""The dashboard and read-only commands while real writer processes run: no error, no refusal either way."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient

from storewatch.web import create_app
from tests.web.conftest import BASE


def storewatch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "storewatch.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def access_log(path: Path, run: int, lines: int) -> Path:
    """A web server's log, different in every run (so none of it is a duplicate of an earlier run)."""
    path.write_text("".join(
        f'10.{run}.{i // 250 % 250}.{i % 250} - - [17/Nov/2026:{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
        f'"GET /product/{i % 997}?ref=r{run} HTTP/1.1" 200 {512 + i % 300} "-" "Mozilla/5.0 (run {run})"\n'
        for i in range(lines)))
    return path


def test_readers_and_writers_run_side_by_side(fresh_ws, tmp_path):
    """Real `ingest` and `detect` processes write while threads hammer the API and pages and run
    `storewatch incidents --json` and `status --json`: every read answers, every write succeeds."""
    client = TestClient(create_app(fresh_ws, None), base_url=BASE)
    first = client.get("/api/incidents").json()
    assert [i["scenario"] for i in first] == ["admin_bruteforce", "card_testing", "sweethearting"]
    target = first[0]["id"]
    logs = [access_log(tmp_path / f"run{n}.log", n, 20_000) for n in range(2)]
    writers: list[subprocess.CompletedProcess] = []
    done = threading.Event()
    statuses: Counter = Counter()
    bad: list[str] = []
    commands: list[subprocess.CompletedProcess] = []

    def write() -> None:
        try:
            for log in logs:
                writers.append(storewatch("ingest", str(log), "--home", str(fresh_ws.home), "--json"))
            writers.append(storewatch("detect", "--home", str(fresh_ws.home)))
        finally:
            done.set()

    def hammer() -> None:
        n = 0
        while not done.is_set():
            listed = client.get("/api/incidents")
            statuses[listed.status_code] += 1
            ids = ([i["id"] for i in listed.json()] if listed.status_code == 200 else []) or [target]
            path = [f"/api/incidents/{ids[0]}", f"/api/incidents/{ids[0]}/alerts", "/", f"/incidents/{ids[0]}"][n % 4]
            response = client.get(path)
            statuses[response.status_code] += 1
            gone = response.status_code == 404 and ids[0] not in {i["id"] for i in client.get("/api/incidents").json()}
            if listed.status_code != 200 or (response.status_code != 200 and not gone):  # detect may replace it
                bad.append(f"{path}: {listed.status_code} {response.status_code} {response.text[:200]}")
            n += 1

    def commands_loop() -> None:
        while not done.is_set():
            commands.append(storewatch("incidents", "--json", "--home", str(fresh_ws.home), timeout=120))
            commands.append(storewatch("status", "--json", "--home", str(fresh_ws.home), timeout=120))

    def guarded(work) -> None:
        try:
            work()
        except Exception as exc:  # a thread's failure is the test's
            bad.append(repr(exc))
            done.set()

    threads = [threading.Thread(target=guarded, args=(work,)) for work in (write, hammer, hammer, hammer, commands_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert [w.returncode for w in writers] == [0, 0, 0], [w.stderr[-500:] for w in writers]
    assert [json.loads(w.stdout)["totals"]["stored"] for w in writers[:2]] == [20_000, 20_000]
    assert not bad and statuses[200] >= 4, (statuses, bad[:5])
    assert commands and all(c.returncode == 0 for c in commands), [c.stderr[-300:] for c in commands if c.returncode]
    assert all("in use" not in c.stderr + c.stdout for c in commands + writers)
    listed = [json.loads(c.stdout) for c in commands if c.args[3] == "incidents"]
    assert all(isinstance(rows, list) and all(r["id"] and r["severity"] for r in rows) for rows in listed)
    final = client.get("/api/incidents")
    assert final.status_code == 200
    status = storewatch("status", "--json", "--home", str(fresh_ws.home))
    stored = sum(s["events"] for s in json.loads(status.stdout)["by_source"])
    assert stored == 6 + 40_000  # the readers see every event the writers stored, once


def test_a_write_waits_briefly_then_answers_503_with_retry_after(fresh_ws):
    """While another process holds the store's write lock, reads still answer and a verdict is refused
    with 503 and Retry-After (the documented wait), not a 500; once it lets go, the verdict goes through."""
    client = TestClient(create_app(fresh_ws, None), base_url=BASE, headers={"X-Storewatch-CSRF": "1"})
    target = client.get("/api/incidents").json()[1]["id"]
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); sys.stdin.read()", str(fresh_ws.db_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        refused = client.post(f"/api/incidents/{target}/feedback", json={"verdict": "true_positive"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert "another storewatch command" in refused.json()["detail"]
        page = client.get(f"/incidents/{target}")
        assert page.status_code == 200 and target in page.text
        assert client.get("/api/incidents").json()[1]["status"] != "resolved"
    finally:
        holder.communicate("", timeout=30)
    accepted = client.post(f"/api/incidents/{target}/feedback", json={"verdict": "true_positive"})
    assert accepted.status_code == 200
    assert client.get("/api/incidents").json()[1]["status"] == "resolved"  # published at the writer's close
