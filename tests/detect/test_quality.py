"""The goal as a new user would check it: on every test estate (classic and shipped shapes, classic and
varied habits, a single shop to twice the largest of the others) `storewatch evaluate` finds every labelled
attack, raises at most one false-positive incident a day, ranks the critical attacks at the top, and
alarms on no benign look-alike."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from storewatch.cli import app


def test_every_attack_found_and_at_most_one_false_incident_a_day(estate) -> None:
    out = CliRunner().invoke(app, ["evaluate", "--home", str(estate.ws.home), "--labels", str(estate.raw / "labels.jsonl"),
                                   "--json"], catch_exceptions=False)
    result = orjson.loads(out.stdout)
    missed = {name: s["missed"] for name, s in result["per_scenario"].items() if s["missed"]}
    assert result["recall"] == 1.0 and not missed, missed
    assert result["false_positives_per_day"] <= 1.0, result["false_positives"]
    assert result["critical_in_top"], result["critical_ranks"]
    # With a single day of data a nightly backup has been seen once: no schedule to recognise it by yet.
    alarms = [b["scenario"] for b in result["benign_alarms"]]
    assert not [a for a in alarms if not (estate.days < 2 and a == "nightly_backup")], alarms
