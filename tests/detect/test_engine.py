"""The detection engine: alerts are stored once, re-running adds nothing, broken user rules are reported."""

from __future__ import annotations

from pathlib import Path

from storewatch.detect.engine import detect
from storewatch.detect.registry import builtin_detections
from storewatch.store import db


def test_rerun_adds_no_alerts_or_incidents(estate) -> None:
    before = estate.query("SELECT alert_id, detected_at FROM alerts ORDER BY 1")
    incidents = estate.query("SELECT incident_id, created_at FROM incidents ORDER BY 1")
    again = detect(estate.ws)
    assert again.new_alerts == 0 and again.new_incidents == 0
    assert estate.query("SELECT alert_id, detected_at FROM alerts ORDER BY 1") == before
    assert estate.query("SELECT incident_id, created_at FROM incidents ORDER BY 1") == incidents


def test_every_alert_is_in_exactly_one_incident(estate) -> None:
    rows = estate.query("""SELECT a.alert_id, count(l.incident_id) AS n FROM alerts a
                           LEFT JOIN incident_alerts l USING (alert_id) GROUP BY 1 HAVING n <> 1""")
    assert rows == []


def test_builtin_detection_ids_are_unique() -> None:
    ids = [d.id for d in builtin_detections()]
    assert len(ids) == len(set(ids))


def test_broken_user_rule_is_reported_and_others_still_run(ws, run, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yml").write_text("id: x\ntitle: t\nscenario: s\nseverity: high\nsql: SELECT nope FROM nowhere\n")
    (rules / "not_a_rule.yml").write_text("hello: world\n")
    (rules / "bad_yaml.yml").write_text("id: [unclosed\n")
    report = detect(ws, rules_dir=rules)
    failed = {Path(e["source"]).name for e in report.errors}
    assert failed == {"broken.yml", "not_a_rule.yml", "bad_yaml.yml"}
    assert report.detections == len(builtin_detections()) + 1


def test_user_sql_rule_raises_alerts(ws, run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(
        f'203.0.113.{i % 3} - - [16/Nov/2026:10:{i:02d}:00 +0000] "GET /secret HTTP/1.1" 403 12 "-" "curl/8"\n'
        for i in range(30)))
    run(log)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "secret.yml").write_text("""
id: user.secret_probe
title: Probing /secret
scenario: web_attack_scan
severity: medium
attack: [T1595]
summary: "{n} probes from {ip}"
sql: |
  SELECT src_ip AS key, min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
         [{'type': 'ip', 'value': src_ip}] AS entities, json_object('n', count(*), 'ip', src_ip) AS evidence,
         list(event_id)[1:5] AS event_ids
  FROM events WHERE url_path = '/secret' GROUP BY src_ip
""")
    report = detect(ws, rules_dir=rules)
    assert report.per_detection["user.secret_probe"] == 3
    with db.opened(ws) as con:
        rows = con.execute("SELECT summary, attack FROM alerts WHERE rule_id = 'user.secret_probe' ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == [f"10 probes from 203.0.113.{i}" for i in range(3)]
    assert rows[0][1] == ["T1595"]
    # The three IPs share a /24 and a time window: one incident.
    assert report.incidents == 1


def test_false_positive_feedback_suppresses_the_pattern_on_the_next_run(estate, tmp_path: Path) -> None:
    import shutil

    from storewatch import audit
    from storewatch.learn.feedback import record_feedback
    from storewatch.workspace import Workspace

    shutil.copytree(estate.ws.home, tmp_path / "copy")
    ws = Workspace.at(tmp_path / "copy")
    with db.opened(ws) as con:
        target, others = con.execute("""SELECT min(incident_id), count(*) - 1 FROM incidents""").fetchall()[0]
        alerts = con.execute("SELECT count(*) FROM incident_alerts WHERE incident_id = ?", [target]).fetchall()[0][0]
    result = record_feedback(ws, target, "false_positive", actor="ana", note="our own pen test")
    assert result["suppressed"]
    report = detect(ws)
    assert report.suppressed >= alerts
    with db.opened(ws) as con:
        assert con.execute("SELECT count(*) FROM incidents WHERE incident_id = ?", [target]).fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM incidents").fetchall()[0][0] >= others - 1
    actions = [e["action"] for e in audit.entries(ws)]
    assert actions == ["feedback.false_positive", "detect.suppressed"]
    assert audit.verify(ws) == []
