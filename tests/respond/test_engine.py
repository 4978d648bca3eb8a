"""The engine end to end against the stand-in: dry run calls nothing, execution happens once, approval is
required where the playbook says, rollback and expiry undo, everything is audited, no secret leaks, and
failures stay retryable."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storewatch import audit
from storewatch.respond import edl, engine
from storewatch.respond.config import ConfigError
from storewatch.store import db
from tests.respond.support import SECRET_VALUES, SLACK_PATH, add_incident, alert

API = "/admin/api/2025-01"


def stand_in(vendor) -> None:
    """The vendor APIs the takeover incident's playbooks call."""
    vendor.route("POST", "/oauth/token", {"access_token": "mgmt-token"})
    vendor.route("GET", "/api/v2/users-by-email", [{"user_id": "auth0|abc123"}])
    for path in ("/api/v2/users/auth0%7Cabc123/sessions", "/api/v2/users/auth0%7Cabc123/refresh-tokens"):
        vendor.route("DELETE", path, None, status=202)
    vendor.route("PATCH", "/api/v2/users/auth0%7Cabc123", {})
    vendor.route("POST", "/v1/radar/value_list_items", {"id": "rsli_1"})
    vendor.route("DELETE", "/v1/radar/value_list_items/rsli_1", {"deleted": True})
    vendor.route("GET", f"{API}/orders/5017998538686/fulfillment_orders.json", {"fulfillment_orders": [{"id": 9, "status": "open"}]})
    vendor.route("POST", f"{API}/fulfillment_orders/9/hold.json", {})
    vendor.route("POST", f"{API}/fulfillment_orders/9/release_hold.json", {})
    vendor.route("POST", SLACK_PATH, "ok")
    vendor.route("POST", "/hook", {})


def by_action(items) -> dict:
    out: dict = {}
    for a in items:
        out.setdefault(a.action, []).append(a)
    return out


def test_plan_covers_the_incident_and_calls_nothing(ws, vendor, configured, takeover) -> None:
    actions = by_action(engine.plan(ws, takeover))
    assert vendor.requests == []
    assert [a.target for a in actions["edl.block_ip"]] == ["81.2.69.142"]  # the private 10.0.0.5 is not blocked
    assert {a.target for a in actions["auth0.block_user"]} == {"auth0|abc123", "kim@example.com"}
    assert [a.target for a in actions["shopify.hold_order"]] == ["5017998538686"]  # found through the order events
    assert [a.target for a in actions["stripe.block_card"]] == ["A0eD26C470b1Ac95"]
    assert set(actions) >= {"slack.notify", "webhook.notify", "nftables.block_ip", "auth0.revoke_sessions"}
    assert "teams.notify" not in actions and "email.notify" not in actions  # not configured: not planned
    block = actions["auth0.block_user"][0]
    assert block.approval_required and block.status == "planned" and "PATCH" in block.description
    assert not actions["edl.block_ip"][0].approval_required
    # Planning again gives the same ids: the basis of idempotency.
    assert {a.action_id for a in engine.plan(ws, takeover)} == {a.action_id for v in actions.values() for a in v}
    assert edl.render(ws, "ip") == ""


def test_without_approval_only_automatic_actions_run(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    results = by_action(engine.execute(ws, takeover, hooks=nft[0]))
    assert results["edl.block_ip"][0].status == "executed" and edl.render(ws, "ip") == "81.2.69.142\n"
    assert results["slack.notify"][0].status == "executed"
    for name in ("auth0.block_user", "shopify.hold_order", "stripe.block_card", "nftables.block_ip"):
        assert all(r.status == "planned" and not r.changed and "approval" in r.detail for r in results[name])
    assert vendor.calls("PATCH") == [] and vendor.calls("POST", "/v1/radar/value_list_items") == []


def test_approved_execution_runs_once_and_is_idempotent(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    first = engine.execute(ws, takeover, approved=True, hooks=nft[0])
    assert {r.status for r in first} == {"executed"}, [(r.action, r.detail) for r in first if r.status != "executed"]
    calls, nft_runs = len(vendor.requests), len(nft[1])
    assert len(vendor.calls("PATCH")) == 2 and nft_runs == 1  # by id and by e-mail: the same user, blocked twice
    second = engine.execute(ws, takeover, approved=True, hooks=nft[0])
    assert all(not r.changed and r.status == "executed" for r in second)
    assert len(vendor.requests) == calls and len(nft[1]) == nft_runs
    rows = engine.actions(ws, takeover)
    assert {r["status"] for r in rows} == {"executed"} and all(r["actor"] == "analyst-kim" for r in rows)


def test_rollback_undoes_and_records(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    results = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))
    card, notice = results["stripe.block_card"][0], results["slack.notify"][0]
    undone = engine.rollback(ws, card.action_id[:10])  # a unique prefix is enough
    assert undone.status == "rolled_back" and vendor.calls("DELETE", "/v1/radar/value_list_items/rsli_1")
    assert engine.rollback(ws, card.action_id).changed is False  # twice: nothing more happens
    assert len(vendor.calls("DELETE", "/v1/radar/value_list_items/rsli_1")) == 1
    told = engine.rollback(ws, notice.action_id)
    assert told.status == "rolled_back" and "cannot be undone" in told.detail
    ip = results["edl.block_ip"][0]
    engine.rollback(ws, ip.action_id)
    assert edl.render(ws, "ip") == ""
    # A rolled-back action is not re-applied by a later execution.
    again = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))
    assert again["stripe.block_card"][0].status == "rolled_back" and again["stripe.block_card"][0].changed is False
    assert len([r for r in vendor.calls("POST", "/v1/radar/value_list_items") if "A0eD26C470b1Ac95" in r.form()["value"]]) == 1


