"""The ATT&CK matrix: techniques under each of their tactics, covered by which detections, fired how often."""

from __future__ import annotations

from storewatch.detect.coverage import TACTICS, UNKNOWN, matrix, tactic_name
from storewatch.detect.detection import Detection


def _det(det_id: str, *techniques: str) -> Detection:
    return Detection(det_id, det_id, "sigma", "test", "high", query=lambda con: None, attack=techniques)


def _cells(m: dict, tactic: str) -> dict:
    return {c["id"]: c for t in m["tactics"] if t["id"] == tactic for c in t["techniques"]}


def test_covered_and_fired_techniques_sit_under_their_tactics():
    m = matrix([_det("brute", "T1110.001"), _det("valid", "T1078", "t1110.001")], {"T1110.001": 3, "T1486": 2})
    assert [t["id"] for t in m["tactics"]][: len(TACTICS)] == list(TACTICS)  # every tactic a column, in order
    cred = _cells(m, "credential-access")
    assert cred["T1110.001"] == {"id": "T1110.001", "name": "Password Guessing", "detections": ["brute", "valid"],
                                 "alerts": 3, "url": "https://attack.mitre.org/techniques/T1110/001"}
    # T1078 Valid Accounts serves four tactics: it is in each, covered, never fired.
    for tactic in ("initial-access", "persistence", "privilege-escalation", "defense-evasion"):
        assert _cells(m, tactic)["T1078"]["alerts"] == 0 and _cells(m, tactic)["T1078"]["detections"] == ["valid"]
    # Fired with no loaded detection (a rule since removed): shown, and named as such.
    assert _cells(m, "impact")["T1486"]["detections"] == [] and m["fired_uncovered"] == ["T1486"]
    assert (m["covered"], m["fired"]) == (2, 2)


def test_an_id_attack_does_not_know_goes_to_unknown_tactic():
    m = matrix([_det("odd", "T9999")], {})
    assert _cells(m, UNKNOWN)["T9999"]["name"] == ""
    assert all(c["id"] != "T9999" for t in m["tactics"] if t["id"] != UNKNOWN for c in t["techniques"])


def test_tactic_names_read_as_attack_writes_them():
    assert tactic_name("command-and-control") == "Command and Control"
    assert tactic_name("credential-access") == "Credential Access"
