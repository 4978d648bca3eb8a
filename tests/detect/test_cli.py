"""The CLI contract other tools rely on: detect, incidents --json, incident, evaluate."""

from __future__ import annotations

import re

import orjson
from typer.testing import CliRunner

from storewatch.cli import app

runner = CliRunner()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_incidents_json_contract(estate) -> None:
    out = cli("incidents", "--home", str(estate.ws.home), "--json")
    assert out.exit_code == 0
    rows = orjson.loads(out.stdout)
    assert rows, "the simulated attacks produce incidents"
    for r in rows:
        assert {"id", "title", "scenario", "severity", "risk_score", "first_seen", "last_seen", "entities", "alerts",
                "summary"} <= r.keys()
        assert ISO.match(r["first_seen"]) and ISO.match(r["last_seen"]) and r["first_seen"] <= r["last_seen"]
        assert r["severity"] in ("low", "medium", "high", "critical") and 0 <= r["risk_score"] <= 100
        assert all(set(e) == {"type", "value"} for e in r["entities"]) and r["alerts"] >= 1
    assert [r["risk_score"] for r in rows] == sorted((r["risk_score"] for r in rows), reverse=True)


def test_filters(estate) -> None:
    home = str(estate.ws.home)
    every = orjson.loads(cli("incidents", "--home", home, "--json").stdout)
    high = orjson.loads(cli("incidents", "--home", home, "--json", "--min-severity", "high").stdout)
    assert {r["id"] for r in high} == {r["id"] for r in every if r["severity"] in ("high", "critical")}
    latest = max(r["last_seen"] for r in every)
    since = orjson.loads(cli("incidents", "--home", home, "--json", "--since", latest).stdout)
    assert since and all(r["last_seen"] >= latest for r in since)
    bad = runner.invoke(app, ["incidents", "--home", home, "--min-severity", "urgent"])
    assert bad.exit_code == 2 and "urgent" in bad.output


def test_incident_in_full_and_unknown_id(estate) -> None:
    home = str(estate.ws.home)
    first = orjson.loads(cli("incidents", "--home", home, "--json").stdout)[0]
    shown = orjson.loads(cli("incident", first["id"], "--home", home, "--json").stdout)
    assert shown["id"] == first["id"] and len(shown["alert_details"]) == first["alerts"]
    assert all(a["evidence"] for a in shown["alert_details"])
    text = cli("incident", first["id"], "--home", home)
    assert first["id"] in text.stdout and "Why this risk score" in text.stdout
    missing = runner.invoke(app, ["incident", "INC-NOPE", "--home", home])
    assert missing.exit_code == 1


def test_evaluate_json(estate) -> None:
    out = cli("evaluate", "--home", str(estate.ws.home), "--labels", str(estate.raw / "labels.jsonl"), "--json")
    result = orjson.loads(out.stdout)
    assert result["labels"] == len(estate.labels) and 0 <= result["detected"] <= result["labels"]
    assert result["days"] == estate.days


def test_run_is_ingest_detect_and_table(tmp_path) -> None:
    from storewatch.simulate import simulate

    simulate(tmp_path / "estate", days=1, scale=0.05, seed=5)
    out = cli("run", str(tmp_path / "estate"), "--home", str(tmp_path / "ws"))
    assert out.exit_code == 0
    assert "Ingest run" in out.stdout and "detections in" in out.stdout and "Incidents (" in out.stdout
    nothing = runner.invoke(app, ["run", str(tmp_path / "missing"), "--home", str(tmp_path / "ws2")],
                            env={"COLUMNS": "300"})
    assert nothing.exit_code == 2 and "does not exist" in nothing.output and not (tmp_path / "ws2").exists()


def test_config_sets_shows_and_clears_brand_settings(tmp_path) -> None:
    home = str(tmp_path / "ws")
    assert cli("config", "brand.domains", "Northwind.com,northwind.co.uk", "--home", home).exit_code == 0
    shown = orjson.loads(cli("config", "--home", home, "--json").stdout)
    assert {k: v for k, v in shown.items() if k.startswith("brand.")} == \
        {"brand.names": [], "brand.domains": ["northwind.com", "northwind.co.uk"]}
    assert all(v == [] for k, v in shown.items() if not k.startswith("brand."))  # the others unset
    assert runner.invoke(app, ["config", "notify.max_per_hour", "0", "--home", home]).exit_code == 2
    assert cli("config", "notify.min_severity", "HIGH", "--home", home).exit_code == 0
    assert orjson.loads(cli("config", "notify.min_severity", "--home", home, "--json").stdout) == \
        {"notify.min_severity": ["high"]}
    assert {"models.retrain_days", "sla.acknowledge", "stores.hours", "payments.thresholds", "intel.retro_days"} <= set(shown)
    assert "domains" in (tmp_path / "ws" / "settings.yml").read_text()  # a file to review in a diff
    bad = runner.invoke(app, ["config", "brand.domains", "not a domain", "--home", home])
    assert bad.exit_code == 2 and "not a domain name" in bad.output
    assert runner.invoke(app, ["config", "brand.colour", "x", "--home", home]).exit_code == 2
    assert cli("config", "brand.domains", "--unset", "--home", home).exit_code == 0
    assert orjson.loads(cli("config", "brand.domains", "--home", home, "--json").stdout) == {"brand.domains": []}
