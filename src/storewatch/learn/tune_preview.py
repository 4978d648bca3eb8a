"""What a threshold override would change, replayed on the stored events before it is saved: the
detection is run with its current and its new values on a read snapshot, and the alerts that would go
(with the incidents left without any alert) or appear are counted."""

from __future__ import annotations

import hashlib
from typing import Mapping

from storewatch.detect.detection import DetectionError
from storewatch.detect.engine import set_variables
from storewatch.detect.registry import load_detections
from storewatch.store import reader
from storewatch.workspace import Workspace


def preview_parameters(ws: Workspace, det_id: str, values: Mapping[str, float]) -> dict:
    """{"before", "after", "dropped", "added", "incidents_closed", "text"} for `det_id` with `values`."""
    found, _ = load_detections(ws, with_disabled=True)
    det = next((d for d in found if d.id == det_id), None)
    if det is None:
        raise DetectionError(f"no detection {det_id!r}")
    if det.tuned is None:
        raise DetectionError(f"{det_id} has no parameters to override")
    new = det.tuned({**det.parameters, **values})  # DetectionError for a parameter it does not have
    with reader.opened(ws) as con:
        set_variables(con, ws)
        before = set(det.query(con).column("key").to_pylist())
        after = set(new.query(con).column("key").to_pylist())
        dropped = [hashlib.md5(f"{det_id}|{k}".encode()).hexdigest() for k in before - after]
        rows = con.execute("""
            SELECT incident_id, any_value(i.severity), bool_and(list_contains(?, alert_id))
            FROM incident_alerts JOIN incidents i USING (incident_id)
            GROUP BY incident_id HAVING bool_or(list_contains(?, alert_id))""", [dropped, dropped]).fetchall()
    closed = [(i, sev) for i, sev, all_dropped in rows if all_dropped]
    serious = sum(1 for _, sev in closed if sev in ("high", "critical"))
    text = (f"would have closed {len(dropped)} of {len(before)} alerts, leaving {len(closed)} incident"
            f"{'s' * (len(closed) != 1)} with none{f' (including {serious} high or critical)' if serious else ''}, "
            f"and raised {len(after - before)} new")
    return {"detection": det_id, "parameters": {**det.parameters, **values}, "before": len(before),
            "after": len(after), "dropped": len(dropped), "added": len(after - before),
            "incidents_closed": [i for i, _ in closed], "text": text}
