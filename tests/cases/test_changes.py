"""Cases against a real store: every change kept across re-detection, merge and split with their evidence,
verdicts recorded as feedback, comments scrubbed, attachments hashed, and all of it audited."""

from __future__ import annotations

import stat

import orjson
import pytest
from typer.testing import CliRunner

from storewatch import accounts, audit
from storewatch.cases import changes, read
from storewatch.cases.lifecycle import CaseError
from storewatch.cli import app as cli
from storewatch.store import db, reader
from tests.cases.support import build, incident_of, redetect, row

CARD = "4111 1111 1111 1111"


@pytest.fixture
def ws(tmp_path):
    return build(tmp_path / "ws")


def evidence(ws, alert_id: str) -> dict:
    with db.opened(ws, read_only=True) as con:
        return orjson.loads(con.execute("SELECT evidence FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()[0])


def test_case_state_survives_redetect_and_new_alerts(ws):
    a = incident_of(ws, "a1")
    changes.assign(ws, a, "kim", actor="lee")
    changes.comment(ws, a, "scanner from a hosting range", actor="lee")
    changes.set_status(ws, a[:8], "in progress", actor="kim")
    changes.tag(ws, a, add=["web", "Scan"], actor="kim")
    changes.set_severity(ws, a, "critical", actor="kim")
    redetect(ws, ("a3", [("ip", "198.51.100.7")], 11, {"paths": 3}))  # a new alert joins it
    after = row(ws, a)
    assert (after["status"], after["assignee"], after["tags"], after["severity_override"], after["alert_count"]) == \
        ("in_progress", "kim", ["scan", "web"], "critical", 3)
    assert after["acknowledged_at"] is not None and after["resolved_at"] is None
    with reader.opened(ws) as con:
        found = read.case(ws, con, a)
    assert [c["body"] for c in found["comments"]] == ["scanner from a hosting range"]
    assert [(h["actor"], h["change"]) for h in found["history"]] == [
        ("lee", "assign"), ("lee", "comment"), ("kim", "status"), ("kim", "tag"), ("kim", "severity")]
    assert (found["severity"], found["computed_severity"]) == ("critical", row(ws, a)["severity"])
    assert [e["action"] for e in audit.entries(ws)] == ["case.assign", "case.comment", "case.status", "case.tag", "case.severity"]


def test_incidents_joined_by_correlation_bring_their_case_along(ws):
    a, c = incident_of(ws, "a1"), incident_of(ws, "c1")
    changes.comment(ws, a, "first look", actor="lee")
    changes.comment(ws, c, "kim's account", actor="kim")
    changes.assign(ws, c, "kim", actor="kim")
    redetect(ws, ("x1", [("ip", "198.51.100.7"), ("user", "kim")], 12, {"both": True}))  # links a and c
    survivor = incident_of(ws, "x1")
    assert incident_of(ws, "a1") == incident_of(ws, "c1") == survivor
    with reader.opened(ws) as con:
        found = read.case(ws, con, survivor)
        ids = [i for (i,) in con.execute("SELECT incident_id FROM incidents").fetchall()]
    assert sorted(c["body"] for c in found["comments"]) == ["first look", "kim's account"]
    assert found["assignee"] == "kim"
    gone = ({a, c} - {survivor}).pop()
    assert gone not in ids and {"from": gone, "by": "correlation"} in [h["detail"] for h in found["history"]]


def test_merge_moves_alerts_with_their_evidence_and_holds_across_redetect(ws):
    a, b = incident_of(ws, "a1"), incident_of(ws, "b1")
    before = {aid: evidence(ws, aid) for aid in ("a1", "a2", "b1")}
    result = changes.merge(ws, a, [b], actor="kim")
    assert result["merged"] == [b] and result["alerts"] == ["b1"]
    for _ in range(2):  # as merged, and after a re-detection
        assert incident_of(ws, "b1") == incident_of(ws, "a2") == a
        assert row(ws, a)["alert_count"] == 3
        gone = row(ws, b)
        assert (gone["status"], gone["resolution"], gone["duplicate_of"], gone["alert_count"]) == ("resolved", "duplicate", a, 0)
        assert {aid: evidence(ws, aid) for aid in before} == before
        redetect(ws)
    with pytest.raises(CaseError, match="at least one other"):
        changes.merge(ws, a, [a])


def test_split_makes_a_new_incident_that_holds_across_redetect(ws):
    a = incident_of(ws, "a1")
    changes.assign(ws, a, "kim", actor="kim")
    before = evidence(ws, "a2")
    result = changes.split(ws, a, ["a2"], actor="kim")
    new = result["new_incident"]
    for _ in range(2):
        assert incident_of(ws, "a2") == new and incident_of(ws, "a1") == a
        assert (row(ws, new)["status"], row(ws, new)["alert_count"], row(ws, a)["alert_count"]) == ("new", 1, 1)
        assert row(ws, a)["assignee"] == "kim" and evidence(ws, "a2") == before
        redetect(ws)
    with reader.opened(ws) as con:
        assert read.case(ws, con, new)["history"][0]["detail"] == {"from": a, "alerts": ["a2"]}
    with pytest.raises(CaseError, match="at least one alert behind"):
        changes.split(ws, a, ["a1"])
    with pytest.raises(CaseError, match="must be one of"):
        changes.split(ws, a, ["b1"])


def test_resolving_with_a_verdict_records_feedback_and_a_duplicate_does_not(ws):
    a, b, c = incident_of(ws, "a1"), incident_of(ws, "b1"), incident_of(ws, "c1")
    changes.set_status(ws, a, "resolved", "benign", actor="kim", note="pen test")
    changes.set_status(ws, c, "resolved", "false_positive", actor="lee")
    changes.set_status(ws, b, "resolved", "duplicate", duplicate_of=a, actor="lee")
    with db.opened(ws, read_only=True) as con:
        verdicts = con.execute("SELECT incident_id, verdict, actor, note FROM feedback ORDER BY 2").fetchall()
        suppressed = con.execute("SELECT rule_id, entity_type, value FROM suppressions").fetchall()
    assert verdicts == [(a, "benign", "kim", "pen test"), (c, "false_positive", "lee", "")]
    assert suppressed == [("r.login", "user", "kim")]
    assert (row(ws, a)["status"], row(ws, a)["resolution"]) == ("resolved", "benign")
    assert (row(ws, b)["resolution"], row(ws, b)["duplicate_of"]) == ("duplicate", a)
    with pytest.raises(CaseError, match="cannot duplicate itself"):
        changes.set_status(ws, a, "resolved", "duplicate", duplicate_of=a)
    redetect(ws)  # a duplicate that kept its alerts stays one incident, with them
    assert incident_of(ws, "b1") == b and (row(ws, b)["resolution"], row(ws, b)["alert_count"]) == ("duplicate", 1)
    with db.opened(ws, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM incidents").fetchone()[0] == 3


def test_comments_never_keep_a_card_number_and_attachments_are_hashed(ws, tmp_path):
    a = incident_of(ws, "a1")
    changes.comment(ws, a, f"customer read out {CARD}", actor="kim")
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG fake screenshot")
    added = changes.attach(ws, a, shot, actor="kim")
    with reader.opened(ws) as con:
        found = read.case(ws, con, a)
    assert CARD not in found["comments"][0]["body"] and "[PAN:last4=1111" in found["comments"][0]["body"]
    assert CARD.replace(" ", "") not in (ws.home / "audit.jsonl").read_text()
    assert found["attachments"][0]["sha256"] == added["sha256"] and found["attachments"][0]["intact"]
    (changes.attachments_folder(ws) / added["sha256"]).write_bytes(b"swapped")
    with reader.opened(ws) as con:
        assert read.case(ws, con, a)["attachments"][0]["intact"] is False


def test_assign_checks_names_once_accounts_exist(ws):
    a = incident_of(ws, "a1")
    accounts.add(ws, "kim", "analyst", "a long enough password")
    with pytest.raises(CaseError, match="no user 'lee'"):
        changes.assign(ws, a, "lee")
    assert changes.assign(ws, a, "KIM")["assignee"] == "kim"
    assert changes.assign(ws, a, None)["assignee"] is None


def test_the_case_command_and_incidents_json(ws, tmp_path, monkeypatch):
    monkeypatch.setenv("STOREWATCH_ACTOR", "kim")
    runner = CliRunner()
    a = incident_of(ws, "a1")
    home = ["--home", str(ws.home)]
    assert runner.invoke(cli, ["case", a, "assign", "kim", *home]).exit_code == 0
    assert runner.invoke(cli, ["case", a, "comment", "checked", "the", "logs", *home]).exit_code == 0
    done = runner.invoke(cli, ["case", a, "status", "resolved", "--resolution", "true_positive", *home])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(cli, ["case", a, "status", "resolved", *home])
    assert bad.exit_code == 1 and "needs a resolution" in bad.output
    rows = orjson.loads(runner.invoke(cli, ["incidents", "--json", *home]).output)
    mine = next(r for r in rows if r["id"] == a)
    assert (mine["status"], mine["assignee"], mine["resolution"]) == ("resolved", "kim", "true_positive")
    assert {r["status"] for r in rows if r["id"] != a} == {"new"}
    shown = orjson.loads(runner.invoke(cli, ["case", a, "show", "--json", *home]).output)
    assert shown["comments"][0]["body"] == "checked the logs" and shown["comments"][0]["author"] == "kim"
    figures = orjson.loads(runner.invoke(cli, ["case", "stats", "--json", *home]).output)
    assert figures["by_status"] == {"new": 2, "resolved": 1} and figures["mttr_seconds"] is not None
    table = runner.invoke(cli, ["incidents", *home], env={"COLUMNS": "200"}).output
    assert "resolved: true positive" in table


def test_accounts_keep_no_password_on_disk(ws):
    runner = CliRunner()
    home = ["--home", str(ws.home)]
    added = runner.invoke(cli, ["users", "add", "Kim", "--role", "admin", *home], input="s3cret-passphrase-42\n")
    assert added.exit_code == 0, added.output
    assert "s3cret" not in added.output
    short = runner.invoke(cli, ["users", "add", "lee", *home], input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    stored = accounts.path(ws)
    assert "s3cret-passphrase-42" not in stored.read_text() and "$argon2id$" in stored.read_text()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert accounts.authenticate(ws, "kim", "s3cret-passphrase-42") == {"name": "kim", "role": "admin"}
    assert accounts.authenticate(ws, "kim", "wrong-passphrase-42") is None
    assert accounts.authenticate(ws, "nobody", "s3cret-passphrase-42") is None
    listed = orjson.loads(runner.invoke(cli, ["users", "list", "--json", *home]).output)
    assert [(u["name"], u["role"]) for u in listed] == [("kim", "admin")] and "hash" not in listed[0]
    assert runner.invoke(cli, ["users", "passwd", "kim", "--role", "viewer", *home], input="another-passphrase\n").exit_code == 0
    assert accounts.authenticate(ws, "kim", "another-passphrase") == {"name": "kim", "role": "viewer"}
    assert runner.invoke(cli, ["users", "remove", "kim", *home]).exit_code == 0
    assert accounts.listing(ws) == []
    assert [e["action"] for e in audit.entries(ws)] == ["users.added", "users.changed", "users.removed"]
