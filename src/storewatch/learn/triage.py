"""The triage model: which incidents the analyst will call true positives, learned from their verdicts.

Features of an incident (all computed from the store, none from its own verdict): the rule-based risk
score and severity, how many alerts and detections, which detections (one column each), which channels
and entity types (the assets involved), its entities' history (earlier incidents sharing an entity and
the verdicts those got), time of day (hour on the circle), intel hits and the money involved.

A logistic regression (standardized features, balanced classes, L2) predicts P(true positive); benign and
false positive are the negative class (real but expected is not worth the analyst's time). Its weights are
kept in the version's manifest as plain numbers, no pickle. A score is explained by its top contributions:
weight times the standardized feature value, the additive terms of the log-odds.

With fewer than MIN_PER_CLASS verdicts of either class no version is trained, and the ranking is the
rule-based risk score (correlate/scoring.py). A new version is trained on the verdicts before the most
recent HOLDOUT_SHARE of them and promoted only if its precision at the top K of those held-out incidents
is at least the current version's (or, for the first version, the rule-based ranking's).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Sequence

import duckdb
import numpy as np
import orjson
from sklearn.linear_model import LogisticRegression

from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.learn import registry
from storewatch.store.schema import entity_columns
from storewatch.workspace import Workspace

MODEL = "triage"
MIN_PER_CLASS = 8
HOLDOUT_SHARE = 0.25
K = 10
TOP_FEATURES = 3
CHANNELS = ("web", "identity", "payments", "orders", "pos", "physical", "network", "endpoint", "database", "social")
ENTITY_TYPES = tuple(sorted(set(entity_columns().values())))

INCIDENTS_SQL = """
WITH v AS (SELECT incident_id, arg_max(verdict, recorded_at) AS verdict, max(recorded_at) AS at
           FROM feedback GROUP BY ALL)
SELECT i.incident_id, i.risk_score, i.severity, i.alert_count, i.first_seen, i.channels,
       [lower(u.value) FOR u IN i.entities] AS values, [u.type FOR u IN i.entities] AS types,
       (SELECT list(DISTINCT a.rule_id) FROM incident_alerts l JOIN alerts a USING (alert_id)
        WHERE l.incident_id = i.incident_id) AS rules,
       (SELECT coalesce(sum(try_cast(a.evidence->>'amount' AS DOUBLE)), 0) FROM incident_alerts l
        JOIN alerts a USING (alert_id) WHERE l.incident_id = i.incident_id) AS money,
       (SELECT bool_or(a.rule_id LIKE 'intel%' OR coalesce(try_cast(a.evidence->>'intel_match' AS BOOLEAN), false))
        FROM incident_alerts l JOIN alerts a USING (alert_id) WHERE l.incident_id = i.incident_id) AS intel,
       v.verdict, v.at AS verdict_at
FROM incidents i LEFT JOIN v USING (incident_id) ORDER BY i.first_seen, i.incident_id
"""


def incidents(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute(INCIDENTS_SQL)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _history(rows: Sequence[dict]) -> list[dict[str, float]]:
    """Per incident: earlier incidents sharing an entity, and how many of those were verdicted which way."""
    out = []
    for inc in rows:
        mine = set(inc["values"] or [])
        prior = [o for o in rows if o["first_seen"] < inc["first_seen"] and mine & set(o["values"] or [])]
        out.append({"entity_prior_incidents": math.log1p(len(prior)),
                    "entity_prior_true_positive": float(sum(o["verdict"] == "true_positive" for o in prior)),
                    "entity_prior_cleared": float(sum(o["verdict"] in ("false_positive", "benign") for o in prior))})
    return out


def features(rows: Sequence[dict], rules: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The feature matrix of `rows` with one column per detection in `rules` (the training vocabulary)."""
    names: list[str] = []
    cols: list[list[float]] = []

    def add(name: str, values: list[float]) -> None:
        names.append(name)
        cols.append(values)

    hist = _history(rows)
    add("risk_score", [r["risk_score"] / 100 for r in rows])
    add("severity", [float(SEVERITY_RANK.get(r["severity"], 0)) for r in rows])
    add("alerts", [math.log1p(r["alert_count"]) for r in rows])
    add("detections", [float(len(r["rules"] or [])) for r in rows])
    hours = [r["first_seen"].hour + r["first_seen"].minute / 60 for r in rows]
    add("hour_sin", [math.sin(2 * math.pi * h / 24) for h in hours])
    add("hour_cos", [math.cos(2 * math.pi * h / 24) for h in hours])
    add("intel", [float(bool(r["intel"])) for r in rows])
    add("money_log10", [math.log10(1 + max(float(r["money"] or 0), 0)) for r in rows])
    for key in ("entity_prior_incidents", "entity_prior_true_positive", "entity_prior_cleared"):
        add(key, [h[key] for h in hist])
    for ch in CHANNELS:
        add(f"channel:{ch}", [float(ch in (r["channels"] or [])) for r in rows])
    for et in ENTITY_TYPES:
        add(f"entity:{et}", [float(et in (r["types"] or [])) for r in rows])
    for rule in rules:
        add(f"detection:{rule}", [float(rule in (r["rules"] or [])) for r in rows])
    return np.array(cols, dtype=float).T.reshape(len(rows), len(names)), names


