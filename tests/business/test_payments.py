"""Payment health: the networks' ratios from Stripe events, counted by the brand of each charge."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.business import payments
from storewatch.cli import app
from storewatch.ingest.engine import ingest
from storewatch.store import reader
from storewatch.workspace import Workspace


def _epoch(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp())


def _event(n: int, kind: str, when: str, obj: dict) -> dict:
    return {"id": f"evt_{kind.replace('.', '_')}_{n}", "object": "event", "type": kind, "created": _epoch(when),
            "data": {"object": obj}}


def _charge(n: int, when: str, brand: str, ok: bool = True) -> dict:
    return _event(n, "charge.succeeded" if ok else "charge.failed", when, {
        "id": f"ch_{brand}_{n}", "object": "charge", "amount": 5000, "currency": "usd",
        "status": "succeeded" if ok else "failed", "paid": ok, "created": _epoch(when),
        "failure_code": None if ok else "card_declined",
        "payment_method_details": {"type": "card", "card": {"brand": brand, "last4": "4242", "fingerprint": f"fp{n}"}}})


def _estate(path: Path) -> None:
    """November: 1,000 Visa and 500 Mastercard sales; 10 disputes and 6 early fraud warnings on Visa
    charges, 3 disputes on Discover charges (not Visa's), 40 Visa declines and 25 refunds (neither is a
    dispute). December, to the 10th: 200 Mastercard sales and 5 disputes on them."""
    events = []
    for i in range(1000):
        events.append(_charge(i, f"2026-11-{1 + i % 28:02d}T10:00:00", "visa"))
    for i in range(500):
        events.append(_charge(10_000 + i, f"2026-11-{1 + i % 28:02d}T11:00:00", "mastercard"))
    for i in range(40):
        events.append(_charge(20_000 + i, "2026-11-20T12:00:00", "visa", ok=False))
    for i in range(3):
        events.append(_charge(30_000 + i, "2026-11-03T09:00:00", "discover"))
        events.append(_event(i, "charge.dispute.created", "2026-11-25T09:00:00", {
            "id": f"dp_d{i}", "object": "dispute", "amount": 5000, "currency": "usd", "charge": f"ch_discover_{30_000 + i}",
            "reason": "fraudulent", "status": "needs_response"}))
    for i in range(10):
        events.append(_event(100 + i, "charge.dispute.created", "2026-11-26T09:00:00", {
            "id": f"dp_v{i}", "object": "dispute", "amount": 5000, "currency": "usd", "charge": f"ch_visa_{i}",
            "reason": "fraudulent" if i % 2 else "product_not_received", "status": "needs_response"}))
    for i in range(6):
        events.append(_event(200 + i, "radar.early_fraud_warning.created", "2026-11-27T09:00:00", {
            "id": f"issfr_{i}", "object": "radar.early_fraud_warning", "charge": f"ch_visa_{50 + i}",
            "fraud_type": "made_with_stolen_card", "actionable": True}))
    for i in range(25):
        events.append(_event(300 + i, "charge.refunded", "2026-11-28T09:00:00", {
            "id": f"ch_visa_{400 + i}", "object": "charge", "amount": 5000, "amount_refunded": 5000, "currency": "usd",
            "status": "succeeded", "refunded": True, "paid": True, "created": _epoch("2026-11-28T09:00:00"),
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}}}))
    for i in range(200):
        events.append(_charge(40_000 + i, f"2026-12-{1 + i % 10:02d}T10:00:00", "mastercard"))
    for i in range(5):
        events.append(_event(400 + i, "charge.dispute.created", "2026-12-10T09:00:00", {
            "id": f"dp_m{i}", "object": "dispute", "amount": 5000, "currency": "usd", "charge": f"ch_mastercard_{10_000 + i}",
            "reason": "fraudulent", "status": "needs_response"}))
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("payments")
    _estate(root / "stripe_events.jsonl")
    ws = Workspace.at(root / "home")
    report = ingest([root / "stripe_events.jsonl"], ws)
    assert sum(f.stored for f in report.files) == sum(f.read for f in report.files)
    return ws


def _health(ws: Workspace, overrides: list[str] | None = None) -> dict:
    with reader.opened(ws) as con:
        return payments.health(payments.monthly_counts(con), payments.programmes(overrides))


def test_vamp_counts_visa_fraud_reports_and_disputes_over_visa_sales(ws) -> None:
    vamp = next(p for p in _health(ws)["programmes"] if p["programme"] == "vamp")
    nov = next(m for m in vamp["months"] if m["month"] == "2026-11")
    # 10 disputes + 6 fraud warnings on Visa charges; Discover's disputes, refunds and declines are not counted
    assert (nov["numerator"], nov["denominator"]) == (16, 1000)
    assert nov["ratio"] == pytest.approx(0.016)
    assert nov["status"] == "over_ratio"  # over 1.5%, far under the 1,500 a month Visa enrols at
    assert not nov["partial"]


def test_mastercard_divides_this_months_chargebacks_by_last_months_sales(ws) -> None:
    ecp = next(p for p in _health(ws)["programmes"] if p["programme"] == "mastercard_ecp")
    nov, dec = ecp["months"]
    assert (nov["numerator"], nov["denominator"], nov["status"]) == (0, None, "no_sales")  # no month before
    assert (dec["numerator"], dec["denominator"]) == (5, 500)
    assert dec["ratio"] == pytest.approx(0.01) and dec["status"] == "warning"  # over half of 1.5%
    # the newest event is a charge on 10 December at 10:00: 5 chargebacks in 9 days and 10 hours make 16
    assert dec["partial"] and dec["projected_count"] == round(5 * 31 / (9 + 10 / 24)) == 16


def test_a_workspace_threshold_replaces_the_shipped_one(ws) -> None:
    vamp = next(p for p in _health(ws, ["vamp=0.02"])["programmes"] if p["programme"] == "vamp")
    assert vamp["threshold"] == 0.02 and vamp["months"][0]["status"] == "warning"
    with pytest.raises(ValueError, match="unknown programme"):
        payments.programmes(["amex=0.01"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        payments.programmes(["vamp=1.5"])


def test_trend_counts_every_brand_and_the_decline_rate(ws) -> None:
    nov = _health(ws)["trend"][0]
    assert (nov["settled_sales"], nov["declines"], nov["fraud_reports"], nov["disputes"]) == (1503, 40, 6, 13)
    assert nov["decline_rate"] == pytest.approx(40 / 1543)


def test_cli_json_and_table(ws) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["payments", "--json", "--home", str(ws.home)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["programme"] for p in data["programmes"]] == ["vamp", "mastercard_ecp"]
    table = runner.invoke(app, ["payments", "--home", str(ws.home)], env={"COLUMNS": "160"})
    assert table.exit_code == 0 and "1.60%" in table.output and "over ratio" in table.output
    runner.invoke(app, ["config", "payments.thresholds", "vamp=2", "--home", str(ws.home)])
    bad = runner.invoke(app, ["payments", "--home", str(ws.home)])
    assert bad.exit_code == 2 and "between 0 and 1" in bad.output
