"""Business impact per incident: only the money the alerts cite, per currency, lost or at risk."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.business.impact import impact
from storewatch.cli import app
from storewatch.correlate.queries import list_incidents
from storewatch.detect.engine import detect
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import reader
from storewatch.workspace import Workspace


def _e(channel: str, activity: str, outcome: str, amount: str, currency: str = "USD", tx: str | None = None) -> dict:
    return {"channel": channel, "activity": activity, "outcome": outcome, "amount": amount, "currency": currency,
            "transaction_id": tx}


def test_losses_and_exposure_per_currency_never_added_across() -> None:
    got = impact([_e("pos", "return", "success", "100.00"), _e("pos", "return", "success", "50.00", "EUR"),
                  _e("payments", "dispute", "unknown", "200.00", tx="ch_1"), _e("payments", "charge", "success", "200.00", tx="ch_1"),
                  _e("payments", "charge", "success", "30.00", tx="ch_2"), _e("orders", "order", "success", "80.00", "GBP"),
                  _e("pos", "sale", "success", "999.00"), _e("payments", "charge", "failure", "10.00")])
    # the dispute's fee (15) is a loss; its charge is lost, not also at risk; sales and declines are neither
    assert got["loss"] == {"EUR": 50.0, "USD": 315.0}
    assert got["exposure"] == {"GBP": 80.0, "USD": 30.0}
    assert "1 disputed charges (chargebacks) (USD 215.00 with fees)" in got["basis"]
    assert impact([_e("pos", "sale", "success", "10.00")]) == {"loss": {}, "exposure": {}, "basis": "No cited event moved money."}


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> tuple[Workspace, list[dict], list[dict]]:
    root = tmp_path_factory.mktemp("impact")
    simulate(root / "estate", days=2, scale=0.3, seed=5)
    ws = Workspace.at(root / "home")
    ingest([root / "estate"], ws)
    detect(ws)
    labels = [json.loads(line) for line in (root / "estate" / "labels.jsonl").read_text().splitlines()]
    with reader.opened(ws) as con:
        incidents = list_incidents(con)
    return ws, labels, incidents


def _truth(ws: Workspace, label: dict, activities: tuple[str, ...]) -> float:
    """What the labelled employee refunded or voided at the labelled store in the labelled window, from the
    store (more than the 20 events an alert keeps as its sample)."""
    employees = [e["value"] for e in label["entities"] if e["type"] == "employee"]
    stores = [e["value"] for e in label["entities"] if e["type"] == "store"]
    with reader.opened(ws) as con:
        [(total,)] = con.execute(
            "SELECT coalesce(sum(amount), 0) FROM events WHERE list_contains(?, employee_id) AND list_contains(?, store_id) "
            "AND list_contains(?, activity) AND time BETWEEN ? AND ?",
            [employees, stores, list(activities), datetime.fromisoformat(label["start"].replace("Z", "+00:00")),
             datetime.fromisoformat(label["end"].replace("Z", "+00:00"))]).fetchall()
    return float(total)


def _incident_of(incidents: list[dict], label: dict) -> dict:
    values = {e["value"] for e in label["entities"]}
    return max((i for i in incidents if values & {e["value"] for e in i["entities"]}), key=lambda i: i["risk_score"])


def test_a_break_in_costs_what_the_intruder_refunded_not_the_stores_sales(estate) -> None:
    ws, labels, incidents = estate
    [night] = [label for label in labels if label["scenario"] == "after_hours_intrusion"]
    found = _incident_of(incidents, night)
    assert found["impact"]["loss"] == {"USD": pytest.approx(_truth(ws, night, ("return", "post_void")))} != {"USD": 0}
    assert found["impact"]["exposure"] == {}


def test_refund_fraud_loss_is_the_fraudsters_refunds_and_voids(estate) -> None:
    ws, labels, incidents = estate
    [fraud] = [label for label in labels if label["scenario"] == "refund_fraud"]
    found = _incident_of(incidents, fraud)
    assert found["impact"]["loss"]["USD"] == pytest.approx(_truth(ws, fraud, ("return", "post_void")))


def test_incidents_json_carries_impact_for_every_incident(estate) -> None:
    ws, _, incidents = estate
    out = CliRunner().invoke(app, ["incidents", "--json", "--home", str(ws.home)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows and all(set(r["impact"]) == {"loss", "exposure", "basis"} for r in rows)
    assert {r["id"]: r["impact"] for r in rows} == {i["id"]: i["impact"] for i in incidents}


def test_ranking_puts_open_risk_first_and_leaves_false_positives_out() -> None:
    from storewatch.business.ranking import rank

    def inc(i: int, store: str, risk: int, status: str = "open", loss: float = 0.0, title: str = "Refund fraud: x") -> dict:
        return {"id": f"INC-{i}", "title": title, "risk_score": risk, "status": status, "stores": [store],
                "channels": ["pos"], "impact": {"loss": {"USD": loss} if loss else {}, "exposure": {}, "basis": ""}}

    rows = rank([inc(1, "A", 40, "resolved", loss=900.0), inc(2, "A", 30, "resolved", loss=100.0),
                 inc(3, "B", 90, "new", title="After-hours intrusion at a store: B"), inc(4, "C", 99, "false_positive", loss=5000.0),
                 inc(5, "B", 20, "in_progress", loss=50.0)], "stores")
    assert [r["store"] for r in rows] == ["B", "A"]  # C's only incident was a false positive
    assert (rows[0]["open_risk"], rows[0]["open_incidents"], rows[0]["loss"]) == (110, 2, {"USD": 50.0})
    assert rows[0]["drivers"][0] == {"what": "After-hours intrusion at a store", "risk": 90}
    assert (rows[1]["open_risk"], rows[1]["incidents"], rows[1]["loss"]) == (0, 2, {"USD": 1000.0})


def test_ranking_cli(estate) -> None:
    ws, labels, incidents = estate
    out = CliRunner().invoke(app, ["ranking", "--json", "--home", str(ws.home)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    [fraud] = [label for label in labels if label["scenario"] == "refund_fraud"]
    store = next(e["value"] for e in fraud["entities"] if e["type"] == "store")
    row = next(r for r in data["stores"] if r["store"] == store)
    assert row["loss"]["USD"] >= _incident_of(incidents, fraud)["impact"]["loss"]["USD"] - 0.01  # its loss, and maybe others
    assert {r["channel"] for r in data["channels"]} >= {"pos", "payments"}


def test_funnel_effect_of_card_testing_and_scraping_against_other_days(estate) -> None:
    from storewatch.business import funnel

    ws, labels, incidents = estate
    with reader.opened(ws) as con:
        hours = funnel.hourly(con)

    def effect_of(scenario: str) -> dict:
        [label] = [x for x in labels if x["scenario"] == scenario]
        span = [datetime.fromisoformat(label[k].replace("Z", "+00:00")) for k in ("start", "end")]
        return funnel.effect(hours, *span)

    testing = effect_of("card_testing")["metrics"]
    assert testing["declines"]["measurable"] and testing["declines"]["low"] > 0  # the gateway flooded with declines
    assert testing["declines"]["expected"] < testing["declines"]["seen"] / 5
    scraping = effect_of("scraping_bot")["metrics"]
    assert scraping["product_views"]["measurable"] and scraping["product_views"]["low"] > 0
    # a quiet benign hour: the same measure on an hour with no labelled attack is within its interval
    # hours outside the bursts (labels of up to 6 hours: the waves that move traffic; the day-long ones,
    # refund or chargeback fraud, move no web traffic)
    bursts = [x for x in labels if datetime.fromisoformat(x["end"][:19]) - datetime.fromisoformat(x["start"][:19]) <= timedelta(hours=6)]
    quiet = [h for h in sorted(funnel._covered(hours))
             if not any(x["start"][:13] <= h.strftime("%Y-%m-%dT%H") <= x["end"][:13] for x in bursts)]
    judged = [m for h in quiet if "sessions" in (m := funnel.effect(hours, h, h)["metrics"])]
    assert len(judged) >= 10
    # benign hours: at most one in twenty shows a measurable change in sessions (a 95% interval)
    assert sum(m["sessions"]["measurable"] for m in judged) <= max(1, len(judged) // 20)
    after = funnel.effect(hours, max(hours), max(hours))  # the logs' last hours: not judged
    assert after["metrics"] == {} and "do not cover" in after["note"]
    out = CliRunner().invoke(app, ["funnel", "--json", "--home", str(ws.home)])
    assert out.exit_code == 0 and len(json.loads(out.output)["hours"]) == len(hours)
    inc = CliRunner().invoke(app, ["funnel", "--incident", incidents[0]["id"], "--json", "--home", str(ws.home)])
    assert inc.exit_code == 0 and json.loads(inc.output)["incident"] == incidents[0]["id"]