def label(row: dict) -> int | None:
    return None if row["verdict"] is None else int(row["verdict"] == "true_positive")


def fit(rows: Sequence[dict], train: Sequence[int]) -> dict:
    """Fit on the incidents at positions `train` of `rows` (their history is read over all `rows`)."""
    rules = sorted({r for i in train for r in (rows[i]["rules"] or [])})
    x, names = features(rows, rules)
    x, y = x[list(train)], np.array([label(rows[i]) for i in train])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit((x - mean) / scale, y)
    return {"features": names, "rules": rules, "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6)}


def predict(weights: dict, rows: Sequence[dict]) -> list[dict]:
    """{score, top_features} per row: P(true positive) and the largest terms of its log-odds."""
    x, names = features(rows, weights["rules"])
    z = (x - np.array(weights["mean"])) / np.array(weights["scale"])
    terms = z * np.array(weights["coef"])
    logit = terms.sum(axis=1) + weights["intercept"]
    out = []
    for i, value in enumerate(logit):
        top = np.argsort(-np.abs(terms[i]), kind="stable")[:TOP_FEATURES]
        out.append({"score": round(1 / (1 + math.exp(-value)), 4),
                    "top_features": [{"feature": names[j], "value": round(float(x[i, j]), 3),
                                      "contribution": round(float(terms[i, j]), 3)} for j in top]})
    return out


def precision_at(order: Sequence[int], labels: Sequence[int], k: int = K) -> float | None:
    """Share of true positives among the first k of `order` (positions into `labels`)."""
    top = list(order)[:k]
    return round(sum(labels[i] for i in top) / len(top), 4) if top else None


def rule_order(rows: Sequence[dict], idx: Sequence[int]) -> list[int]:
    return sorted(idx, key=lambda i: (-rows[i]["risk_score"], rows[i]["incident_id"]))


def model_order(rows: Sequence[dict], idx: Sequence[int], weights: dict) -> list[int]:
    scores = predict(weights, [rows[i] for i in idx])
    by = {i: s["score"] for i, s in zip(idx, scores)}
    return sorted(idx, key=lambda i: (-by[i], -rows[i]["risk_score"], rows[i]["incident_id"]))


def verdict_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """`counts` of the store's incidents straight from their latest verdicts (no features built)."""
    tp, other = con.execute("""
        WITH v AS (SELECT incident_id, arg_max(verdict, recorded_at) AS verdict FROM feedback GROUP BY ALL)
        SELECT count(*) FILTER (verdict = 'true_positive'), count(*) FILTER (verdict <> 'true_positive')
        FROM v JOIN incidents USING (incident_id)""").fetchall()[0]
    return {"true_positive": tp, "other": other}


def counts(rows: Sequence[dict]) -> dict[str, int]:
    labels = [label(r) for r in rows if label(r) is not None]
    return {"true_positive": sum(labels), "other": len(labels) - sum(labels)}


def deferral(c: dict[str, int]) -> str | None:
    """Why the model defers to the rule-based score (too few verdicts of a class, from `counts`), or None."""
    if min(c.values()) < MIN_PER_CLASS:
        return (f"{c['true_positive']} true-positive and {c['other']} other verdicts: "
                f"{MIN_PER_CLASS} of each needed before the triage model ranks")
    return None


def split(rows: Sequence[dict]) -> tuple[list[int], list[int]]:
    """Verdicted incidents in time order: the earlier ones to train, the latest HOLDOUT_SHARE held out."""
    labelled = [i for i, r in enumerate(rows) if label(r) is not None]
    cut = len(labelled) - max(1, round(HOLDOUT_SHARE * len(labelled)))
    return labelled[:cut], labelled[cut:]


def train(ws: Workspace, con: duckdb.DuckDBPyConnection, trigger: str) -> dict:
    rows = incidents(con)
    if why := deferral(counts(rows)):
        raise registry.ModelError(f"triage defers to the risk score: {why}")
    train_idx, held = split(rows)
    if len({label(rows[i]) for i in train_idx}) < 2:
        raise registry.ModelError("triage: the training verdicts hold one class only")
    weights = fit(rows, train_idx)
    first, last = rows[train_idx[0]]["first_seen"], rows[train_idx[-1]]["first_seen"]
    doc = {"kind": "triage", "trigger": trigger, "features": weights["features"], "weights": weights,
           "training_window": {"from": _iso(first), "to": _iso(last)},
           "parameters": {"algorithm": "LogisticRegression", "C": 1.0, "class_weight": "balanced",
                          "min_per_class": MIN_PER_CLASS, "holdout_share": HOLDOUT_SHARE, "k": K},
           "rows": {"incidents": len(rows), "trained_on": len(train_idx), "held_out": len(held), **counts(rows)},
           "data_hash": hashlib.sha256(orjson.dumps(
               [[rows[i]["incident_id"], rows[i]["verdict"]] for i in train_idx])).hexdigest(),
           "held_out_ids": [rows[i]["incident_id"] for i in held]}
    return registry.create(ws, MODEL, doc, {})


def evaluate(ws: Workspace, con: duckdb.DuckDBPyConnection, doc: dict) -> dict:
    """Precision at K of the candidate, the current version and the risk score on the candidate's held-out."""
    rows = incidents(con)
    held = [i for i, r in enumerate(rows) if r["incident_id"] in set(doc["held_out_ids"]) and label(r) is not None]
    labels = [label(r) or 0 for r in rows]
    current = registry.current(ws, MODEL)
    cand = precision_at(model_order(rows, held, doc["weights"]), labels)
    rule = precision_at(rule_order(rows, held), labels)
    cur = precision_at(model_order(rows, held, current["weights"]), labels) if current else None
    baseline = cur if current else rule
    reasons = [] if cand is None or baseline is None or cand >= baseline else [
        f"precision@{K} on held-out verdicts {cand} below {'the current version' if current else 'the risk score'}'s {baseline}"]
    return {"candidate": {"precision_at_k": cand}, "current": {"precision_at_k": cur}, "risk_score": {"precision_at_k": rule},
            "held_out": len(held), "against": current["id"] if current else None, "reasons": reasons,
            "evaluated": registry.now_iso()}


def _iso(ts: datetime) -> str:
    return ts.isoformat()


def attach(ws: Workspace, con: duckdb.DuckDBPyConnection, listed: list[dict]) -> list[dict]:
    """`listed` (incidents as `storewatch incidents --json` gives them, risk order) with a `triage` field,
    re-ranked by the current triage version's score; in risk order, with the reason, when it defers."""
    current = registry.current(ws, MODEL)
    for n, inc in enumerate(listed, 1):
        inc["triage"] = {"score": None, "rank_before": n, "top_features": [], "model_version": None}
    if not listed:
        return listed
    if current is None:
        why = deferral(verdict_counts(con)) or "no triage version promoted yet (`storewatch models train --detector triage`)"
        for inc in listed:
            inc["triage"]["deferred"] = why
        return listed
    by_id = {r["incident_id"]: r for r in incidents(con)}
    rows = [by_id[inc["id"]] for inc in listed]
    for inc, pred in zip(listed, predict(current["weights"], rows)):
        inc["triage"].update(pred, model_version=current["id"])
    return sorted(listed, key=lambda inc: (-inc["triage"]["score"], inc["triage"]["rank_before"]))
