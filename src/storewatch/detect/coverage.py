"""ATT&CK coverage: which techniques the loaded detections look for and which of them fired, by tactic.

Pure: detections in, alert counts in, a matrix out (tactics as columns in ATT&CK's kill-chain order), so
the dashboard's page and a test read the same figures. Technique names and tactics come from the offline
ATT&CK data (`correlate.attack`); a technique id it does not know is kept under "unknown tactic".
"""

from __future__ import annotations

from typing import Iterable, Mapping

from storewatch.correlate import attack
from storewatch.detect.detection import Detection

TACTICS = ("reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
           "collection", "command-and-control", "exfiltration", "impact")
UNKNOWN = "unknown-tactic"


def tactic_name(tactic: str) -> str:
    """'credential-access' as 'Credential Access'; 'command-and-control' as 'Command and Control'."""
    return " ".join(w if w == "and" else w.capitalize() for w in tactic.split("-"))


def matrix(detections: Iterable[Detection], fired: Mapping[str, int]) -> dict:
    """{'tactics': [{'id', 'name', 'techniques': [{'id', 'name', 'detections': [ids], 'alerts'}]}],
    'covered', 'fired', 'fired_uncovered'}: each technique under every tactic it serves, most alerts first.

    `fired` counts alerts per technique id; a technique that fired without a loaded detection (a rule since
    removed) is shown too, so no alert's technique goes missing from the view."""
    by_technique: dict[str, list[str]] = {}
    for det in detections:
        for tid in det.attack:
            by_technique.setdefault(tid.upper(), []).append(det.id)
    fired = {t.upper(): n for t, n in fired.items() if n}
    columns: dict[str, list[dict]] = {t: [] for t in (*TACTICS, UNKNOWN)}
    for tid in sorted(set(by_technique) | set(fired)):
        known = attack.technique(tid)
        cell = {"id": tid, "name": known["name"] if known else "", "detections": sorted(by_technique.get(tid, [])),
                "alerts": fired.get(tid, 0), "url": known["url"] if known else ""}
        for tactic in (known["tactics"] if known and known["tactics"] else [UNKNOWN]):
            columns.setdefault(tactic, []).append(cell)
    tactics = [{"id": t, "name": tactic_name(t),
                "techniques": sorted(cells, key=lambda c: (-c["alerts"], -len(c["detections"]), c["id"]))}
               for t, cells in columns.items() if cells or t in TACTICS]
    return {"tactics": tactics, "covered": len(by_technique), "fired": len(fired),
            "fired_uncovered": sorted(set(fired) - set(by_technique))}
