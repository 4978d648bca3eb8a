"""Payments, orders, stores and social media: the windowed detections find each attack in every simulated
estate, raise nothing that is not an attack, and stay quiet on hand-written look-alikes of the normal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest

from storewatch.detect.windows.loader import RULES_DIR, load_rule
from storewatch.evaluate import matches
from storewatch.store import schema

RULES = {
    "card_testing": "payment_card_testing.yml",
    "chargeback_fraud": "payment_chargeback_fraud.yml",
    "promo_abuse": "order_promo_abuse.yml",
    "refund_fraud": "store_refund_fraud.yml",
    "after_hours_intrusion": "store_after_hours_intrusion.yml",
    "leaked_discount_code": "social_leaked_discount_code.yml",
    "brand_impersonation": "social_brand_impersonation.yml",
}
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def rule(scenario: str):
    return load_rule(RULES_DIR / RULES[scenario])


def rule_ids() -> set[str]:
    return {rule(s).id for s in RULES}


# --- on the simulated estates -------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", sorted(RULES))
def test_every_attack_is_alerted(estate, scenario):
    det = rule(scenario)
    alerts = estate.alerts(rule_id=det.id)
    labels = estate.label(scenario)
    assert labels, f"the simulator planted no {scenario}"
    for lb in labels:
        assert any(matches(a, lb) for a in alerts), f"{scenario} {lb['id']} not alerted by {det.id}: {len(alerts)} alerts"


def test_no_alert_outside_an_attack(estate):
    """Every alert of these detections overlaps a labelled attack and names one of its entities."""
    attacks = [lb for lb in estate.labels if lb["severity"] != "benign"]
    stray = [(a["rule_id"], a["title"], a["first_seen"]) for a in estate.query("SELECT * FROM alerts")
             if a["rule_id"] in rule_ids() and not any(matches(a, lb) for lb in attacks)]
    assert not stray


def test_alerts_name_the_labelled_entities(estate):
    """Refund fraud names the employee, store and the masked card as POSLog shows it."""
    (lb,) = estate.label("refund_fraud")
    alerts = [a for a in estate.alerts(rule_id=rule("refund_fraud").id) if matches(a, lb)]
    named = {(e["type"], e["value"]) for a in alerts for e in a["entities"]}
    wanted = {(e["type"], e["value"]) for e in lb["entities"] if e["type"] in ("employee", "store", "card")}
    assert wanted <= named


# --- hand-written events --------------------------------------------------------------------------------

def store_of(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding just these events (missing columns NULL, attributes as JSON)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(schema.create_table_sql("events"))
    if rows:
        filled = [{**{c: None for c in schema.COLUMN_NAMES}, "event_id": f"e{i}", **r,
                   "attributes": orjson.dumps(r.get("attributes") or {}).decode()} for i, r in enumerate(rows)]
        con.register("_rows", pa.Table.from_pylist(filled))
        casts = ", ".join(f"{c.name}::{c.sql_type} AS {c.name}" for c in schema.EVENT_COLUMNS)
        con.execute(f"INSERT INTO events SELECT {casts} FROM _rows")
        con.unregister("_rows")
    return con


def run(scenario: str, rows: list[dict]) -> list[dict]:
    return rule(scenario).query(store_of(rows)).to_pylist()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def charge(ip: str, card: str, hours: float, amount: float, declined: bool = False, **kw) -> dict:
    return dict(class_name="Payment", activity="charge", channel="payments", time=at(hours), src_ip=ip,
                card_fingerprint=card, amount=amount, outcome="failure" if declined else "success", **kw)


def shoppers(n: int = 200) -> list[dict]:
    """Ordinary customers: one card each, normal amounts, the odd decline."""
    return [charge(f"198.51.{i // 200}.{i % 200}", f"fp{i:04d}", i * 0.1, 80 + i % 300, declined=i % 25 == 0)
            for i in range(n)]


def test_card_testing_fires_on_many_cards_tried_from_one_ip():
    rows = shoppers() + [charge("203.0.113.9", f"t{i}", 5 + i / 120, 1.5, declined=i % 6 != 0) for i in range(30)]
    (alert,) = run("card_testing", rows)
    assert {"type": "ip", "value": "203.0.113.9"} in alert["entities"]
    assert alert["severity"] == "critical"  # some cards went through


@pytest.mark.parametrize("estate", ["quiet shop: the tester and three payers", "testers are most of the payers"])
def test_card_testers_never_set_their_own_bar(estate: str) -> None:
    testers = 1 if estate.startswith("quiet") else 12
    rows = shoppers(3) if estate.startswith("quiet") else shoppers(8)
    rows += [charge(f"203.0.113.{t + 1}", f"t{t}-{i}", 5 + t + i / 120, 1.0, declined=i % 5 != 0)
             for t in range(testers) for i in range(12)]
    found = {e["value"] for a in run("card_testing", rows) for e in a["entities"] if e["type"] == "ip"}
    assert found == {f"203.0.113.{t + 1}" for t in range(testers)}


def test_card_testing_ignores_a_corporate_nat_paying_with_many_cards():
    nat = [charge("192.0.2.1", f"corp{i}", 3 + i / 60, 150 + i, declined=i == 7) for i in range(20)]
    assert run("card_testing", shoppers() + nat) == []


def dispute(tx: str, hours: float, reason: str) -> dict:
    return dict(class_name="Payment", activity="dispute", channel="payments", time=at(hours), transaction_id=tx,
                reason=reason)


def efw(tx: str, hours: float) -> dict:
    return dict(class_name="Payment", activity="early_fraud_warning", channel="payments", time=at(hours),
                transaction_id=tx, reason="made_with_stolen_card")


def paid(tx: str, card: str, email: str, hours: float) -> dict:
    return charge("198.51.100.7", card, hours, 250, transaction_id=tx, email=email)


def test_chargebacks_fire_on_a_series_of_fraud_disputes_on_one_card():
    base = [paid(f"ch{i}", f"fp{i}", f"c{i}@example.com", i * 0.05) for i in range(500)]
    series = [paid(f"bad{i}", "fpBAD", "thief@example.com", 2 + i) for i in range(4)]
    signals = [s for i in range(4) for s in (efw(f"bad{i}", 20 + i), dispute(f"bad{i}", 21 + i, "fraudulent"))]
    (alert,) = run("chargeback_fraud", base + series + signals)
    assert {"type": "email", "value": "thief@example.com"} in alert["entities"]


def test_chargebacks_ignore_one_fraud_dispute_and_service_disputes():
    base = [paid(f"ch{i}", f"fp{i % 400}", f"c{i % 400}@example.com", i * 0.05) for i in range(500)]
    signals = [efw("ch3", 30), dispute("ch3", 31, "fraudulent"),  # one stolen card: it happens
               dispute("ch10", 30, "product_not_received"), dispute("ch410", 32, "product_not_received")]
    assert run("chargeback_fraud", base + signals) == []


def _fraud_cards(rows: list[dict]) -> set[str]:
    return {e["value"] for a in run("chargeback_fraud", rows) for e in a["entities"] if e["type"] == "card"}


def test_chargebacks_on_a_one_card_estate():
    """A trade account paying everything with one card: no other card to learn a rate from, so the floor
    (0.1% of charges) is the rate. Three fraud disputes in 200 charges is a series; two in 1,000 is not."""
    account = [paid(f"ch{i}", "fpCORP", "ap@corp.example", i * 0.1) for i in range(1000)]
    two = [s for i in (10, 500) for s in (efw(f"ch{i}", 120), dispute(f"ch{i}", 121, "fraudulent"))]
    assert _fraud_cards(account + two) == set()
    three = [s for i in (10, 50, 150) for s in (efw(f"ch{i}", 30), dispute(f"ch{i}", 31, "fraudulent"))]
    assert _fraud_cards(account[:200] + three) == {"fpCORP"}


def test_chargebacks_on_a_quiet_shop():
    """Twenty customers, one charge each, one of them disputed: a stolen card charged three times and
    disputed each time stands out; the one-off dispute does not."""
    rows = [paid(f"ch{i}", f"fp{i}", f"c{i}@example.com", i) for i in range(20)]
    rows += [efw("ch4", 40), dispute("ch4", 41, "fraudulent")]
    rows += [paid(f"bad{i}", "fpBAD", "thief@example.com", 3 + i) for i in range(3)]
    rows += [s for i in range(3) for s in (efw(f"bad{i}", 30 + i), dispute(f"bad{i}", 31 + i, "fraudulent"))]
    (alert,) = run("chargeback_fraud", rows)
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "fpbad" and evidence["estate_rate"] == round(1 / 20, 5)


def test_chargebacks_when_fraud_cards_drive_the_disputes():
    """Ten stolen cards, four disputed charges each, make 40 of the estate's 43 fraud disputes: with them in
    the rate (11%) four disputes in four charges would look ordinary. From the cards below the floor it is
    0.3%; the regular with sixty charges and two disputes is still within it."""
    rows = [paid(f"ch{i}", f"fp{i}", f"c{i}@example.com", i * 0.1) for i in range(300)]
    rows += [efw("ch7", 40), dispute("ch7", 41, "fraudulent")]
    rows += [paid(f"reg{i}", "fpREG", "regular@example.com", i) for i in range(60)]
    rows += [s for i in (5, 40) for s in (efw(f"reg{i}", 70 + i), dispute(f"reg{i}", 71 + i, "fraudulent"))]
    stolen = [f"fpS{k}" for k in range(10)]
    rows += [paid(f"s{k}-{i}", card, f"mule{k}@example.com", 5 + k + i) for k, card in enumerate(stolen) for i in range(4)]
    rows += [s for k in range(10) for i in range(4) for s in (efw(f"s{k}-{i}", 60 + k), dispute(f"s{k}-{i}", 61 + k, "fraudulent"))]
    assert _fraud_cards(rows) == set(stolen)


def order(email: str, address: str, ip: str, hours: float, codes: list[str]) -> dict:
    return dict(class_name="Order", activity="order", channel="orders", time=at(hours), email=email, address=address,
                src_ip=ip, attributes={"discount_codes": codes, "total_discounts": 10.0})


def test_promo_abuse_fires_on_email_variants_shipping_to_one_door():
    locals_ = ["ann.lee+1", "annlee2", "a.nn.lee3", "ann.lee.4", "annlee5"]
    rows = [order(f"{l}@gmail.com", f"12 Elm St{' Apt 2' if i % 2 else ''}, Reno, 89501, US", f"203.0.113.{i}", i, ["WELCOME10"])
            for i, l in enumerate(locals_)]
    (alert,) = run("promo_abuse", rows)
    assert {"type": "email", "value": "annlee2@gmail.com"} in alert["entities"]


def test_promo_abuse_ignores_namesakes_living_apart():
    rows = [order(f"jsmith{i}@yahoo.com", f"{i} Oak Ave, Town{i}, 1000{i}, US", f"198.51.100.{i}", i, ["WELCOME10"])
            for i in range(8)]
    assert run("promo_abuse", rows) == []


def pos(employee: str, activity: str, hours: float, store: str = "0001", register: str = "0001-1",
        no_receipt: bool = False, last4: str | None = None) -> dict:
    return dict(class_name="POS Transaction", channel="pos", activity=activity, time=at(hours), employee_id=employee,
                store_id=store, device=register, card_last4=last4, amount=120,
                attributes={"return_no_receipt_count": int(no_receipt)})


def day_of_sales(stores: int = 4, per_store: int = 8) -> list[dict]:
    """Every cashier sells through the day (9:00-20:00) and handles a return or two, some without receipt."""
    rows = []
    for s in range(stores):
        for e in range(per_store):
            emp, store = f"E{s}{e}", f"{s:04d}"
            rows += [pos(emp, "sale", 9 + (k * 0.37) % 11, store, f"{store}-{e % 3 + 1}") for k in range(25)]
            rows += [pos(emp, "return", 10 + e, store, f"{store}-1", no_receipt=k == 0, last4=f"{s}{e}{k}9")
                     for k in range(1 + e % 2)]
    return rows


def test_refund_fraud_ignores_normal_returns():
    assert run("refund_fraud", day_of_sales()) == []


def test_refund_fraud_fires_on_no_receipt_returns_to_one_card():
    fraud = [pos("E12", "return", 9.5 + k * 0.5, "0001", "0001-2", no_receipt=True, last4="4242") for k in range(8)]
    fraud += [pos("E12", "post_void", 12 + k, "0001", "0001-2") for k in range(2)]
    (alert,) = run("refund_fraud", day_of_sales() + fraud)
    assert {"type": "employee", "value": "E12"} in alert["entities"]
    assert {"type": "card", "value": "************4242"} in alert["entities"]


@pytest.mark.parametrize("estate", ["one-till shop", "a third of the operators are at it"])
def test_refund_fraudsters_never_set_their_peers_bar(estate: str) -> None:
    """Peers are every other operator; with none, a shop's own operator is judged against 0 exceptions."""
    if estate == "one-till shop":
        rows = [pos("E1", "sale", 9 + k * 0.1) for k in range(40)]
        rows += [pos("E1", "return", 10 + k * 0.2, no_receipt=True, last4="4242") for k in range(12)]
        fraudsters = {"E1"}
    else:
        rows = day_of_sales(stores=1, per_store=9)
        fraudsters = {"E00", "E01", "E02"}
        rows += [pos(e, "return", 12 + k * 0.1, register="0001-2", no_receipt=True, last4=f"{i}242")
                 for i, e in enumerate(sorted(fraudsters)) for k in range(14)]
    found = {e["value"] for a in run("refund_fraud", rows) for e in a["entities"] if e["type"] == "employee"}
    assert found == fraudsters


