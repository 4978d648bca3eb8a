"""The triage model: defers with few verdicts, and with many ranks true attacks above loud look-alikes."""

from __future__ import annotations

import pytest

from storewatch.correlate.queries import list_incidents
from storewatch.learn import models, registry, triage
from storewatch.learn.feedback import record_feedback
from storewatch.simulate import analyst
from storewatch.store import reader


def _estate(seed: int) -> tuple[list[dict], list[int]]:
    return analyst.incident_stream(seed, days=8, per_day=14)


def _label(rows: list[dict], truth: list[int], upto: int, seed: int, flips: float = 0.1) -> None:
    for row, said in zip(rows[:upto], analyst.verdicts(truth[:upto], seed, flips)):
        row["verdict"] = said


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_many_noisy_verdicts_the_model_beats_the_risk_score_on_later_days(seed: int) -> None:
    rows, truth = _estate(seed)
    cut = 6 * 14  # verdicts on the first six days, ranking judged on the last two
    _label(rows, truth, cut, seed)
    assert triage.deferral(triage.counts(rows)) is None
    weights = triage.fit(rows, range(cut))
    held = list(range(cut, len(rows)))
    by_rule = triage.precision_at(triage.rule_order(rows, held), truth)
    by_model = triage.precision_at(triage.model_order(rows, held, weights), truth)
    assert by_model > by_rule
    explained = triage.predict(weights, rows[cut:cut + 1])[0]
    assert 0 < explained["score"] < 1 and len(explained["top_features"]) == triage.TOP_FEATURES
    assert {f["feature"] for f in explained["top_features"]} <= set(weights["features"])


def test_with_few_verdicts_it_defers_and_says_why() -> None:
    rows, truth = _estate(4)
    _label(rows, truth, 10, 4)
    why = triage.deferral(triage.counts(rows))
    assert why is not None and f"{triage.MIN_PER_CLASS} of each" in why


def test_on_the_store_it_defers_to_the_risk_order_until_verdicts_suffice(estate) -> None:
    with reader.opened(estate) as con:
        listed = list_incidents(con)
    record_feedback(estate, listed[0]["id"], "true_positive", actor="analyst")
    record_feedback(estate, listed[-1]["id"], "false_positive", actor="analyst")
    with pytest.raises(registry.ModelError, match="defers"):
        models.train(estate, triage.MODEL)
    with reader.opened(estate) as con:
        ranked = triage.attach(estate, con, list_incidents(con))
    assert [r["id"] for r in ranked] == [r["id"] for r in listed]
    assert [r["triage"]["rank_before"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert ranked[0]["triage"]["score"] is None and "1 true-positive and 1 other" in ranked[0]["triage"]["deferred"]


def test_a_promoted_triage_version_reranks_the_store_and_explains_each_score(estate, monkeypatch) -> None:
    monkeypatch.setattr(triage, "MIN_PER_CLASS", 2)  # the tiny estate has a dozen incidents, not hundreds
    with reader.opened(estate) as con:
        listed = list_incidents(con)
    # The analyst calls the lowest-risk incidents true positives and the highest false positives.
    for inc in listed[:4]:
        record_feedback(estate, inc["id"], "false_positive", actor="analyst")
    for inc in listed[-4:]:
        record_feedback(estate, inc["id"], "true_positive", actor="analyst")
    doc = models.train(estate, triage.MODEL, promote=False)
    assert doc["rows"]["trained_on"] == 6 and doc["rows"]["held_out"] == 2 and doc["evaluation"]["held_out"] == 2
    registry.promote(estate, doc["id"])
    with reader.opened(estate) as con:
        ranked = triage.attach(estate, con, list_incidents(con))
    scores = [r["triage"]["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True) and {r["triage"]["model_version"] for r in ranked} == {doc["id"]}
    place = {r["id"]: n for n, r in enumerate(ranked)}
    assert max(place[i["id"]] for i in listed[-4:]) < min(place[i["id"]] for i in listed[:4])
    assert sorted(r["triage"]["rank_before"] for r in ranked) == list(range(1, len(listed) + 1))
    assert all(len(r["triage"]["top_features"]) == triage.TOP_FEATURES for r in ranked)
