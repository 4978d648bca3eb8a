"""Each adapter against a local stand-in that checks the vendor's documented request shape (method, path,
headers, body), and the far side's failures: 401, 429 with Retry-After, 500, a hang."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_string, policy
from subprocess import CompletedProcess

import pytest

from storewatch.respond.adapters import ADAPTERS
from storewatch.respond.adapters.base import Job
from storewatch.respond.config import Settings
from storewatch.respond.http import SETTINGS as HTTP_SETTINGS
from storewatch.respond.http import AdapterError, Http
from tests.respond.support import SLACK_PATH

INCIDENT = {"id": "INC-TEST", "title": "Takeover <script>alert(1)</script>", "scenario": "account_takeover",
            "severity": "critical", "risk_score": 92, "summary": "kim's account <!channel> was taken over",
            "first_seen": "2026-11-16T10:00:00Z", "last_seen": "2026-11-16T10:30:00Z", "stores": ["0042"],
            "entities": [{"type": "email", "value": "kim@example.com"}]}


def job(ws, action_id: str = "ACT-TEST") -> Job:
    return Job(action_id, INCIDENT, "playbook test for INC-TEST", datetime.now(timezone.utc) + timedelta(days=1), ws)


def adapter(ws, name: str, run=None):
    settings = Settings.load(ws)
    cls = ADAPTERS[name]
    kwargs = {"run": run} if run else {}
    return cls(settings.section(name, cls.settings), Http.from_settings(settings.section("http", HTTP_SETTINGS)), **kwargs)


# ------------------------------------------------------------------------------------------ Auth0

def test_auth0_token_then_block_by_email_and_unblock(ws, vendor, configured) -> None:
    vendor.route("POST", "/oauth/token", {"access_token": "mgmt-token", "token_type": "Bearer", "expires_in": 86400})
    vendor.route("GET", "/api/v2/users-by-email", [{"user_id": "auth0|abc123", "email": "kim@example.com"}])
    vendor.route("PATCH", "/api/v2/users/auth0%7Cabc123", {"user_id": "auth0|abc123", "blocked": True})
    a = adapter(ws, "auth0")
    out = a.apply("block_user", "kim@example.com", {}, job(ws))
    token = vendor.calls("POST", "/oauth/token")[0]
    assert token.json() == {"grant_type": "client_credentials", "client_id": "m2m-client",
                            "client_secret": "auth0-s3cr3t-value", "audience": "https://shop.eu.auth0.com/api/v2/"}
    lookup = vendor.calls("GET", "/api/v2/users-by-email")[0]
    assert lookup.query == {"email": "kim@example.com"} and lookup.headers["authorization"] == "Bearer mgmt-token"
    patch = vendor.calls("PATCH")[0]
    assert patch.json() == {"blocked": True} and patch.headers["content-type"] == "application/json"
    assert out.state == {"user_ids": ["auth0|abc123"]}
    a.undo("block_user", "kim@example.com", {}, out.state, job(ws))
    assert vendor.calls("PATCH")[-1].json() == {"blocked": False}
    assert len(vendor.calls("POST", "/oauth/token")) == 1  # the token is reused


def test_auth0_revoke_deletes_sessions_and_refresh_tokens(ws, vendor, configured) -> None:
    vendor.route("POST", "/oauth/token", {"access_token": "t1"})
    vendor.route("DELETE", "/api/v2/users/auth0%7Cabc123/sessions", None, status=202)
    vendor.route("DELETE", "/api/v2/users/auth0%7Cabc123/refresh-tokens", None, status=202)
    adapter(ws, "auth0").apply("revoke_sessions", "auth0|abc123", {}, job(ws))
    # The user id is percent-encoded in the path, as the API expects.
    assert [(r.method, r.path) for r in vendor.requests[1:]] == [
        ("DELETE", "/api/v2/users/auth0%7Cabc123/sessions"), ("DELETE", "/api/v2/users/auth0%7Cabc123/refresh-tokens")]


def test_auth0_expired_token_is_renewed_once_then_401_fails(ws, vendor, configured) -> None:
    vendor.route("POST", "/oauth/token", {"access_token": "t"})
    vendor.route("PATCH", "/api/v2/users/auth0%7Cabc123", {})
    vendor.fail("/api/v2/users/", "401")
    adapter(ws, "auth0").apply("block_user", "auth0|abc123", {}, job(ws))
    assert len(vendor.calls("POST", "/oauth/token")) == 2 and len(vendor.calls("PATCH")) == 2
    vendor.fail("/api/v2/users/", "401", "401")
    with pytest.raises(AdapterError, match="401 Unauthorized"):
        adapter(ws, "auth0").apply("block_user", "auth0|abc123", {}, job(ws))


# ------------------------------------------------------------------------------------ CrowdStrike

def test_crowdstrike_finds_host_and_contains_then_lifts(ws, vendor, configured) -> None:
    vendor.route("POST", "/oauth2/token", {"access_token": "falcon-token", "expires_in": 1799}, status=201)
    vendor.route("GET", "/devices/queries/devices/v1", {"resources": ["aid-123"], "errors": []})
    vendor.route("POST", "/devices/entities/devices-actions/v2", {"resources": [{"id": "aid-123"}]}, status=202)
    a = adapter(ws, "crowdstrike")
    out = a.apply("contain_host", "POS-0031-01", {}, job(ws))
    token = vendor.calls("POST", "/oauth2/token")[0]
    assert token.form() == {"client_id": "falcon-client", "client_secret": "falcon-s3cr3t-value"}
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert vendor.calls("GET")[0].query == {"filter": "hostname:'POS-0031-01'"}
    contain = vendor.calls("POST", "/devices/entities/devices-actions/v2")[0]
    assert contain.query == {"action_name": "contain"} and contain.json() == {"ids": ["aid-123"]}
    assert contain.headers["authorization"] == "Bearer falcon-token"
    a.undo("contain_host", "POS-0031-01", {}, out.state, job(ws))
    lift = vendor.calls("POST", "/devices/entities/devices-actions/v2")[-1]
    assert lift.query == {"action_name": "lift_containment"} and lift.json() == {"ids": ["aid-123"]}


def test_crowdstrike_internal_ip_unknown_and_hostile_hosts(ws, vendor, configured) -> None:
    vendor.route("POST", "/oauth2/token", {"access_token": "t"})
    vendor.route("GET", "/devices/queries/devices/v1", {"resources": []})
    with pytest.raises(AdapterError, match="no host matching local_ip:'10.0.3.20'"):
        adapter(ws, "crowdstrike").apply("contain_host", "10.0.3.20", {}, job(ws))
    assert vendor.calls("GET")[0].query == {"filter": "local_ip:'10.0.3.20'"}
    with pytest.raises(AdapterError, match="neither a host name nor an IP"):
        adapter(ws, "crowdstrike").apply("contain_host", "x' OR hostname:'*", {}, job(ws))
    assert len(vendor.calls("GET")) == 1


# ---------------------------------------------------------------------------------------- Shopify

def test_shopify_holds_open_fulfillment_orders_and_releases(ws, vendor, configured) -> None:
    api = "/admin/api/2025-01"
    vendor.route("GET", f"{api}/orders/5017998538686/fulfillment_orders.json", {"fulfillment_orders": [
        {"id": 111, "status": "open"}, {"id": 222, "status": "closed"}]})
    vendor.route("POST", f"{api}/fulfillment_orders/111/hold.json", {"fulfillment_order": {"id": 111, "status": "on_hold"}})
    vendor.route("POST", f"{api}/fulfillment_orders/111/release_hold.json", {"fulfillment_order": {"id": 111}})
    a = adapter(ws, "shopify")
    out = a.apply("hold_order", "5017998538686", {}, job(ws))
    hold = vendor.calls("POST", f"{api}/fulfillment_orders/111/hold.json")[0]
    assert hold.headers["x-shopify-access-token"] == "shpat_s3cr3t_value"
    body = hold.json()["fulfillment_hold"]
    assert body["reason"] == "high_risk_of_fraud" and "ACT-TEST" in body["reason_notes"]
    assert out.state["fulfillment_order_ids"] == ["111"]  # the closed one is left alone
    a.undo("hold_order", "5017998538686", {}, out.state, job(ws))
    assert vendor.calls("POST", f"{api}/fulfillment_orders/111/release_hold.json")


def test_shopify_order_name_is_looked_up(ws, vendor, configured) -> None:
    api = "/admin/api/2025-01"
    vendor.route("GET", f"{api}/orders.json", {"orders": [{"id": 42, "name": "#1001"}]})
    vendor.route("GET", f"{api}/orders/42/fulfillment_orders.json", {"fulfillment_orders": [{"id": 7, "status": "closed"}]})
    with pytest.raises(AdapterError, match="no open fulfillment order"):
        adapter(ws, "shopify").apply("hold_order", "#1001", {}, job(ws))
    assert vendor.calls("GET", f"{api}/orders.json")[0].query["name"] == "#1001"


# ----------------------------------------------------------------------------------------- Stripe

def test_stripe_adds_value_list_item_form_encoded_and_deletes_it(ws, vendor, configured) -> None:
    vendor.route("POST", "/v1/radar/value_list_items", {"id": "rsli_1", "object": "radar.value_list_item"})
    vendor.route("DELETE", "/v1/radar/value_list_items/rsli_1", {"id": "rsli_1", "deleted": True})
    a = adapter(ws, "stripe")
    out = a.apply("block_card", "A0eD26C470b1Ac95", {}, job(ws))
    req = vendor.calls("POST")[0]
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert req.form() == {"value_list": "rsl_cards", "value": "A0eD26C470b1Ac95"}
    assert req.headers["authorization"] == "Bearer sk_test_s3cr3t_value" and req.headers["idempotency-key"] == "ACT-TEST"
    a.undo("block_card", "A0eD26C470b1Ac95", {}, out.state, job(ws))
    assert vendor.calls("DELETE")[0].path == "/v1/radar/value_list_items/rsli_1"


def test_stripe_missing_list_says_which_variable(ws, vendor, configured, monkeypatch) -> None:
    monkeypatch.delenv("STOREWATCH_STRIPE_EMAIL_LIST")
    with pytest.raises(AdapterError, match="STOREWATCH_STRIPE_EMAIL_LIST"):
        adapter(ws, "stripe").apply("block_email", "kim@example.com", {}, job(ws))
    assert vendor.requests == []


# ---------------------------------------------------------------------- POS, Slack, Teams, webhook

def test_pos_webhook_contract(ws, vendor, configured) -> None:
    vendor.route("POST", "/pos/hook", {"ok": True})
    a = adapter(ws, "pos")
    a.apply("lock_operator", "T538", {}, job(ws))
    a.undo("lock_operator", "T538", {}, {}, job(ws))
    lock, unlock = vendor.calls("POST", "/pos/hook")
    assert lock.json()["event"] == "storewatch.pos.lock_operator" and unlock.json()["event"] == "storewatch.pos.unlock_operator"
    assert lock.json()["employee_id"] == "T538" and lock.json()["store_ids"] == ["0042"]
    assert lock.headers["authorization"] == "Bearer pos-s3cr3t-value" and lock.headers["idempotency-key"] == "ACT-TEST"


def test_slack_text_is_escaped_and_url_never_shown(ws, vendor, configured) -> None:
    path = SLACK_PATH
    vendor.route("POST", path, "ok")
    a = adapter(ws, "slack")
    a.apply("notify", "INC-TEST", {}, job(ws))
    text = vendor.calls("POST", path)[0].json()["text"]
    assert "&lt;script&gt;" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "slack-s3cr3t-path" not in a.describe("notify", "INC-TEST", {}, job(ws))
    vendor.fail(path, "500", "500", "500")
    with pytest.raises(AdapterError) as exc:
        a.apply("notify", "INC-TEST", {}, job(ws))
    assert "HTTP 500" in str(exc.value) and "slack-s3cr3t-path" not in str(exc.value)


def test_teams_posts_an_adaptive_card(ws, vendor, configured, monkeypatch) -> None:
    monkeypatch.setenv("STOREWATCH_TEAMS_WEBHOOK_URL", f"{vendor.url}/teams/hook")
    vendor.route("POST", "/teams/hook", None, status=202)
    adapter(ws, "teams").apply("notify", "INC-TEST", {"text": "{severity}: {title}"}, job(ws))
    body = vendor.calls("POST", "/teams/hook")[0].json()
    attachment = body["attachments"][0]
    assert body["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"][1]["text"] == "critical: Takeover <script>alert(1)</script>"


def test_generic_webhook_body_and_bearer(ws, vendor, configured) -> None:
    vendor.route("POST", "/hook", {})
    adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))
    req = vendor.calls("POST", "/hook")[0]
    assert req.headers["authorization"] == "Bearer hook-s3cr3t-value"
    assert req.json()["incident"]["id"] == "INC-TEST" and req.json()["source"] == "storewatch"


# ----------------------------------------------------------------------------- failures far away

def test_429_retry_after_is_honoured_then_succeeds(ws, vendor, configured, waits) -> None:
    vendor.route("POST", "/hook", {})
    vendor.fail("/hook", ("429", 3))
    adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))
    assert waits == [3.0] and len(vendor.calls("POST", "/hook")) == 2


def test_retry_after_above_the_cap_fails_without_waiting(ws, vendor, configured, waits) -> None:
    vendor.fail("/hook", ("429", 3600))
    with pytest.raises(AdapterError, match="retry after 3600 s"):
        adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))
    assert waits == [] and len(vendor.requests) == 1


def test_5xx_is_retried_a_bounded_number_of_times(ws, vendor, configured, waits) -> None:
    vendor.fail("/hook", "500", "503", "500", "500")
    with pytest.raises(AdapterError, match="gave up after 3 attempt"):
        adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))
    assert len(vendor.requests) == 3 and waits == [1.0, 2.0]


def test_a_hanging_vendor_times_out_and_is_retried(ws, vendor, configured, waits) -> None:
    vendor.route("POST", "/hook", {})
    vendor.fail("/hook", "hang")
    adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))
    assert len(vendor.requests) == 2 and len(waits) == 1
    vendor.fail("/hook", "hang", "hang", "hang")
    with pytest.raises(AdapterError, match="no answer within 0.5 s"):
        adapter(ws, "webhook").apply("notify", "INC-TEST", {}, job(ws))


def test_no_client_no_calls_in_a_dry_run(ws, configured) -> None:
    cls = ADAPTERS["webhook"]
    dry = cls(Settings.load(ws).section("webhook", cls.settings))
    with pytest.raises(AdapterError, match="dry run"):
        dry.apply("notify", "INC-TEST", {}, job(ws))


# ---------------------------------------------------------------------------------------- e-mail

def test_email_over_smtp_with_login_and_a_temporary_failure(ws, configured, smtp, monkeypatch) -> None:
    for key, value in {"HOST": "127.0.0.1", "PORT": str(smtp.port), "SENDER": "storewatch@shop.example",
                       "TO": "soc@shop.example, cto@shop.example", "USERNAME": "mailer", "PASSWORD": "smtp-s3cr3t",
                       "STARTTLS": "false"}.items():
        monkeypatch.setenv(f"STOREWATCH_EMAIL_{key}", value)
    smtp.temporary = 1
    adapter(ws, "email").apply("notify", "INC-TEST", {}, job(ws))
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert [r.upper() for r in sent["rcpt"]] == ["RCPT TO:<SOC@SHOP.EXAMPLE>", "RCPT TO:<CTO@SHOP.EXAMPLE>"]
    mail = message_from_string(sent["data"], policy=policy.default)
    assert mail["Subject"].strip().startswith("[storewatch] critical incident INC-TEST") and "taken over" in mail.get_content()
    assert smtp.auth and smtp.auth[-1].startswith("AUTH PLAIN")


# -------------------------------------------------------------------------------------- nftables

def test_nftables_file_sets_a_timeout_and_is_applied_with_nft_f(ws, configured) -> None:
    ran: list[list[str]] = []

    def runner(argv):
        ran.append(list(argv))
        return CompletedProcess(argv, 0, "", "")

    a = adapter(ws, "nftables", run=runner)
    out = a.apply("block_ip", "203.0.113.9", {}, job(ws))
    text = (ws.home / "respond" / "nftables" / "ACT-TEST.nft").read_text()
    assert ran == [["nft", "-f", out.state["file"]]]
    assert "add set inet storewatch blocklist_v4 { type ipv4_addr; flags interval, timeout; }" in text
    element = [line for line in text.splitlines() if line.startswith("add element")]
    assert len(element) == 1 and element[0].startswith("add element inet storewatch blocklist_v4 { 203.0.113.9 timeout ")
    assert 86000 < int(element[0].split("timeout ")[1].rstrip("s }")) <= 86400
    assert text.count("flush chain inet storewatch input") == 1  # re-applying never duplicates the drop rule
    a.undo("block_ip", "203.0.113.9", {}, out.state, job(ws))
    assert "delete element inet storewatch blocklist_v4 { 203.0.113.9 }" in (ws.home / "respond" / "nftables" / "ACT-TEST.undo.nft").read_text()


def test_nftables_ipv6_networks_go_to_the_v6_set_and_junk_never_reaches_the_file(ws, configured) -> None:
    a = adapter(ws, "nftables", run=lambda argv: CompletedProcess(argv, 0, "", ""))
    assert "blocklist_v6 { 2001:db8::/64 timeout" in a.commands("2001:db8::1/64", job(ws))
    with pytest.raises(AdapterError, match="not an IP"):
        a.commands("1.2.3.4 }; flush ruleset; #", job(ws))


def test_nftables_missing_nft_keeps_the_file_and_says_what_to_run(ws, configured, monkeypatch) -> None:
    monkeypatch.setenv("STOREWATCH_NFTABLES_NFT", "nft-not-installed-here")
    with pytest.raises(AdapterError, match="not installed here.*nft -f") as exc:
        adapter(ws, "nftables").apply("block_ip", "203.0.113.9", {}, job(ws))
    assert (ws.home / "respond" / "nftables" / "ACT-TEST.nft").exists() and "as root" in str(exc.value)


def test_nftables_failure_and_already_expired_element(ws, configured) -> None:
    failing = adapter(ws, "nftables", run=lambda argv: CompletedProcess(argv, 1, "", "Error: Operation not permitted"))
    with pytest.raises(AdapterError, match="Operation not permitted"):
        failing.apply("block_ip", "203.0.113.9", {}, job(ws))
    gone = adapter(ws, "nftables", run=lambda argv: CompletedProcess(argv, 1, "", "Error: No such file or directory"))
    assert "removed" in gone.undo("block_ip", "203.0.113.9", {}, {}, job(ws))
