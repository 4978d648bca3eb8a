"""Verdicts, exceptions, scorecard and detection tuning end to end on a tiny simulated estate with benign
noise, through the CLI, and the before/after measurement (storewatch.learn.measure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch import audit
from storewatch.cli import app
from storewatch.learn.measure import measure
from storewatch.store import db
from storewatch.workspace import Workspace


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> tuple[dict, Workspace]:
    work = tmp_path_factory.mktemp("learning")
    return measure(work, seed=1, days=4, train_days=2, scale=0.05, mistakes=0.1), Workspace.at(work / "ws-1")


def _cli(*args: str) -> str:
    out = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return out.stdout


def test_learning_cuts_false_positives_and_keeps_recall(measured) -> None:
    result, _ = measured
    before, after = result["before"], result["after"]
    assert before["false_positives_per_day"] > 0  # the campaign tool's exports raised incidents
    assert {b["scenario"] for b in before["benign_alarms"]} == {"campaign_export"}
    assert after["false_positives_per_day"] < before["false_positives_per_day"]
    assert after["benign_alarms"] == []
    assert after["recall"] >= before["recall"]
    assert result["held_out_attacks_closed"] == []
    assert [e["condition"] for e in result["exceptions"]] == ['user = "mkt_campaign" and ip in 10.20.0.0/16']
    assert result["alerts_closed"] >= 1


def test_closed_alerts_are_kept_with_the_exception_that_closed_them(measured) -> None:
    _, ws = measured
    with db.opened(ws, read_only=True) as con:
        rows = con.execute("SELECT DISTINCT exception_id, rule_id FROM suppressed_alerts").fetchall()
        users = con.execute("SELECT DISTINCT e.value FROM suppressed_alerts, unnest(entities) u(e) "
                            "WHERE e.type = 'user'").fetchall()
        still = con.execute("SELECT count(*) FROM alerts, unnest(entities) u(e) WHERE e.value = 'mkt_campaign'").fetchall()
    assert ("exc-learned-1", "behaviour.bulk_data_read") in rows
    assert ("mkt_campaign",) in users
    assert still == [(0,)]
    actions = [e["action"] for e in audit.entries(ws)]
    assert {"exception.add", "exception.files", "detect.suppressed", "feedback.true_positive"} <= set(actions)


def test_scorecard_counts_verdicts_per_detection(measured) -> None:
    _, ws = measured
    cards = json.loads(_cli("detections", "--scorecard", "--json", "--home", str(ws.home)))
    by_id = {c["id"]: c for c in cards}
    bulk = by_id["behaviour.bulk_data_read"]
    assert bulk["closed_by_exceptions"] >= 1 and bulk["verdicts"]["total"] >= 1
    assert bulk["precision"] is not None and 0 <= bulk["precision"] <= 1
    quiet = [c for c in cards if c["alerts"] == 0]
    assert quiet and all(c["precision"] is None and c["suggestion"] == "keep" for c in quiet)
    assert {c["suggestion"] for c in cards} <= {"keep", "tune", "retire"}


def test_cli_verdicts_exceptions_and_tuning(measured, tmp_path: Path) -> None:
    import shutil

    _, origin = measured
    home = tmp_path / "ws"
    shutil.copytree(origin.home, home)
    incidents = json.loads(_cli("incidents", "--json", "--home", str(home)))
    target = incidents[0]["id"]
    with db.opened(Workspace.at(home), read_only=True) as con:
        alert = con.execute("SELECT min(alert_id) FROM incident_alerts WHERE incident_id = ?", [target]).fetchall()[0][0]
    _cli("feedback", target, "--verdict", "benign", "--note", "expected", "--alert", alert, "--home", str(home))
    with db.opened(Workspace.at(home), read_only=True) as con:
        assert con.execute("SELECT verdict, alert_ids FROM feedback WHERE alert_id = ?", [alert]).fetchall() == [("benign", [alert])]
    bad = CliRunner().invoke(app, ["feedback", target, "--verdict", "maybe", "--home", str(home)])
    assert bad.exit_code == 2 and "verdict must be one of" in bad.output

    preview = json.loads(_cli("exceptions", "add", "severity = critical", "--reason", "try", "--id", "exc-try",
                              "--preview", "--json", "--home", str(home)))
    assert preview["saved"] is None and not (home / "exceptions" / "exc-try.yml").exists()
    assert preview["text"].startswith("would have closed ") and "critical" in preview["text"]
    _cli("exceptions", "add", "user = nobody_at_all", "--reason", "r", "--id", "exc-none", "--home", str(home))
    listed = {e["id"]: e for e in json.loads(_cli("exceptions", "list", "--json", "--home", str(home)))}
    assert listed["exc-none"]["active"] and listed["exc-none"]["expires"]
    fp = [i for i in listed if i.startswith("fp-")]
    _cli("exceptions", "remove", "exc-none", "--home", str(home))
    assert not (home / "exceptions" / "exc-none.yml").exists()
    if fp:  # the simulated analyst's false-positive verdicts suppressed patterns: listed, and removable
        _cli("exceptions", "remove", fp[0], "--home", str(home))
        assert fp[0] not in {e["id"] for e in json.loads(_cli("exceptions", "list", "--json", "--home", str(home)))}

    out = _cli("detections", "tune", "window.ssh.bruteforce", "min_failures=100000", "--preview", "--home", str(home))
    assert "would have closed" in out and not (home / "detections.yml").exists()
    _cli("detections", "tune", "window.ssh.bruteforce", "min_failures=25", "--home", str(home))
    _cli("detections", "disable", "brand_impersonation", "--group", "--home", str(home))
    view = json.loads(_cli("detections", "--json", "--home", str(home)))
    rows = {r["id"]: r for r in view["detections"]}
    assert rows["window.ssh.bruteforce"]["parameters"] == {"min_failures": 25}
    assert rows["window.ssh.bruteforce"]["enabled"] and rows["window.ssh.bruteforce"]["source"] == "shipped"
    assert not rows["window.social.brand_impersonation"]["enabled"]
    wrong = CliRunner().invoke(app, ["detections", "tune", "window.ssh.bruteforce", "nope=1", "--home", str(home)])
    assert wrong.exit_code == 2 and "no parameter nope" in wrong.output
    actions = [e["action"] for e in audit.entries(Workspace.at(home))]
    assert {"feedback.benign", "exception.add", "exception.remove", "detections.tune", "detections.disable"} <= set(actions)
    assert audit.verify(Workspace.at(home)) == []
