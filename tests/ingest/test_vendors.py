"""Vendor API sources as the vendors answer and push them: Stripe, Shopify, Auth0, X API v2.

Real samples (tests/data/real/vendors, see SOURCES.md) are read file by file; each test asserts the fields
against the raw records and the accounting (every record stored, quarantined with a reason, or a duplicate).
Shapes no permissively licensed recording was found for are built here from the vendors' documented shapes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "vendors"


def read_whole(report, stored: int, quarantined: int = 0) -> None:
    """One file, read whole: every record stored or quarantined with a reason, none lost."""
    (f,) = report.files
    assert (f.read, f.stored, f.quarantined, f.duplicates) == (stored + quarantined, stored, quarantined, 0), f


def events(query, columns: str, order: str = "source_line") -> list[dict]:
    return query(f"SELECT {columns} FROM events ORDER BY {order}")


def attrs(row: dict) -> dict:
    return json.loads(row["attributes"])


# --- Stripe -----------------------------------------------------------------------------------------------


def test_stripe_bare_charge_pretty_printed(run, query) -> None:
    report = run(REAL / "stripe" / "charge.json")
    read_whole(report, 1)
    assert report.files[0].source_format == "stripe+document"
    (row,) = events(query, "time, activity, outcome, amount, currency, card_brand, card_last4, card_fingerprint, "
                           "country, person_name, transaction_id, attributes")
    assert row["time"] == datetime.fromtimestamp(1234567890, UTC)
    assert (row["activity"], row["outcome"]) == ("charge", "success")
    assert (row["amount"], row["currency"]) == (Decimal("1.00"), "USD")  # "amount": 100, "currency": "usd"
    assert (row["card_brand"], row["card_last4"], row["card_fingerprint"], row["country"]) == ("visa", "4242", "AOB934RVNwzk6xtn", "US")
    assert (row["person_name"], row["transaction_id"]) == ("Jenny Rosen", "ch_1PgafuB7WZ01zgkWXYmPNZs8")
    assert attrs(row) | {"cvc_check": "pass", "funding": "credit", "paid": True, "refunded": False} == attrs(row)


def test_stripe_objects_as_another_sdk_recorded_them(run, query) -> None:
    # dj-stripe's fixtures: a charge, a payment intent and a dispute under review whose funds were reinstated
    for name in ("djstripe-charge.json", "djstripe-payment-intent.json", "djstripe-dispute-funds-reinstated.json"):
        read_whole(run(REAL / "stripe" / name), 1)
    rows = {r["activity"]: r for r in events(query, "time, activity, outcome, reason, amount, currency, card_brand, "
                                                     "card_last4, transaction_id, user_id, country, attributes")}
    charge = rows["charge"]
    assert (charge["time"], charge["outcome"], charge["reason"]) == (
        datetime.fromtimestamp(1557995177, UTC), "success", "Payment complete.")
    assert (charge["amount"], charge["currency"], charge["card_brand"], charge["card_last4"]) == (Decimal("20.00"), "USD", "visa", "4242")
    assert (charge["transaction_id"], charge["user_id"], charge["country"]) == ("ch_fakefakefakefakefake0001", "cus_6lsBvm5rJ0zyHc", "US")
    intent = rows["payment_intent"]
    assert (intent["time"], intent["outcome"], intent["amount"], intent["user_id"]) == (
        datetime.fromtimestamp(1562801159, UTC), "success", Decimal("20.00"), "cus_6lsBvm5rJ0zyHc")
    dispute = rows["dispute"]
    assert (dispute["time"], dispute["reason"], dispute["amount"], dispute["transaction_id"]) == (
        datetime.fromtimestamp(1625755540, UTC), "fraudulent", Decimal("10.00"), "ch_fakefakefakefakefake0001")
    assert attrs(dispute)["dispute_status"] == "under_review"


def test_stripe_list_response_is_opened(run, query) -> None:
    report = run(REAL / "stripe" / "disputes_list.json")
    read_whole(report, 1)
    (row,) = events(query, "activity, outcome, amount, currency, reason, transaction_id, card_brand, attributes")
    assert (row["activity"], row["outcome"], row["reason"]) == ("dispute", "unknown", "general")
    assert (row["amount"], row["currency"], row["card_brand"]) == (Decimal("10.00"), "USD", "visa")
    assert row["transaction_id"] == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert attrs(row)["dispute_status"] == "warning_needs_response"


def test_stripe_bare_objects_one_per_line(run, query) -> None:
    report = run(REAL / "stripe" / "objects.jsonl")
    read_whole(report, 8)
    assert report.files[0].source_format == "stripe"
    rows = events(query, "activity, outcome, amount, email, reason, transaction_id, attributes")
    assert [r["activity"] for r in rows] == ["charge", "dispute", "early_fraud_warning", "payment_intent", "refund",
                                             "checkout", "balance_transaction", "review"]
    efw, intent, refund, session, txn, review = rows[2], rows[3], rows[4], rows[5], rows[6], rows[7]
    assert (efw["reason"], efw["transaction_id"], efw["amount"]) == ("misc", "ch_1234", None)
    assert (intent["amount"], intent["outcome"]) == (Decimal("10.99"), "unknown")  # status requires_payment_method
    assert (refund["amount"], refund["outcome"], refund["transaction_id"]) == (Decimal("1.00"), "success", "ch_1PgafuB7WZ01zgkWXYmPNZs8")
    assert session["email"] == "example@example.com" and attrs(session)["payment_intent"] == "pi_1PgafyB7WZ01zgkWSjxsAJo3"
    assert (txn["amount"], attrs(txn)["reporting_category"]) == (Decimal("1.00"), "charge")
    assert (review["transaction_id"], attrs(review)["review_opened_reason"]) == ("ch_1PgafuB7WZ01zgkWXYmPNZs8", "rule")


def test_stripe_webhook_bodies_one_per_file_and_one_per_line(run, query, tmp_path: Path) -> None:
    """Webhook receivers store each event body as it came (pretty or not): one per file, or one per line."""
    charge = orjson.loads((REAL / "stripe" / "charge.json").read_bytes())
    event = {"id": "evt_1", "object": "event", "api_version": "2024-06-20", "created": 1794787200,
             "type": "charge.failed", "data": {"object": {**charge, "status": "failed", "paid": False,
                                                          "failure_code": "card_declined"}}}
    (tmp_path / "evt_1.json").write_bytes(orjson.dumps(event, option=orjson.OPT_INDENT_2))
    read_whole(run(tmp_path / "evt_1.json"), 1)
    lines = tmp_path / "events.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps({**event, "id": f"evt_{i}", "created": 1794787200 + i}) for i in range(2, 5)))
    read_whole(run(lines), 3)
    rows = events(query, "time, outcome, reason, event_code, card_last4", "time")
    assert [r["outcome"] for r in rows] == ["failure"] * 4
    assert {(r["reason"], r["event_code"], r["card_last4"]) for r in rows} == {("card_declined", "charge.failed", "4242")}


def test_stripe_amounts_follow_the_currency_minor_unit(run, query, tmp_path: Path) -> None:
    """https://docs.stripe.com/currencies: zero-decimal currencies are whole units, three-decimal ones are
    thousandths, the rest hundredths (ISK included: it is sent with two decimals)."""
    cases = {"usd": (5000, "50.00"), "jpy": (5000, "5000"), "krw": (12000, "12000"), "kwd": (5120, "5.12"),
             "isk": (50000, "500.00")}
    path = tmp_path / "charges.jsonl"
    path.write_text("".join(json.dumps({"id": f"ch_{c}", "object": "charge", "created": 1794787200, "amount": a,
                                        "currency": c, "status": "succeeded"}) + "\n" for c, (a, _) in cases.items()))
    run(path)
    got = {r["currency"]: r["amount"] for r in events(query, "currency, amount")}
    assert got == {c.upper(): Decimal(v) for c, (_, v) in cases.items()}


# --- Shopify ----------------------------------------------------------------------------------------------


def test_shopify_single_order_response(run, query) -> None:
    report = run(REAL / "shopify" / "order.json")  # {"order": {...}}
    read_whole(report, 1)
    assert report.files[0].source_format == "shopify+document"
    (row,) = events(query, "time, class_name, activity, outcome, amount, currency, email, user_id, order_id, "
                           "card_last4, card_brand, reason, attributes")
    assert row["time"] == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)  # "2008-01-10T11:00:00-05:00"
    assert (row["class_name"], row["activity"], row["outcome"], row["reason"]) == ("Order", "order", "success", "authorized")
    assert (row["amount"], row["currency"], row["email"]) == (Decimal("409.94"), "USD", "bob.norman@hostmail.com")
    assert (row["user_id"], row["order_id"], row["card_last4"], row["card_brand"]) == ("207119551", "450789469", "4242", "visa")
    assert attrs(row)["discount_codes"] == ["TENOFF"] and attrs(row)["gateways"] == ["authorize_net"]


def test_shopify_order_list_pretty_and_minified(run, query, tmp_path: Path) -> None:
    read_whole(run(REAL / "shopify" / "orders.json"), 1)
    minified = tmp_path / "orders.min.json"  # the same response saved on one line
    minified.write_bytes(orjson.dumps(orjson.loads((REAL / "shopify" / "orders.json").read_bytes())))
    (f,) = run(minified).files
    assert (f.read, f.duplicates) == (1, 1)  # the very same record as the pretty-printed response's
    rows = events(query, "amount, reason, src_ip, attributes")
    assert [(r["amount"], r["reason"], r["src_ip"]) for r in rows] == [(Decimal("598.94"), "partially_refunded", "0.0.0.0")]
    assert attrs(rows[0])["gateways"] == ["bogus"]


def test_shopify_refund_and_transactions(run, query) -> None:
    read_whole(run(REAL / "shopify" / "refund.json"), 1)
    read_whole(run(REAL / "shopify" / "transactions.json"), 1)  # a bare array
    refund, txn = events(query, "class_name, activity, outcome, amount, currency, order_id, transaction_id, reason, "
                                "card_last4, card_brand, attributes", "activity DESC")
    assert (refund["class_name"], refund["activity"], refund["outcome"]) == ("Payment", "refund", "success")
    assert (refund["amount"], refund["currency"], refund["order_id"]) == (Decimal("209.00"), "USD", "450789469")
    assert (refund["transaction_id"], refund["reason"]) == ("509562969", "it broke during shipping")
    assert attrs(refund)["restock"] is True and attrs(refund)["gateway"] == "bogus"
    assert (txn["class_name"], txn["activity"], txn["outcome"], txn["amount"]) == ("Payment", "charge", "success", Decimal("409.94"))
    assert (txn["card_last4"], txn["card_brand"], txn["order_id"]) == ("4242", "visa", "450789469")


def test_shopify_webhook_bodies_one_per_line(run, query, tmp_path: Path) -> None:
    """`orders/create` webhook bodies are bare order objects; a receiver appends one per line."""
    order = orjson.loads((REAL / "shopify" / "order.json").read_bytes())["order"]
    path = tmp_path / "orders_create.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({**order, "id": order["id"] + i, "browser_ip": f"198.51.100.{i}",
                                              "client_details": {"user_agent": "Mozilla/5.0 (X11)"}}) for i in range(3)))
    report = run(path)
    read_whole(report, 3)
    assert report.files[0].source_format == "shopify"
    rows = events(query, "src_ip, user_agent, order_id")
    assert [(r["src_ip"], r["user_agent"], r["order_id"]) for r in rows] == [
        (f"198.51.100.{i}", "Mozilla/5.0 (X11)", str(450789469 + i)) for i in range(3)]


def test_shopify_graphql_orders_connection(run, query, tmp_path: Path) -> None:
    """GraphQL Admin API: data > orders > edges > node, camelCase fields, money in totalPriceSet.shopMoney."""
    node = {"id": "gid://shopify/Order/5551", "name": "#1051", "createdAt": "2026-11-16T10:00:00Z",
            "email": "Ann@example.com", "displayFinancialStatus": "PAID", "clientIp": "203.0.113.5",
            "totalPriceSet": {"shopMoney": {"amount": "25.50", "currencyCode": "EUR"}},
            "discountCodes": ["WELCOME10"], "paymentGatewayNames": ["shopify_payments"],
            "customer": {"id": "gid://shopify/Customer/77", "email": "ann@example.com"},
            "shippingAddress": {"firstName": "Ann", "lastName": "Lee", "city": "Lyon", "countryCodeV2": "FR"}}
    doc = {"data": {"orders": {"edges": [{"cursor": "c1", "node": node}, {"cursor": "c2", "node": {**node, "id": "gid://shopify/Order/5552", "cancelledAt": "2026-11-16T11:00:00Z"}}],
                               "pageInfo": {"hasNextPage": False}}},
           "extensions": {"cost": {"requestedQueryCost": 12}}}
    path = tmp_path / "orders_graphql.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    read_whole(run(path), 2)
    rows = events(query, "time, activity, outcome, amount, currency, email, src_ip, country, person_name, order_id, reason, attributes")
    assert [(r["activity"], r["outcome"]) for r in rows] == [("order", "success"), ("order_cancelled", "failure")]
    r = rows[0]
    assert (r["time"], r["amount"], r["currency"], r["email"]) == (datetime(2026, 11, 16, 10, tzinfo=UTC), Decimal("25.50"), "EUR", "ann@example.com")
    assert (r["src_ip"], r["country"], r["person_name"], r["order_id"], r["reason"]) == ("203.0.113.5", "FR", "Ann Lee", "gid://shopify/Order/5551", "paid")
    assert attrs(r)["discount_codes"] == ["WELCOME10"] and attrs(r)["gateways"] == ["shopify_payments"]


# --- Auth0 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, count", [("log.json", 1), ("logs_list.json", 2), ("logs_paged_list.json", 2)])
def test_auth0_management_api_logs(run, query, name: str, count: int) -> None:
    """`GET /api/v2/logs/{id}`, `GET /api/v2/logs`, and the same with `include_totals=true`."""
    report = run(REAL / "auth0" / name)
    read_whole(report, count)
    assert report.files[0].source_format == "auth0+document"
    rows = events(query, "time, event_code, src_ip, user_id, attributes")
    assert rows[0]["time"] == datetime(2016, 2, 23, 19, 57, 29, 532000, tzinfo=UTC)
    assert (rows[0]["event_code"], rows[0]["src_ip"], rows[0]["user_id"]) == ("sapi", "190.257.209.19", "auth0|56c75c4e42b6359e98374bc2")
    assert [attrs(r)["client_name"] for r in rows] == ["My Game", "My Application"][:count]


def test_auth0_amazon_eventbridge_events(run, query, tmp_path: Path) -> None:
    """Auth0's EventBridge log stream: each log event is an EventBridge event whose `detail` is the log-stream
    envelope, one per line (CloudWatch, Firehose) or pretty-printed; another source's EventBridge event is no
    Auth0 log."""
    def bridged(log: dict) -> dict:
        return {"version": "0", "id": "6b4bc671-0217-46ca-8ee0-e663c94abd91", "detail-type": "Auth0 log",
                "source": "aws.partner/auth0.com/shop-2308531e/auth0.logs", "account": "123456789012",
                "time": "2026-01-16T12:12:43Z", "region": "eu-west-1", "resources": [],
                "detail": {"log_id": log["log_id"], "data": log}}
    fp = {"date": "2026-01-16T12:12:30.147Z", "type": "fp", "description": "Wrong email or password.",
          "connection": "Username-Password-Authentication", "client_name": "Shop", "ip": "203.0.113.9",
          "user_id": "auth0|6012d7ec", "user_name": "alice@example.com",
          "log_id": "90020260116121232560015923748216455316604749397232713763"}
    ok = {**fp, "type": "s", "date": "2026-01-16T12:13:01.000Z", "description": None,
          "log_id": "90020260116121301000015923748216455316604749397232713764"}
    lines = tmp_path / "auth0-eventbridge.jsonl"
    lines.write_text(json.dumps(bridged(fp)) + "\n" + json.dumps(bridged(ok)) + "\n")
    read_whole(run(lines), 2)
    pretty = tmp_path / "auth0-eventbridge-pretty.json"
    pretty.write_text(json.dumps(bridged({**fp, "ip": "198.51.100.7", "log_id": "900202601161212"}), indent=2))
    read_whole(run(pretty), 1)
    rows = events(query, "time, event_code, activity, outcome, user_name, src_ip, reason", "source_file, source_line")
    assert [(r["time"], r["event_code"], r["activity"], r["outcome"], r["user_name"], r["src_ip"]) for r in rows] == [
        (datetime(2026, 1, 16, 12, 12, 30, 147000, tzinfo=UTC), "fp", "logon", "failure", "alice@example.com", "198.51.100.7"),
        (datetime(2026, 1, 16, 12, 12, 30, 147000, tzinfo=UTC), "fp", "logon", "failure", "alice@example.com", "203.0.113.9"),
        (datetime(2026, 1, 16, 12, 13, 1, tzinfo=UTC), "s", "logon", "success", "alice@example.com", "203.0.113.9"),
    ]  # the pretty-printed file sorts first
    assert rows[1]["reason"] == "Wrong email or password."
    other = tmp_path / "ec2-eventbridge.jsonl"
    other.write_text(json.dumps({**bridged(fp), "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
                                 "detail": {"instance-id": "i-0abcd", "state": "running", "date": "x", "type": "y", "ip": "z"}}) + "\n")
    assert run(other).files[0].source_format != "auth0"


def test_auth0_log_stream_envelopes_one_per_line(run, query) -> None:
    report = run(REAL / "auth0" / "log_stream.jsonl")
    read_whole(report, 11)
    assert report.files[0].source_format == "auth0+document"
    rows = {r["event_code"]: r for r in events(query, "time, event_code, activity, outcome, user_name, email, user_id, "
                                                      "src_ip, user_agent, reason, url_host, attributes")}
    fcoa, leak, limit = rows["fcoa"], rows["pwd_leak"], rows["limit_wc"]
    assert fcoa["time"] == datetime(2024, 10, 29, 18, 52, 51, 953000, tzinfo=UTC)
    assert (fcoa["activity"], fcoa["outcome"], fcoa["src_ip"]) == ("logon", "failure", "2605:59c8:3075:214:d003:e902:2b01:dc14")
    assert fcoa["reason"] == "Unable to configure verification page." and attrs(fcoa)["error"] == "server_error"
    assert fcoa["user_agent"].endswith("Chrome/130.0.0.0 Safari/537.36") and attrs(fcoa)["client_name"] == "App Frontend"
    assert (leak["activity"], leak["outcome"], leak["user_name"], leak["email"]) == ("blocked", "failure", "denethor@lotr.com", "denethor@lotr.com")
    assert leak["user_id"] is None  # "user_id": "" in the record
    assert (limit["src_ip"], limit["user_name"], limit["url_host"]) == ("1.2.3.4", "john@justice.org", "auth.clientdomain.com")
    assert attrs(limit)["log_id"] == "90020250930212349746493000000000000001223372122436618809"
    assert (rows["ferrt"]["outcome"], rows["gd_send_pn"]["outcome"]) == ("failure", "unknown")


def test_auth0_log_stream_batch_as_array(run, query) -> None:
    """The HTTP log stream with the JSON array format POSTs an array of envelopes."""
    read_whole(run(REAL / "auth0" / "log_stream_batch.json"), 4)
    rows = events(query, "event_code, activity, src_ip, reason")
    assert {(r["event_code"], r["activity"], r["src_ip"]) for r in rows} == {("sapi", "other", "12.12.12.12")}
    assert rows[0]["reason"] == "Update Suspicious IP Throttling settings"


# --- X API v2 ---------------------------------------------------------------------------------------------


def _snowflake_time(post_id: str) -> datetime:
    return datetime.fromtimestamp(((int(post_id) >> 22) + 1288834974657) / 1000, UTC)


def test_x_single_post_default_fields(run, query) -> None:
    read_whole(run(REAL / "x" / "get_tweet.json"), 1)  # {"data": {id, text, edit_history_tweet_ids}}
    (row,) = events(query, "time, class_name, message, attributes")
    # The X API v2 launch post: 12 August 2020, 17:01:42.686 UTC.
    assert row["time"] == datetime(2020, 8, 12, 17, 1, 42, 686000, tzinfo=UTC)
    assert row["class_name"] == "Social Post" and row["message"].startswith("It’s finally here! \U0001f941")
    assert attrs(row)["post_id"] == "1293593516040269825"


def test_x_search_page_times_from_snowflake_ids(run, query) -> None:
    """Each post's text is the time its bot wrote it; the id's snowflake time is within a second of it."""
    report = run(REAL / "x" / "search_recent.json")
    assert report.files[0].source_format == "twitter+document"
    assert report.files[0].read == 10 and report.files[0].duplicates == 0
    rows = events(query, "time, message, attributes")
    assert len(rows) >= 9
    for row in rows:
        written = datetime.strptime(row["message"][:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        assert timedelta(0) <= row["time"] - written < timedelta(seconds=1), row
        assert row["time"] == _snowflake_time(attrs(row)["post_id"]).replace(microsecond=row["time"].microsecond)


def test_x_post_ids_are_not_taken_for_card_numbers(run, query) -> None:
    read_whole(run(REAL / "x" / "search_recent.json"), 10)
    read_whole(run(REAL / "x" / "users_mentions.json"), 10)


def test_x_stream_messages_join_authors_and_rules(run, query, tmp_path: Path) -> None:
    """Filtered-stream messages, one per line: the author's username comes from includes.users, the rule tags
    from matching_rules; a keep-alive blank line is no record."""
    def message(i: int, author: str, url: dict | None) -> dict:
        post = {"id": str(1578516068309794817 + i), "text": f"deal {i} https://t.co/x{i}", "author_id": author,
                "edit_history_tweet_ids": [str(1578516068309794817 + i)], "lang": "en",
                "entities": {"urls": [url] if url else [], "mentions": [{"username": "northwind"}]}}
        users = [{"id": "11", "username": "n0rthwind_support", "name": "Northwind Support"},
                 {"id": "22", "username": "ann", "name": "Ann"}]
        return {"data": post, "includes": {"users": users}, "matching_rules": [{"id": "9", "tag": "brand"}]}
    path = tmp_path / "stream.jsonl"
    path.write_text(json.dumps(message(0, "11", {"url": "https://t.co/x0", "expanded_url": "https://bit.ly/abc",
                                                 "unwound_url": "https://northwind-login.example/verify"})) + "\n\n"
                    + json.dumps(message(1, "22", None)) + "\n")
    report = run(path)
    read_whole(report, 2)
    assert report.files[0].source_format == "twitter+document"
    rows = events(query, "time, user_id, user_name, url_host, attributes")
    assert [(r["user_id"], r["user_name"]) for r in rows] == [("11", "n0rthwind_support"), ("22", "ann")]
    assert rows[0]["url_host"] == "northwind-login.example" and attrs(rows[0])["urls"] == ["https://northwind-login.example/verify"]
    assert attrs(rows[0])["author_name"] == "Northwind Support" and attrs(rows[0])["matching_rules"] == ["brand"]
    assert attrs(rows[1])["mentions"] == ["northwind"] and rows[1]["time"] == _snowflake_time("1578516068309794818")


def test_x_response_with_created_at_and_expansions(run, query, tmp_path: Path) -> None:
    doc = {"data": [{"id": "1578516068309794817", "text": "hi", "author_id": "22", "created_at": "2022-10-07T22:42:12.000Z",
                     "edit_history_tweet_ids": ["1578516068309794817"]}],
           "includes": {"users": [{"id": "22", "username": "ann", "name": "Ann"}]},
           "meta": {"result_count": 1, "newest_id": "1578516068309794817"}}
    (tmp_path / "recent.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    read_whole(run(tmp_path / "recent.json"), 1)
    (row,) = events(query, "time, user_name")
    assert (row["time"], row["user_name"]) == (datetime(2022, 10, 7, 22, 42, 12, tzinfo=UTC), "ann")


# --- How JSON files are told apart ------------------------------------------------------------------------


def test_a_log_starting_with_a_bracket_is_not_a_json_document(run, tmp_path: Path) -> None:
    path = tmp_path / "error.log"
    path.write_text("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties\n"
                    "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6\n"
                    "[Sun Dec 04 04:51:08 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10\n")
    (f,) = run(path).files
    assert f.read == f.stored + f.quarantined  # as lines (or one unknown file), not one broken document
    assert not f.source_format.endswith("document") and f.source_format != "json-document"
    assert not any("JSON" in note for note in f.notes)


def test_json_lines_of_responses_are_each_opened(run, query, tmp_path: Path) -> None:
    """A file of whole responses, one per line (a poller's log), is JSON lines: never one document."""
    charge = orjson.loads((REAL / "stripe" / "charge.json").read_bytes())
    pages = [{"object": "list", "url": "/v1/charges", "has_more": True,
              "data": [{**charge, "id": f"ch_{p}_{i}"} for i in range(3)]} for p in range(4)]
    path = tmp_path / "charges_pages.jsonl"
    path.write_bytes(b"\n".join(map(orjson.dumps, pages)) + b"\n")
    report = run(path)
    read_whole(report, 12)
    assert report.files[0].source_format == "stripe+document"
    assert query("SELECT count(DISTINCT transaction_id) n FROM events")[0]["n"] == 12


def test_damaged_document_keeps_the_records_before_the_damage(run, query, tmp_path: Path) -> None:
    charge = orjson.loads((REAL / "stripe" / "charge.json").read_bytes())
    text = orjson.dumps({"object": "list", "data": [{**charge, "id": f"ch_{i}"} for i in range(3)]},
                        option=orjson.OPT_INDENT_2).decode()
    cut = text.index('"ch_2"') + 3
    (tmp_path / "cut.json").write_text(text[:cut] + "\n")
    report = run(tmp_path / "cut.json")
    read_whole(report, 2, 1)
    assert [r["transaction_id"] for r in events(query, "transaction_id")] == ["ch_0", "ch_1"]
    (q,) = query("SELECT source_line, reason FROM quarantine")
    assert q["source_line"] == 3 and q["reason"].startswith("invalid JSON document at line ")
    assert q["reason"].endswith("2 records before it were read")


def test_concatenated_pretty_printed_bodies(run, query, tmp_path: Path) -> None:
    order = orjson.loads((REAL / "shopify" / "order.json").read_bytes())
    body = orjson.dumps(order, option=orjson.OPT_INDENT_2)
    second = orjson.dumps({"order": {**order["order"], "id": 1}}, option=orjson.OPT_INDENT_2)
    (tmp_path / "webhooks.json").write_bytes(body + b"\n" + second + b"\n")
    read_whole(run(tmp_path / "webhooks.json"), 2)
    assert [r["order_id"] for r in events(query, "order_id", "order_id")] == ["1", "450789469"]


def test_empty_response_reads_nothing_and_says_so(run, tmp_path: Path) -> None:
    (tmp_path / "none.json").write_text('{\n  "meta": {"result_count": 0}\n}\n')
    (f,) = run(tmp_path / "none.json").files
    assert (f.read, f.stored, f.quarantined) == (0, 0, 0)
    assert any("holds no records" in note for note in f.notes)


def test_a_lone_field_object_around_a_record_is_a_record(run, query, tmp_path: Path) -> None:
    """An EVTX export's `{"Event": {...}}`, pretty-printed, is one Sysmon record, not an envelope."""
    from tests.conftest import SAMPLES

    line = (SAMPLES / "endpoint" / "sysmon.jsonl").read_text().splitlines()[0]
    (tmp_path / "event.json").write_bytes(orjson.dumps(orjson.loads(line), option=orjson.OPT_INDENT_2))
    report = run(tmp_path / "event.json")
    read_whole(report, 1)
    assert report.files[0].source_format == "windows+document"
    assert query("SELECT host FROM events")[0]["host"] == "POS-0004-04"


def test_stripe_event_without_its_object_is_quarantined(run, query, tmp_path: Path) -> None:
    (tmp_path / "evt.jsonl").write_text('{"id": "evt_1", "object": "event", "created": 1794787200, "type": "charge.failed", "data": {}}\n'
                                        '{"id": "evt_2", "object": "event", "created": 1794787200, "type": "charge.failed", "data": {"object": {"object": "charge", "amount": 100, "currency": "usd"}}}\n')
    read_whole(run(tmp_path / "evt.jsonl"), 1, 1)
    assert query("SELECT reason FROM quarantine")[0]["reason"] == "event without data.object"
