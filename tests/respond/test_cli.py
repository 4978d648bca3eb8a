"""The commands as a user types them: dry run by default, --execute, --rollback, the listings, and
clear errors; values from logs are printed literally, secrets never."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from storewatch.cli import app
from tests.respond.support import SECRET_VALUES, SLACK_PATH, add_incident, alert

runner = CliRunner()


def brand(ws) -> str:
    return add_incident(ws, [alert("a-brand", "brand_impersonation",
                                   [("domain", "shop-login.example.net"), ("domain", "[blink]evil"), ("user", "troll")])])


def invoke(ws, *args: str):
    return runner.invoke(app, [*args, "--home", str(ws.home)])


def test_dry_run_prints_what_would_be_done_and_calls_nothing(ws, vendor, configured) -> None:
    inc = brand(ws)
    out = invoke(ws, "respond", inc)
    assert out.exit_code == 0, out.output
    assert "Dry run" in out.output and "add shop-login.example.net to the external dynamic list" in out.output
    assert "slack.notify" in out.output and "--execute" in out.output
    assert "[blink]evil" in out.output  # the skipped hostile value is shown as text, not as markup
    assert vendor.requests == []
    assert invoke(ws, "actions", "--json").exit_code == 0


def test_execute_then_rollback(ws, vendor, configured) -> None:
    vendor.route("POST", SLACK_PATH, "ok")
    vendor.route("POST", "/hook", {})
    inc = brand(ws)
    out = invoke(ws, "respond", inc, "--execute", "--json")
    assert out.exit_code == 0, out.output
    results = orjson.loads(out.output)["results"]
    assert {r["status"] for r in results} == {"executed"} and len(vendor.requests) == 2
    edl_action = next(r["action_id"] for r in results if r["action"] == "edl.block_domain")
    undone = invoke(ws, "respond", "--rollback", edl_action)
    assert undone.exit_code == 0 and "rolled_back" in undone.output
    rows = orjson.loads(invoke(ws, "actions", "--incident", inc, "--json").output)
    assert {r["action_id"]: r["status"] for r in rows}[edl_action] == "rolled_back"
    listing = invoke(ws, "actions").output
    for secret in SECRET_VALUES:
        assert secret not in out.output + undone.output + listing


def test_failed_actions_make_the_command_fail(ws, vendor, configured) -> None:
    vendor.fail("/services/", "500", "500", "500")
    vendor.route("POST", "/hook", {})
    out = invoke(ws, "respond", brand(ws), "--execute")
    assert out.exit_code == 1 and "failed" in out.output and "HTTP 500" in out.output


def test_listings_and_errors(ws, configured) -> None:
    books = invoke(ws, "playbooks")
    assert books.exit_code == 0 and "block-hostile-ips" in books.output and "needs approval" in books.output
    acts = invoke(ws, "playbooks", "--actions", "--json")
    assert "STOREWATCH_AUTH0_CLIENT_SECRET" in acts.output and "crowdstrike.contain_host" in acts.output
    brand(ws)  # a workspace with a store: the errors below are about the ids, not a missing workspace
    missing = invoke(ws, "respond", "INC-NOPE")
    assert missing.exit_code == 1 and "no single incident" in missing.output and "Traceback" not in missing.output
    assert invoke(ws, "respond").exit_code == 1
    assert "no single action" in invoke(ws, "respond", "--rollback", "ACT-NOPE").output