def onvif(activity: str, hours: float, device: str, reason: str | None = None, store: str = "0002") -> dict:
    return dict(class_name="Physical Access", channel="physical", activity=activity, time=at(hours), device=device,
                store_id=store, reason=reason)


def test_after_hours_ignores_a_camera_reboot_at_night():
    reboot = [onvif("camera_signal_loss", 3.5, "cam-0002-01", "true"), onvif("device_reboot", 3.52, "cam-0002-01"),
              onvif("camera_signal_loss", 3.53, "cam-0002-01", "false")]
    assert run("after_hours_intrusion", day_of_sales() + reboot) == []


def test_after_hours_ignores_a_door_held_open_while_the_store_is_open():
    held = [onvif("door_alarm", 14.2, "door-0002-rear", "HeldOpen"), onvif("camera_tamper", 14.25, "cam-0002-01", "true")]
    assert run("after_hours_intrusion", day_of_sales() + held) == []


def test_after_hours_fires_on_a_forced_door_then_the_till():
    night = [onvif("door_alarm", 2.0, "door-0002-rear", "Forced"), onvif("camera_tamper", 2.01, "cam-0002-01", "true"),
             pos("E21", "no_sale", 2.2, "0002", "0002-1"), pos("E21", "return", 2.3, "0002", "0002-1")]
    (alert,) = run("after_hours_intrusion", day_of_sales() + night)
    assert alert["severity"] == "critical"
    assert {"type": "device", "value": "door-0002-rear"} in alert["entities"]
    assert {"type": "employee", "value": "E21"} in alert["entities"]


