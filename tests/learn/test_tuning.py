"""Detection settings (detections.yml) and the scorecard's suggestions: pure logic, no store."""

from __future__ import annotations

import pyarrow as pa
import pytest

from storewatch import audit
from storewatch.detect import tuning
from storewatch.detect.detection import Detection
from storewatch.detect.registry import load_detections
from storewatch.learn.scorecard import suggest


def _det(det_id: str, source: str, scenario: str = "s") -> Detection:
    return Detection(id=det_id, title=det_id, kind="window", scenario=scenario, severity="low",
                     query=lambda con: pa.table({}), source=source)


def test_a_user_rule_replaces_a_shipped_one_only_when_asked() -> None:
    shipped, mine = [_det("a", "shipped.yml"), _det("b", "shipped.yml")], [_det("a", "mine.yml"), _det("c", "mine.yml")]
    found, errors = tuning.resolve(shipped, mine, tuning.empty())
    assert {d.id: d.source for d in found} == {"a": "shipped.yml", "b": "shipped.yml", "c": "mine.yml"}
    assert errors[0]["detection"] == "a" and "detections replace a" in errors[0]["error"]
    found, errors = tuning.resolve(shipped, mine, {**tuning.empty(), "replace": ["a"]})
    assert {d.id: d.source for d in found}["a"] == "mine.yml" and errors == []


def test_disable_enable_and_thresholds_are_written_audited_and_applied(ws) -> None:
    tuning.set_enabled(ws, "window.ssh.bruteforce", False)
    tuning.set_enabled(ws, "web_attack_scan", False, group=True)
    tuning.set_parameters(ws, "window.web.login_bruteforce", {"min_failures": 35})
    found, errors = load_detections(ws)
    ids = {d.id: d for d in found}
    assert "window.ssh.bruteforce" not in ids and not any(d.scenario == "web_attack_scan" for d in found)
    assert ids["window.web.login_bruteforce"].parameters == {"min_failures": 35} and errors == []
    every, _ = load_detections(ws, with_disabled=True)
    assert "window.ssh.bruteforce" in {d.id for d in every}
    tuning.set_enabled(ws, "window.ssh.bruteforce", True)
    assert "window.ssh.bruteforce" in {d.id for d in load_detections(ws)[0]}
    assert [e["action"] for e in audit.entries(ws)] == ["detections.disable", "detections.disable", "detections.tune",
                                                         "detections.enable"]


def test_a_broken_settings_file_is_reported_and_every_detection_runs(ws) -> None:
    (ws.home / tuning.FILE).write_text("disabled: [unclosed\n")
    found, errors = load_detections(ws)
    assert any(e["detection"] == "tuning" for e in errors)
    assert "window.ssh.bruteforce" in {d.id for d in found}
    (ws.home / tuning.FILE).write_text("parameters:\n  window.ssh.bruteforce: {nope: 3}\n")
    found, errors = load_detections(ws)
    assert any("no parameter nope" in e["error"] for e in errors)
    assert next(d for d in found if d.id == "window.ssh.bruteforce").parameters == {"min_failures": 20}


@pytest.mark.parametrize("tp, benign, fp, says", [
    (1, 1, 1, "keep"), (0, 0, 5, "retire"), (1, 0, 9, "retire"), (3, 0, 4, "tune"), (2, 5, 0, "tune"), (8, 1, 1, "keep"),
])
def test_suggestions_follow_the_verdicts(tp: int, benign: int, fp: int, says: str) -> None:
    suggestion, evidence = suggest(tp, benign, fp)
    assert suggestion == says
    assert str(tp + benign + fp) in evidence
