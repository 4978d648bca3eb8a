"""Train, evaluate and promote model versions, on demand or on the schedule `watch` keeps.

`train` reads a read snapshot of the store (it never blocks the writer), saves the new version as a
candidate, evaluates it against the current version and promotes it only if the model's rule says it is
not worse (learn/anomaly.py, learn/triage.py); otherwise it stays a candidate with the reasons.
`due_retrains` names the models whose current version is older than the `models.retrain_days` setting
(default RETRAIN_DAYS), that have none yet, whose verdicts changed since (triage), or, with
`models.retrain_on_drift` set, whose features drifted (PSI at or above 0.25).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storewatch.learn import anomaly, drift, registry, triage
from storewatch.store import reader
from storewatch.workspace import Workspace

RETRAIN_DAYS = 7
MODELS = tuple(f"outliers.{k}" for k in anomaly.KINDS) + (triage.MODEL,)


def _module(model: str):
    if model == triage.MODEL:
        return triage
    if model in MODELS:
        return anomaly
    raise registry.ModelError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")


def train(ws: Workspace, model: str, trigger: str = "on demand", promote: bool = True) -> dict:
    """Train one model; returns the new version's manifest (status current if promoted, with `evaluation`)."""
    module = _module(model)
    with reader.opened(ws) as con:
        doc = (triage.train(ws, con, trigger) if module is triage
               else anomaly.train(ws, con, model.split(".", 1)[1], trigger))
        result = module.evaluate(ws, con, doc)
    doc = registry.note(ws, doc["id"], "evaluation", result)
    if promote and not result["reasons"]:
        against = result["against"]
        doc = registry.promote(ws, doc["id"], f"evaluation: not worse than {against}" if against else
                               "first version of the model", actor="storewatch")
    return doc


def _settings(ws: Workspace) -> tuple[int, bool]:
    values = ws.settings()
    days = values.get("models.retrain_days") or [str(RETRAIN_DAYS)]
    on_drift = (values.get("models.retrain_on_drift") or ["false"])[0].lower() in ("true", "yes", "1", "on")
    return int(days[0]), on_drift


def due_retrains(ws: Workspace, now: datetime | None = None) -> list[dict]:
    """[{model, why}] for every model due a retrain; `watch` calls `train` for each."""
    now = now or datetime.now(timezone.utc)
    days, on_drift = _settings(ws)
    due = []
    with reader.opened(ws) as con:
        drifted = {m["model"] for m in drift.drift(ws, con)["models"] if m["level"] == "drifted"} if on_drift else set()
        verdicts = triage.verdict_counts(con)
    for model in MODELS:
        doc = registry.current(ws, model)
        if model == triage.MODEL:
            if triage.deferral(verdicts) is None and (
                    doc is None or {k: doc["rows"][k] for k in verdicts} != verdicts):
                due.append({"model": model, "why": "verdicts changed since the current version"})
            continue
        if doc is None:
            due.append({"model": model, "why": "no version yet"})
        elif datetime.fromisoformat(doc["created"].replace("Z", "+00:00")) <= now - timedelta(days=days):
            due.append({"model": model, "why": f"current version older than {days} days"})
        elif model in drifted:
            due.append({"model": model, "why": "features drifted (PSI >= 0.25)"})
    return due


def retrain_due(ws: Workspace) -> list[dict]:
    """Train every due model (what `watch` runs on its schedule); a model that cannot train says why."""
    out = []
    for item in due_retrains(ws):
        try:
            doc = train(ws, item["model"], trigger=f"scheduled: {item['why']}")
            out.append({**item, "version": doc["id"], "status": doc["status"]})
        except registry.ModelError as exc:
            out.append({**item, "version": None, "status": "not trained", "error": str(exc)})
    return out