def counter(hours: float, entries: int, store: str = "0002") -> dict:
    return dict(class_name="People Count", channel="physical", activity="count", time=at(hours), store_id=store,
                device=f"counter-{store}", attributes={"entries": entries})


def break_in(hours: float, store: str = "0002") -> list[dict]:
    """A forced rear door, a covered camera, the burglar past the counter and the till opened."""
    return [onvif("door_alarm", hours, f"door-{store}-rear", "Forced", store),
            onvif("camera_tamper", hours + 0.02, f"cam-{store}-01", "true", store),
            counter(hours + 0.03, 2, store), pos("E21", "no_sale", hours + 0.1, store, f"{store}-1")]


def shop_days(days: int, store: str = "0002", per_hour: int = 5) -> list[dict]:
    """A small shop: a few customers an hour through the counter from 9:00 to 18:00, a sale each."""
    return [r for d in range(days) for h in range(9, 19)
            for r in (counter(24 * d + h + 0.5, per_hour, store), pos("E20", "sale", 24 * d + h + 0.6, store, f"{store}-1"))]


def _break_ins(rows: list[dict]) -> list[str]:
    return sorted(a["first_seen"].strftime("%d %H") for a in run("after_hours_intrusion", rows))


def test_after_hours_in_a_one_till_shop():
    """Only the till reports: its sales are the opening hours. Counting the drawer at closing time stays
    quiet; the till opened and refunding at 2 a.m. is an intrusion."""
    rows = [pos("E20", "sale", 9 + k * 0.25, "0002", "0002-1") for k in range(40)]
    rows += [pos("E20", "no_sale", 19.2, "0002", "0002-1"), pos("E20", "return", 19.3, "0002", "0002-1")]
    assert run("after_hours_intrusion", rows) == []
    night = [pos("E20", "no_sale", 26.0, "0002", "0002-1"), pos("E20", "return", 26.1, "0002", "0002-1")]
    (alert,) = run("after_hours_intrusion", rows + night)
    assert orjson.loads(alert["evidence"])["till_exceptions"] == 2 and alert["severity"] == "critical"


