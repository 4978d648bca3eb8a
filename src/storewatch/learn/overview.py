"""Every detection as the analyst manages it: where it comes from, whether it runs, its thresholds, when it
last fired and its scorecard; the CLI (`storewatch detections`) and the dashboard's page show the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from storewatch.detect import catalog, tuning
from storewatch.detect.registry import builtin_detections, load_detections
from storewatch.learn.scorecard import DEFAULT_DAYS, scorecard
from storewatch.store import reader
from storewatch.workspace import Workspace


def detections_overview(ws: Workspace, rules_dir: Optional[Path] = None, days: int = DEFAULT_DAYS) -> dict:
    """{"detections": [...], "errors": [...]}: one row per loaded detection, disabled ones included."""
    found, errors = load_detections(ws, rules_dir, with_disabled=True)
    try:
        settings = tuning.read(ws)
    except tuning.TuningError:  # already among `errors`
        settings = tuning.empty()
    shipped = {d.id: d.source for d in builtin_detections()}
    with reader.opened(ws) as con:
        cards = {c["id"]: c for c in scorecard(con, [d.id for d in found], days)}
    described = {r["id"]: r for r in catalog.rows(found)}  # title, kind, scenario, severity, ATT&CK, description
    rows = []
    for d in sorted(found, key=lambda d: (d.scenario, d.id)):
        origin = "shipped" if shipped.get(d.id) == d.source else (
            "user (replaces shipped)" if d.id in shipped else "user")
        rows.append({**described[d.id], "source": origin, "file": d.source, "enabled": tuning.enabled(d, settings),
                     "parameters": dict(d.parameters), **{k: v for k, v in cards[d.id].items() if k != "id"}})
    return {"detections": rows, "errors": errors}
