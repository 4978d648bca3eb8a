"""A small workspace whose logs carry hostile strings, shared by the report and dashboard tests.

The attacker's requests are ingested from a real nginx access log (user name, query and user agent carry
markup, quotes and a template expression); the alerts naming them are inserted directly and correlated,
so the tests do not depend on which detections exist.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import orjson
import pytest

from storewatch.correlate.incidents import correlate
from storewatch.ingest.engine import ingest
from storewatch.store import db
from storewatch.workspace import Workspace

SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{7*7}}"
QUOTED = "it's \"quoted\""
ATTACKER = "11.9.8.7"  # a public address: playbooks block only those
CI_ENV = "STOREWATCH_REQUIRE_BROWSER"  # set by .ci/run: a missing chromium fails instead of skipping
CHROMIUM = Path("/usr/bin/chromium")

# (rule, title, scenario, severity, entities, evidence, store, channel, day offset, hour)
ALERTS = [
    ("test.hostile", f"Brute force by {SCRIPT}", "admin_bruteforce", "critical",
     [("ip", ATTACKER), ("user", SCRIPT)], {"user": SCRIPT, "query": TEMPLATE, "note": QUOTED, "amount": 125.5,
                                            "currency": "usd"}, None, "web", 0, 10),
    ("test.card_testing", "Card testing at the web shop", "card_testing", "high",
     [("ip", "203.0.113.5"), ("card", "tok_abc")], {"amount": 900, "currency": "USD"}, "S001", "payments", 1, 3),
    ("test.sweethearting", "Sweethearting at a till", "sweethearting", "low",
     [("employee", "E42"), ("store", "S002")], {}, "S002", "pos", 2, 15),
]
MONEY_AT_RISK = "USD 1,025.50"


def _access_log(path: Path) -> None:
    lines = [f'{ATTACKER} - - [16/Nov/2026:10:00:{s:02d} +0000] "POST /admin/login?q={TEMPLATE} HTTP/1.1" 401 12 '
             f'"-" "Mozilla {SCRIPT} \\"quoted\\" it\'s {TEMPLATE}"' for s in range(5)]
    lines.append(f'{ATTACKER} - {SCRIPT} [16/Nov/2026:10:00:30 +0000] "POST /admin/login HTTP/1.1" 302 12 "-" "curl/8"')
    path.write_text("\n".join(lines) + "\n")


def build_hostile_workspace(root: Path) -> Workspace:
    """Ingest the hostile log, add alerts on it (and two ordinary ones), correlate into three incidents."""
    root.mkdir(parents=True, exist_ok=True)
    _access_log(root / "access.log")
    ws = Workspace.at(root / "ws")
    report = ingest([root / "access.log"], ws)
    assert report.totals["stored"] == 6, report.as_dict()
    with db.opened(ws) as con:
        event_ids = [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY time").fetchall()]
        for n, (rule, title, scenario, severity, ents, evidence, store, channel, day, hour) in enumerate(ALERTS):
            first = f"2026-11-{16 + day}T{hour:02d}:00:00Z"
            con.execute(
                """INSERT INTO alerts VALUES (?, ?, 'test', ?, ?, ?, 0.9, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ + INTERVAL 5 MINUTE,
                   ?, ?::STRUCT(type VARCHAR, value VARCHAR)[], ?::JSON, ?, ?, ?, ?, ?, now())""",
                [f"alert{n}", rule, title, scenario, severity, first, first, len(event_ids) if n == 0 else 1,
                 [{"type": t, "value": v} for t, v in ents], orjson.dumps(evidence).decode(),
                 event_ids if n == 0 else [], ["T1110.001"] if n == 0 else [], store, channel,
                 f"{title}: {QUOTED} {TEMPLATE}"])
        correlate(con, now=time.time())
    return ws


def chromium_or_skip() -> Path:
    """Debian's chromium; missing, the test skips locally but fails in CI (where .ci/run installs it)."""
    found = CHROMIUM if CHROMIUM.exists() else (Path(p) if (p := shutil.which("chromium")) else None)
    if found is None:
        message = "Debian chromium is not installed (apt-get install chromium)"
        if os.environ.get(CI_ENV):
            pytest.fail(message + f"; {CI_ENV} is set, so this is a failure")
        pytest.skip(message)
    return found