def test_after_hours_in_a_quiet_shop():
    """Five customers an hour: the burglar's two passes of the counter at 2 a.m. would be a third of the
    busiest hour and open the shop all night if they counted. A camera rebooting at 3:30 is maintenance, and
    a badge refused at the staff door as the shop opens leaves that trading hour open."""
    rows = shop_days(1) + [onvif("access_denied", 9.1, "door-0002-staff")]
    reboot = [onvif("camera_signal_loss", 3.5, "cam-0002-01", "true"), onvif("device_reboot", 3.52, "cam-0002-01"),
              onvif("camera_signal_loss", 3.53, "cam-0002-01", "false")]
    assert run("after_hours_intrusion", rows + reboot) == []
    assert _break_ins(rows + reboot + break_in(2.0)) == ["02 02"]


def test_after_hours_when_break_ins_are_most_nights():
    """A shop broken into on five nights of a week: summed over the week the burglars' entries at 2 a.m.
    are more than a tenth of the busiest hour's. Every night is found; a door held open at 2 p.m. is not."""
    rows = shop_days(7) + [onvif("door_alarm", 24 + 14.2, "door-0002-rear", "HeldOpen")]
    nights = [0, 1, 3, 4, 6]
    rows += [r for d in nights for r in break_in(24 * d + 2.0) + [counter(24 * d + 2.05, 1)]]
    assert _break_ins(rows) == [f"{d + 2:02d} 02" for d in nights]


