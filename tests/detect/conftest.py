"""Detected estates shared by the detection tests: simulated, ingested and detected once per session.

Six estates differ in seed, size, length, style and profile: the `shipped` style writes the same kinds of
records in other servers' and shippers' shapes, names and settings; the `varied` profile draws the
business's habits from the seed (time zone and opening hours, traffic rates, session and basket sizes,
staff, query mix); one estate is a single quiet shop, one is twice the largest of the others. A
detection tuned to one file's constants, one shape or one estate's rates fails here.
Tests read the alerts and incidents of each and compare them with the simulator's labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from storewatch.detect.engine import DetectReport, detect
from storewatch.evaluate import read_labels
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import db
from storewatch.workspace import Workspace

# (seed, days, scale, style, profile, stores): small enough for CI on two cores, different enough to catch
# over-fitting. Stores None: from the scale (40 per unit, at least 3).
ESTATES = [(4, 1, 0.15, "classic", "classic", None), (12, 2, 0.3, "classic", "classic", None),
           (29, 2, 0.1, "classic", "classic", None), (7, 2, 0.2, "shipped", "varied", None),
           (41, 2, 0.02, "shipped", "varied", 1), (53, 2, 0.6, "classic", "varied", None)]


def _name(p: tuple) -> str:
    seed, days, scale, style, profile, stores = p
    return f"seed{seed}-{days}d-x{scale}-{style}-{profile}" + (f"-{stores}store" if stores else "")


@dataclass
class DetectedEstate:
    seed: int
    days: int
    scale: float
    raw: Path
    ws: Workspace
    report: DetectReport
    labels: list[dict]
    benign: list[dict]

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        with db.opened(self.ws, read_only=True) as con:
            cur = con.execute(sql, params or [])
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def alerts(self, **where: str) -> list[dict]:
        """Alerts, optionally filtered by column equality (scenario=..., rule_id=...)."""
        clause = " AND ".join(f"{k} = ?" for k in where) or "TRUE"
        return self.query(f"SELECT * FROM alerts WHERE {clause} ORDER BY first_seen", list(where.values()))

    def label(self, scenario: str) -> list[dict]:
        return [lb for lb in self.labels if lb["scenario"] == scenario]


@pytest.fixture(scope="session", params=ESTATES, ids=_name)
def estate(request, tmp_path_factory) -> DetectedEstate:
    seed, days, scale, style, profile, stores = request.param
    root = tmp_path_factory.mktemp(f"estate{seed}")
    simulate(root / "raw", days=days, scale=scale, seed=seed, style=style, profile=profile, stores=stores)
    ws = Workspace.at(root / "ws")
    ingest([root / "raw"], ws)
    report = detect(ws)
    assert not report.errors, report.errors
    return DetectedEstate(seed, days, scale, root / "raw", ws, report, read_labels(root / "raw" / "labels.jsonl"),
                          read_labels(root / "raw" / "benign.jsonl"))