def test_rollback_of_a_planned_action_cancels_it(ws, vendor, configured, takeover, nft) -> None:
    planned = by_action(engine.plan(ws, takeover))["auth0.block_user"][0]
    assert engine.rollback(ws, planned.action_id).status == "rolled_back"
    stand_in(vendor)
    engine.execute(ws, takeover, approved=True, hooks=nft[0])
    assert [r.path for r in vendor.calls("PATCH")] == ["/api/v2/users/auth0%7Cabc123"]  # only the e-mail variant ran
    with pytest.raises(engine.RespondError):
        engine.rollback(ws, "ACT-NOPE")


def test_expiry_lifts_what_must_be_lifted(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    engine.execute(ws, takeover, approved=True, hooks=nft[0])
    nft_runs = len(nft[1])
    assert engine.expire(ws) == []  # nothing is due yet
    later = datetime.now(timezone.utc) + timedelta(days=60)
    lifted = by_action(engine.expire(ws, now=later, hooks=nft[0]))
    assert all(r.status == "expired" for rs in lifted.values() for r in rs)
    assert [r.json() for r in vendor.calls("PATCH")][-2:] == [{"blocked": False}, {"blocked": False}]
    assert vendor.calls("POST", f"{API}/fulfillment_orders/9/release_hold.json")
    # The kernel drops the nftables element at its timeout: expiry runs no nft command.
    assert "drops it by itself" in lifted["nftables.block_ip"][0].detail and len(nft[1]) == nft_runs
    assert edl.entries(ws, "ip", now=later) == []
    assert {r["status"] for r in engine.actions(ws, takeover)} == {"expired"}


def test_every_change_is_audited_with_who_what_why_result(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    results = engine.execute(ws, takeover, approved=True, hooks=nft[0])
    engine.rollback(ws, results[0].action_id)
    entries = list(audit.entries(ws))
    executed = [e for e in entries if e["action"] == "respond.execute"]
    assert len(executed) == len(results)
    first = executed[0]
    assert first["actor"] == "analyst-kim" and first["what"]["incident_id"] == takeover
    assert first["why"].startswith("playbook ") and first["result"].startswith("executed: ")
    assert entries[-1]["action"] == "respond.rollback" and audit.verify(ws) == []


def test_failures_are_recorded_then_retried(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    vendor.fail("/v1/radar/value_list_items", "500", "500", "500")
    first = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))
    card = first["stripe.block_card"][0]
    assert card.status == "failed" and "HTTP 500" in card.detail and "gave up after 3" in card.detail
    row = next(r for r in engine.actions(ws, takeover) if r["action_id"] == card.action_id)
    assert row["status"] == "failed" and row["attempts"] == 1 and "HTTP 500" in row["detail"]
    retried = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))
    assert retried["stripe.block_card"][0].status == "executed" and retried["stripe.block_card"][0].changed


def test_unconfigured_adapter_fails_with_the_variable_to_set(ws, vendor, configured, takeover, nft, monkeypatch) -> None:
    monkeypatch.delenv("STOREWATCH_SHOPIFY_ACCESS_TOKEN")
    planned = by_action(engine.plan(ws, takeover))["shopify.hold_order"][0]
    assert not planned.configured and "STOREWATCH_SHOPIFY_ACCESS_TOKEN" in planned.description
    stand_in(vendor)
    result = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))["shopify.hold_order"][0]
    assert result.status == "failed" and "STOREWATCH_SHOPIFY_ACCESS_TOKEN" in result.detail
    assert vendor.calls(path=f"{API}/orders/5017998538686/fulfillment_orders.json") == []