def post(author: str, hours: float, text: str, urls: list[str] = ()) -> dict:
    host = urls[0].split("/")[2] if urls else None
    return dict(class_name="Social Post", channel="social", activity="post", time=at(hours), user_id=author,
                message=text, url_host=host, attributes={"urls": list(urls)})


def redemptions(code: str, start: float, n: int, step: float) -> list[dict]:
    return [order(f"buyer{code}{i}@example.com", f"{i} Pine Rd", f"198.51.100.{i % 250}", start + i * step, [code])
            for i in range(n)]


def test_leaked_code_fires_when_a_posted_code_suddenly_spreads():
    rows = redemptions("SPRING10", 0, 60, 0.8) + [post("u1", 30, "lol staff code STAFFX99 still works")]
    rows += redemptions("STAFFX99", 30.5, 20, 0.3)
    (alert,) = run("leaked_discount_code", rows)
    assert {"type": "user", "value": "u1"} in alert["entities"]


def test_leaked_code_ignores_a_public_code_used_as_before():
    rows = redemptions("SPRING10", 0, 60, 0.8) + [post("brand", 30, "Use SPRING10 for 10% off this week!")]
    assert run("leaked_discount_code", rows) == []


@pytest.mark.parametrize("estate", ["the shop's only code", "quiet shop: two uses before the post",
                                    "the leak is most of the orders"])
