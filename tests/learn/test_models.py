"""Versioned models: train, list, promote, roll back; what training leaves out; detection with a stored version."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from storewatch import audit
from storewatch.cli import app
from storewatch.detect.behaviour import bulk_read, exfiltration, port_scan
from storewatch.detect.engine import detect, run_detections
from storewatch.learn import anomaly
from storewatch.learn import exclusions, models, registry
from storewatch.learn.feedback import record_feedback
from storewatch.store import db

HOST = "outliers.host"


def _cli(ws, *args: str):
    result = CliRunner().invoke(app, [*args, "--home", str(ws.home)])
    assert result.exit_code == 0, result.output
    return result.output


def _behaviour_alerts(ws) -> dict[str, tuple]:
    with db.opened(ws) as con:
        return {a: (c, v, p) for a, c, v, p in con.execute("""
            SELECT alert_id, confidence, evidence->>'ml_model_version', evidence->>'ml_anomaly_percentile'
            FROM alerts WHERE evidence->>'ml_anomaly_percentile' IS NOT NULL""").fetchall()}


def _graded(ws) -> dict[str, tuple]:
    """The behaviour detections run alone (as `detect` runs them, with the current versions bound)."""
    with db.opened(ws) as con:
        anomaly.bind(con, ws)
        table, _, errors = run_detections(con, [exfiltration.DETECTION, port_scan.DETECTION, bulk_read.DETECTION])
    assert not errors
    return {r["alert_id"]: (r["confidence"], orjson.loads(r["evidence"]).get("ml_model_version"),
                            orjson.loads(r["evidence"]).get("ml_anomaly_percentile")) for r in table.to_pylist()}


def test_train_list_promote_rollback_and_alerts_carry_the_version(estate) -> None:
    before = _behaviour_alerts(estate)
    assert before and {v for _, v, _ in before.values()} == {None}  # no stored version yet: fitted in the run
    first = models.train(estate, HOST)
    assert (first["id"], first["status"]) == (f"{HOST}@1", "current")
    assert first["evaluation"]["against"] is None and first["features"][0] == "bytes_out"
    second = models.train(estate, HOST, promote=False)
    assert (second["id"], second["status"]) == (f"{HOST}@2", "candidate")
    assert second["data_hash"] == first["data_hash"]  # same store, same admissible rows
    listed = {r["id"]: r for r in orjson.loads(_cli(estate, "models", "list", "--json"))}
    assert (listed[f"{HOST}@1"]["status"], listed[f"{HOST}@2"]["status"]) == ("current", "candidate")

    _cli(estate, "models", "promote", f"{HOST}@2")
    assert registry.current(estate, HOST)["id"] == f"{HOST}@2"
    assert registry.manifest(estate, f"{HOST}@1")["status"] == "retired"
    assert {v for _, v, _ in _graded(estate).values() if v and v.startswith(HOST)} == {f"{HOST}@2"}

    _cli(estate, "models", "rollback", f"{HOST}@1")
    assert registry.current(estate, HOST)["id"] == f"{HOST}@1"
    assert registry.manifest(estate, f"{HOST}@2")["status"] == "retired"
    detect(estate)
    assert {v for _, v, _ in _behaviour_alerts(estate).values() if v and v.startswith(HOST)} == {f"{HOST}@1"}

    refused = CliRunner().invoke(app, ["models", "rollback", f"{HOST}@1", "--home", str(estate.home)])
    assert refused.exit_code == 1 and "restores a retired version" in refused.output
    actions = [e["action"] for e in audit.entries(estate) if e["action"].startswith("models.")]
    assert actions.count("models.train") == 2 and "models.promote" in actions and "models.rollback" in actions


def test_detection_with_a_stored_version_is_deterministic_and_does_not_refit(estate) -> None:
    models.train(estate, HOST)
    forest = registry.folder(estate, f"{HOST}@1") / "forest.joblib"
    stamp = forest.read_bytes()
    once = _graded(estate)
    assert {v for _, v, _ in once.values() if v and v.startswith(HOST)} == {f"{HOST}@1"}
    assert _graded(estate) == once
    assert forest.read_bytes() == stamp and [m["id"] for m in registry.versions(estate, HOST)] == [f"{HOST}@1"]


def test_a_damaged_artefact_is_refused_not_loaded(estate) -> None:
    doc = models.train(estate, HOST)
    (registry.folder(estate, doc["id"]) / "forest.joblib").write_bytes(b"not a model")
    with pytest.raises(registry.ModelError, match="hash mismatch"):
        registry.artefact(estate, doc, "forest.joblib")


def _exfil_incident(ws) -> tuple[str, str, object]:
    with db.opened(ws) as con:
        return con.execute("""
            SELECT l.incident_id, a.evidence->>'src_ip', date_trunc('day', a.first_seen)
            FROM alerts a JOIN incident_alerts l USING (alert_id)
            WHERE a.rule_id IN ('behaviour.exfiltration', 'behaviour.internal_port_scan') ORDER BY a.first_seen LIMIT 1
        """).fetchall()[0]


def _trained_rows(ws, doc) -> set[tuple[str, str]]:
    table = pq.read_table(registry.folder(ws, doc["id"]) / "reference.parquet")
    return {(e, d.date().isoformat()) for e, d in zip(table["entity"].to_pylist(), table["day"].to_pylist())}


def test_training_leaves_out_confirmed_attacks_and_excluded_periods_and_learns_cleared_days(estate) -> None:
    incident, ip, day = _exfil_incident(estate)
    key = (ip, day.date().isoformat())
    record_feedback(estate, incident, "true_positive", actor="analyst")
    confirmed = models.train(estate, HOST)
    assert key not in _trained_rows(estate, confirmed)
    assert confirmed["rows"]["left_out_confirmed"] >= 1
    others_that_day = {k for k in _trained_rows(estate, confirmed) if k[1] == key[1]}
    assert others_that_day  # the benign hosts of the attack's day are still learned from

    # The analyst changes their mind: the same day, called a false positive, is now learned as normal.
    record_feedback(estate, incident, "false_positive", actor="analyst")
    cleared = models.train(estate, HOST, promote=False)
    assert key in _trained_rows(estate, cleared) and cleared["data_hash"] != confirmed["data_hash"]

    # "Don't learn from Black Friday": an excluded day disappears from training, and the change is audited.
    _cli(estate, "models", "exclude", "--from", f"{key[1]}T00:00:00Z", "--to", f"{key[1]}T23:59:59Z",
         "--reason", "Black Friday")
    assert [p["reason"] for p in exclusions.periods(estate)] == ["Black Friday"]
    excluded = models.train(estate, HOST, promote=False)
    assert not {k for k in _trained_rows(estate, excluded) if k[1] == key[1]}
    assert excluded["rows"]["left_out_excluded"] >= len(others_that_day | {key})
    assert any(e["action"] == "models.exclude" and e["why"] == "Black Friday" for e in audit.entries(estate))


def test_exclusion_needs_an_order_and_a_reason(estate) -> None:
    with pytest.raises(ValueError, match="after"):
        exclusions.add(estate, "2026-11-28T00:00:00Z", "2026-11-27T00:00:00Z", "Black Friday")
    with pytest.raises(ValueError, match="reason"):
        exclusions.add(estate, "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", " ")
    assert exclusions.periods(estate) == []


def test_due_retrains_names_new_and_stale_models(estate) -> None:
    due = {d["model"]: d["why"] for d in models.due_retrains(estate)}
    assert due[HOST] == "no version yet" and "triage" not in due  # no verdicts: triage defers
    models.train(estate, HOST)
    assert HOST not in {d["model"] for d in models.due_retrains(estate)}
    estate.set_setting("models.retrain_days", ["1"])
    from datetime import datetime, timedelta, timezone
    later = datetime.now(timezone.utc) + timedelta(days=2)
    assert {d["model"]: d["why"] for d in models.due_retrains(estate, now=later)}[HOST] == "current version older than 1 days"