def test_credentials_never_reach_audit_store_or_results(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    vendor.fail("/hook", "401")  # errors are where secrets usually leak
    results = engine.execute(ws, takeover, approved=True, hooks=nft[0])
    assert any(r.status == "failed" for r in results)
    plan_text = repr(engine.build_plan(ws, takeover))
    with db.opened(ws) as con:
        stored = repr(con.execute("SELECT * FROM response_actions").fetchall())
    written = (ws.home / "audit.jsonl").read_text() + stored + plan_text + repr([r.as_dict() for r in results])
    written += "".join(f.read_text() for f in (ws.home / "respond").rglob("*") if f.is_file())
    for secret in SECRET_VALUES:
        assert secret not in written, secret


def test_a_world_readable_config_file_is_refused(ws, configured, takeover) -> None:
    config = ws.home / "respond.yml"
    config.write_text("slack: {webhook_url: https://hooks.slack.com/services/x}\n")
    config.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        engine.plan(ws, takeover)
    config.chmod(0o600)
    assert engine.plan(ws, takeover)


def test_config_file_supplies_settings_when_the_environment_does_not(ws, vendor, configured, takeover, monkeypatch) -> None:
    monkeypatch.delenv("STOREWATCH_WEBHOOK_URL")
    config = ws.home / "respond.yml"
    config.write_text(f"webhook: {{url: '{vendor.url}/from-file'}}\n")
    config.chmod(0o600)
    vendor.route("POST", "/from-file", {})
    engine.execute(ws, takeover, playbook="notify-team")
    assert vendor.calls("POST", "/from-file")


def test_explicit_playbook_and_step_conditions(ws, configured) -> None:
    low = add_incident(ws, [alert("a-scan", "web_attack_scan", [("ip", "81.2.69.200")], severity="low")])
    plan = engine.build_plan(ws, low)
    assert plan.playbooks == ["block-hostile-ips"]  # notify-team wants medium or worse
    assert [a.action for a in plan.actions] == ["edl.block_ip"]  # nftables only from high severity
    forced = engine.build_plan(ws, low, playbook="contain-hosts")
    assert forced.actions == [] and any("conditions do not hold" in n for n in forced.notes)
    with pytest.raises(engine.RespondError, match="no playbook named"):
        engine.build_plan(ws, low, playbook="nope")


def test_hosts_and_operators_route_to_falcon_and_pos(ws, vendor, configured) -> None:
    malware = add_incident(ws, [alert("a-pos", "pos_malware", [("host", "POS-0031-01"), ("ip", "10.1.2.3"),
                                                               ("ip", "185.220.101.4"), ("domain", "c2.example.net")])])
    fraud = add_incident(ws, [alert("a-ref", "refund_fraud", [("employee", "T538"), ("store", "0042")],
                                    severity="medium")])
    got = by_action(engine.plan(ws, malware))
    assert [a.target for a in got["crowdstrike.contain_host"]] == ["POS-0031-01"]
    assert [a.target for a in got["edl.block_ip"]] == ["185.220.101.4"] and got["edl.block_domain"][0].target == "c2.example.net"
    assert [a.target for a in by_action(engine.plan(ws, fraud))["pos.lock_operator"]] == ["T538"]


def test_a_failed_rollback_keeps_the_action_executed_and_can_be_repeated(ws, vendor, configured, takeover, nft,
                                                                         monkeypatch) -> None:
    stand_in(vendor)
    card = by_action(engine.execute(ws, takeover, approved=True, hooks=nft[0]))["stripe.block_card"][0]
    monkeypatch.delenv("STOREWATCH_STRIPE_SECRET_KEY")
    failed = engine.rollback(ws, card.action_id)
    assert failed.status == "executed" and "STOREWATCH_STRIPE_SECRET_KEY" in failed.detail
    row = next(r for r in engine.actions(ws, takeover) if r["action_id"] == card.action_id)
    assert row["status"] == "executed" and row["detail"].startswith("undo failed")
    monkeypatch.setenv("STOREWATCH_STRIPE_SECRET_KEY", "sk_test_s3cr3t_value")
    assert engine.rollback(ws, card.action_id).status == "rolled_back"
    assert len(vendor.calls("DELETE", "/v1/radar/value_list_items/rsli_1")) == 1


def test_approving_picked_actions_runs_only_those(ws, vendor, configured, takeover, nft) -> None:
    stand_in(vendor)
    planned = by_action(engine.plan(ws, takeover))
    picked = [planned["stripe.block_card"][0].action_id, planned["edl.block_ip"][0].action_id]
    results = engine.execute(ws, takeover, approved=True, hooks=nft[0], action_ids=picked)
    assert sorted(r.action_id for r in results) == sorted(picked)
    assert {r.status for r in results} == {"executed"}
    assert vendor.calls("PATCH") == [] and nft[1] == []  # the user block and the firewall were not picked
    stored = {r["action_id"]: r["status"] for r in engine.actions(ws, takeover)}
    assert {aid for aid, status in stored.items() if status == "executed"} == set(picked)
    with pytest.raises(engine.RespondError, match="not in this incident's plan"):
        engine.execute(ws, takeover, approved=True, hooks=nft[0], action_ids=["ACT-000000000000"])