def test_leaked_code_is_judged_by_its_own_rate_before_the_post(estate: str) -> None:
    """The baseline is the code's own redemptions before the post, so what follows the post never sets it:
    a code nobody used, one used twice, or a leak that swamps the shop's orders is found; the brand's own
    code posted and used at its usual rate is not."""
    if estate.startswith("the shop's"):
        rows = redemptions("STAFFX99", 30.5, 12, 0.3)
    elif estate.startswith("quiet"):
        rows = redemptions("STAFFX99", 2, 2, 5) + redemptions("STAFFX99", 30.5, 6, 0.5)
    else:
        rows = redemptions("SPRING10", 0, 60, 0.8) + [post("brand", 30, "Use SPRING10 for 10% off this week!")]
        rows += redemptions("STAFFX99", 30.5, 400, 0.02)
    rows.append(post("u1", 30, "lol staff code STAFFX99 still works"))
    (alert,) = run("leaked_discount_code", rows)
    evidence = orjson.loads(alert["evidence"])
    assert evidence["code"] == "STAFFX99" and evidence["author"] == "u1" and evidence["customers"] >= 5


@pytest.mark.parametrize("estate", ["quiet shop: the ring alone", "rings are most of the code's orders"])
def test_promo_abuse_floors_hold_in_any_estate(estate: str) -> None:
    """No threshold is learned (three variant accounts, three tied by one door, address or card): one ring
    alone, or twenty rings making most of the redemptions, are each found; namesakes living apart are not."""
    rings = 1 if estate.startswith("quiet") else 20
    rows = [order(f"ring{r}.lee+{i}@gmail.com", f"{r} Elm St, Reno, 89501, US", f"203.0.113.{r}", r + i * 0.1, ["WELCOME10"])
            for r in range(rings) for i in range(4)]
    rows += [order(f"jsmith{i}@yahoo.com", f"{i} Oak Ave, Town{i}, 1000{i}, US", f"198.51.100.{i}", i, ["WELCOME10"])
             for i in range(5)]
    found = {orjson.loads(a["evidence"])["stem"] for a in run("promo_abuse", rows)}
    assert found == {f"ring{r}lee@gmail.com" for r in range(rings)}


def test_brand_impersonation_learns_the_brand_and_flags_lookalikes():
    own = [post(f"fan{i}", i * 0.2, "love it", [f"https://www.northwind.com/p/{i}"]) for i in range(40)]
    others = [post("news", 9, "read this", ["https://www.nytimes.com/a"]),
              post("fan1", 9.5, "store hours?", ["https://shop.northwind.com/hours"])]
    fakes = [post("scam1", 10, "free gift card", ["https://n0rthwind.com/claim"]),
             post("scam2", 11, "clearance", ["https://northwind-outlet.shop/sale"])]
    alerts = run("brand_impersonation", own + others + fakes)
    assert {a["key"] for a in alerts} == {"n0rthwind.com", "northwind-outlet.shop"}


@pytest.mark.parametrize("setting", [("sw_brand_domains", ["northwind.com"]), ("sw_brand_names", ["NorthWind"])])
def test_brand_impersonation_takes_the_brand_from_settings_when_lookalikes_are_loud(setting) -> None:
    """A quiet brand whose look-alike dominates the posts: learned, the look-alike would pass for the brand;
    from the settings (domains, or names alone), the look-alike is flagged and the real domain is not."""
    rows = [post(f"scam{i}", i * 0.2, "free gift card", ["https://n0rthwind.com/claim"]) for i in range(30)]
    rows += [post("fan1", 9, "new boots!", ["https://www.northwind.com/p/1"]),
             post("fan2", 9.5, "store hours?", ["https://www.northwind.com/hours"])]
    learned = run("brand_impersonation", rows)
    assert "n0rthwind.com" not in {a["key"] for a in learned}  # what the data alone cannot tell
    con = store_of(rows)
    con.execute(f"SET VARIABLE {setting[0]} = ?::VARCHAR[]", [setting[1]])
    (alert,) = rule("brand_impersonation").query(con).to_pylist()
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "n0rthwind.com" and evidence["brand_source"] == "settings"


