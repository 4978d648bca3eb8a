"""Scoring incidents against labels: overlap in time plus a shared entity; the rest are false positives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from storewatch.evaluate import LabelsError, data_days, evaluate, read_labels

T0 = datetime(2026, 11, 16, tzinfo=timezone.utc)


def inc(iid: str, values: list[str], start_h: float, end_h: float) -> dict:
    return {"id": iid, "title": iid, "scenario": "x", "first_seen": T0 + timedelta(hours=start_h),
            "last_seen": T0 + timedelta(hours=end_h), "entities": [{"type": "ip", "value": v} for v in values]}


def label(lid: str, values: list[str], start_h: float, end_h: float, severity: str = "high", scenario: str = "s") -> dict:
    return {"id": lid, "scenario": scenario, "severity": severity, "start": T0 + timedelta(hours=start_h),
            "end": T0 + timedelta(hours=end_h), "entities": [{"type": "user", "value": v} for v in values]}


def test_recall_precision_and_false_positives_per_day() -> None:
    incidents = [inc("i1", ["KIM"], 1, 2), inc("i2", ["x"], 1, 2), inc("i3", ["lee"], 30, 31), inc("i4", ["zed"], 5, 6)]
    labels = [label("a", ["kim"], 0, 3, "critical"), label("b", ["lee"], 0, 3), label("c", ["zed"], 5, 5.5, "low", "t")]
    result = evaluate(incidents, labels, days=2)
    assert result["detected"] == 2 and result["recall"] == round(2 / 3, 4)
    assert result["per_scenario"]["s"] == {"labels": 2, "detected": 1, "missed": ["b"]}
    assert result["true_positive_incidents"] == 2 and result["false_positive_incidents"] == 2
    assert result["false_positives_per_day"] == 1.0
    assert result["critical_ranks"] == {"a": 1} and result["critical_in_top"]


def test_benign_lookalike_alarm_is_reported() -> None:
    benign = [label("bn", ["crawler"], 0, 48, "benign", "verified_crawler")]
    result = evaluate([inc("i1", ["crawler"], 3, 4)], [], days=2, benign=benign)
    assert result["recall"] is None and result["benign_alarms"] == [
        {"incident": "i1", "benign": "bn", "scenario": "verified_crawler"}]


def test_days_ignore_a_trickle_after_the_data(tmp_path: Path) -> None:
    assert data_days([50_000, 52_000, 40, 3]) == 2.0
    assert data_days([80_000, 900, 12]) == 1.0
    assert data_days([]) == 1.0


def test_bad_labels_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id":"a","scenario":"s","start":"2026-11-16T00:00:00Z","end":"2026-11-16T01:00:00Z","entities":[]}\n'
                    '{"id":"b","scenario":"s"}\n')
    with pytest.raises(LabelsError, match="labels.jsonl:2"):
        read_labels(path)
