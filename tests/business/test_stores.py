"""In-store analytics: cashier exceptions against leave-one-out peers, after-hours activity, conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.business import stores
from storewatch.cli import app
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import reader
from storewatch.workspace import Workspace


def _cashier(store: str, who: str, transactions: int, **counts: int) -> dict:
    return {"store_id": store, "employee_id": who, "transactions": transactions,
            **{k: counts.get(k, 0) for k in stores.EXCEPTIONS}}


def test_a_cashier_is_judged_against_peers_that_leave_them_out() -> None:
    # A store where one cashier makes all the no-receipt returns: with them in the store's rate, their own
    # bar would be 12 in 400 transactions and they would not stand out against the store.
    cashiers = [_cashier("1", "A", 100, no_receipt_returns=12, returns=14),
                *[_cashier("1", f"B{i}", 100, returns=3) for i in range(3)],
                *[_cashier(str(s), f"C{s}{i}", 120, no_receipt_returns=1, returns=4) for s in range(2, 6) for i in range(3)]]
    [found] = [f for f in stores.outliers(cashiers) if f["exception"] == "no_receipt_returns"]
    assert (found["employee_id"], found["count"], found["per_100"]) == ("A", 12, 12.0)
    assert found["peers"]["store"]["per_100"] < 0.2 and found["peers"]["estate"]["per_100"] == pytest.approx(100 * 12.5 / 1441, abs=0.01)
    assert "A at store 1: 12 returns without a receipt in 100 transactions (12.0 per 100)" in found["explanation"]


def test_busy_returns_desks_and_small_counts_are_not_outliers() -> None:
    # Look-alikes: a cashier with many returns at a store where every cashier has many (a returns desk),
    # and a cashier whose 2 post-voids are rare but too few to report.
    cashiers = [*[_cashier("1", f"D{i}", 100, returns=20) for i in range(4)],
                _cashier("2", "E", 20, post_voids=2),
                *[_cashier("2", f"F{i}", 200) for i in range(3)],
                *[_cashier("3", f"G{i}", 200, returns=2) for i in range(3)]]
    assert [f for f in stores.outliers(cashiers) if f["employee_id"] != "G0"] == []


def test_opening_hours_setting_is_checked() -> None:
    assert stores.parse_hours(["0005=08-21", "*=09-20"]) == {"0005": (8, 21), "*": (9, 20)}
    for bad in ("0005=21-08", "0005=8", "=09-20", "0005=09-25"):
        with pytest.raises(ValueError, match="STORE=HH-HH"):
            stores.parse_hours([bad])


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> tuple[Workspace, list[dict]]:
    root = tmp_path_factory.mktemp("stores")
    simulate(root / "estate", days=2, scale=0.3, seed=5)
    ws = Workspace.at(root / "home")
    ingest([root / "estate" / "pos", root / "estate" / "physical"], ws)
    labels = [json.loads(line) for line in (root / "estate" / "labels.jsonl").read_text().splitlines()]
    return ws, labels


def _entities(label: dict, kind: str) -> set[str]:
    return {e["value"] for e in label["entities"] if e["type"] == kind}


def test_the_simulated_refund_fraudster_leads_the_exception_report(estate) -> None:
    ws, labels = estate
    [fraud] = [label for label in labels if label["scenario"] == "refund_fraud"]
    with reader.opened(ws) as con:
        found = stores.cashier_exceptions(con)
    assert found, "no outlier at all"
    top = found[0]
    assert top["employee_id"] in _entities(fraud, "employee") and top["store_id"] in _entities(fraud, "store")
    assert top["exception"] in ("no_receipt_returns", "returns")


def test_the_simulated_break_in_is_the_after_hours_activity(estate) -> None:
    ws, labels = estate
    [night] = [label for label in labels if label["scenario"] == "after_hours_intrusion"]
    with reader.opened(ws) as con:
        found = stores.after_hours(con)
        configured = stores.after_hours(con, {"*": (0, 24)})  # a chain open around the clock has no after hours
    assert found and {f["store_id"] for f in found} == _entities(night, "store")
    assert set().union(*(f["employees"] for f in found)) <= _entities(night, "employee")
    assert all(night["start"][:10] == f["day"] for f in found)
    assert configured == []


def test_conversion_and_the_cli(estate) -> None:
    ws, _ = estate
    with reader.opened(ws) as con:
        days = stores.conversion(con)
    assert days and all(d["entries"] > 0 and 0 < d["conversion"] < 1 for d in days)  # the simulator's stores agree
    runner = CliRunner()
    out = runner.invoke(app, ["stores", "--json", "--home", str(ws.home)])
    assert out.exit_code == 0, out.output
    assert set(json.loads(out.output)) == {"conversion", "cashier_exceptions", "after_hours"}
    table = runner.invoke(app, ["stores", "--home", str(ws.home)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "Till activity after hours" in table.output


@pytest.mark.parametrize("style,profile", [("classic", "classic"), ("shipped", "varied")])
def test_one_quiet_shop_in_another_style(tmp_path: Path, style: str, profile: str) -> None:
    """One store, its own habits: no other store to compare with, so the store's own other cashiers and other
    days are the only bars; the break-in is still after hours, and no ordinary day is."""
    simulate(tmp_path / "shop", days=3, scale=0.02, seed=11, stores=1, style=style, profile=profile)
    ws = Workspace.at(tmp_path / "home")
    ingest([tmp_path / "shop"], ws)
    labels = [json.loads(line) for line in (tmp_path / "shop" / "labels.jsonl").read_text().splitlines()]
    nights = [label for label in labels if label["scenario"] == "after_hours_intrusion"]
    with reader.opened(ws) as con:
        found = stores.after_hours(con)
        exceptions = stores.cashier_exceptions(con)
    assert {f["day"] for f in found} <= {n["start"][:10] for n in nights}
    assert bool(found) == bool(nights)
    assert all(f["peers"].keys() == {"store"} for f in exceptions)  # no estate peers in a one-store estate