def page(hours: float, referrer: str) -> dict:
    """A page view in the shop's own access log, reached from `referrer`."""
    return dict(class_name="HTTP Activity", channel="web", activity="GET", time=at(hours), src_ip="198.51.100.5",
                url_path="/p/1", http_method="GET", http_status=200, referrer=referrer)


def lookup(hours: float, domain: str) -> dict:
    return dict(class_name="DNS Activity", channel="endpoint", activity="query", time=at(hours), host="BO-0001",
                url_host=domain)


def _imitations(rows: list[dict]) -> set[str]:
    return {a["key"] for a in run("brand_impersonation", rows)}


def test_brand_learned_from_the_shops_web_logs_alone():
    """No posts, no settings: the shop's own access log (its pages refer to each other) names the brand,
    and an office PC looking up a look-alike is flagged; an ordinary news site is not."""
    rows = [page(k * 0.1, f"https://www.northwind.com/c/{k}") for k in range(30)]
    rows += [lookup(5, "northwlnd.com"), lookup(6, "nytimes.com")]
    assert _imitations(rows) == {"northwlnd.com"}


def test_brand_learned_from_a_quiet_estate():
    """Four page views, one of them from a visitor who came through a look-alike page: the look-alike is a
    fifth of the referrers, not the brand, and is flagged."""
    rows = [page(k, "https://www.northwind.com/") for k in range(4)] + [page(5, "https://n0rthwind.com/deal")]
    assert _imitations(rows) == {"n0rthwind.com"}


def test_brand_learned_from_the_web_when_a_lookalike_is_most_of_the_posts():
    """Thirty scam posts and two fans: learned from the posts, the look-alike would pass for the brand. The
    shop's own web traffic says what the brand is, so the look-alike is flagged and the real domain is not."""
    rows = [post(f"scam{i}", i * 0.2, "free gift card", ["https://n0rthwind.com/claim"]) for i in range(30)]
    rows += [post("fan1", 9, "new boots!", ["https://www.northwind.com/p/1"]),
             post("fan2", 9.5, "store hours?", ["https://www.northwind.com/hours"])]
    rows += [page(10 + k * 0.1, "https://www.northwind.com/c/1") for k in range(12)]
    (alert,) = run("brand_impersonation", rows)
    evidence = orjson.loads(alert["evidence"])
    assert alert["key"] == "n0rthwind.com" and evidence["brand"] == "northwind.com" and evidence["posts"] == 30


def test_detect_reads_the_brand_from_the_workspace_settings(tmp_path: Path) -> None:
    from storewatch.detect.engine import detect
    from storewatch.store import db
    from storewatch.workspace import Workspace

    ws = Workspace.at(tmp_path / "ws")
    rows = [post(f"scam{i}", i * 0.2, "free gift card", ["https://n0rthwind.com/claim"]) for i in range(30)]
    rows += [post("fan1", 9, "new boots!", ["https://www.northwind.com/p/1"])]
    with db.opened(ws) as con:
        db.append_events(con, pa.Table.from_pylist(
            [{**r, "event_id": f"e{i}", "attributes": orjson.dumps(r["attributes"]).decode()} for i, r in enumerate(rows)]))
    ws.set_setting("brand.domains", ["northwind.com"])
    detect(ws)
    with db.opened(ws) as con:
        keys = [k for (k,) in con.execute("SELECT evidence->>'domain' FROM alerts WHERE rule_id = ?",
                                          [rule("brand_impersonation").id]).fetchall()]
    assert keys == ["n0rthwind.com"]


def test_rules_are_loaded_with_attack_ids():
    from storewatch.correlate.attack import technique

    for scenario in RULES:
        det = rule(scenario)
        assert det.scenario == scenario and det.attack
        assert all(technique(t) for t in det.attack)
        assert Path(det.source).name == RULES[scenario]
