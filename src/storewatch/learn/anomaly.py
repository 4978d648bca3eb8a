"""Training, evaluating and binding versions of the entity-day anomaly model (detect/behaviour/outliers).

What a version learns from (its reference) is every entity-day of the store except:
- entity-days a detection alerted on, unless an analyst called every incident holding that alert a false
  positive or benign (then the day was normal, and learning it is how the verdict reaches the model);
- entity-days inside a confirmed incident (latest verdict true_positive): the incident's entities on the
  days it spans, whether or not an alert named that day;
- days overlapping an excluded period (`storewatch models exclude`);
- the held-out days: the last HOLDOUT_DAYS days, when the store spans more, on which the new version is
  evaluated against the current one.

Promotion rule (a candidate becomes current only if it is not worse; otherwise it stays a candidate with
the reasons in its manifest):
1. every entity-day with a true-positive verdict that the current version scores at or above
   ALERT_PERCENTILE, the candidate also scores there (true attacks must still stand out);
2. the mean percentile of the false-positive and benign entity-days is not above the current's by more
   than TOLERANCE (the analyst's "this is normal" must not be unlearned);
3. the share of ordinary held-out entity-days scored at or above ALERT_PERCENTILE (false alarms on new,
   unseen days) is not above the current's by more than TOLERANCE.
The first version of a model has nothing to be compared with and becomes current.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import duckdb
import joblib
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from storewatch.detect.behaviour import outliers
from storewatch.learn import exclusions, registry
from storewatch.store import db
from storewatch.workspace import Workspace

KINDS = ("host", "db_user")
HOLDOUT_DAYS = 1
ALERT_PERCENTILE = 0.9
TOLERANCE = 0.02
CLEARED = ("false_positive", "benign")

FLAGS_SQL = """
WITH v AS (SELECT incident_id, arg_max(verdict, recorded_at) AS verdict FROM feedback GROUP BY ALL),
av AS (SELECT l.alert_id, bool_or(v.verdict = 'true_positive') AS tp,
              bool_and(coalesce(v.verdict IN ('false_positive', 'benign'), false)) AS cleared
       FROM incident_alerts l LEFT JOIN v USING (incident_id) GROUP BY ALL),
ae AS (SELECT lower(u.e.value) AS value, date_trunc('day', a.first_seen) AS d0, date_trunc('day', a.last_seen) AS d1,
              coalesce(av.tp, false) AS tp, coalesce(av.cleared, false) AS cleared
       FROM alerts a LEFT JOIN av USING (alert_id) CROSS JOIN unnest(a.entities) AS u(e)),
ie AS (SELECT lower(u.e.value) AS value, date_trunc('day', i.first_seen) AS d0, date_trunc('day', i.last_seen) AS d1
       FROM incidents i JOIN v USING (incident_id) CROSS JOIN unnest(i.entities) AS u(e)
       WHERE v.verdict = 'true_positive'),
f AS (SELECT row_number() OVER () AS i, lower(entity) AS value, day FROM _f)
SELECT f.i,
  EXISTS (SELECT 1 FROM ae WHERE ae.value = f.value AND f.day BETWEEN ae.d0 AND ae.d1 AND NOT ae.cleared) AS alerted,
  EXISTS (SELECT 1 FROM ae WHERE ae.value = f.value AND f.day BETWEEN ae.d0 AND ae.d1 AND ae.tp) AS tp,
  EXISTS (SELECT 1 FROM ae WHERE ae.value = f.value AND f.day BETWEEN ae.d0 AND ae.d1 AND ae.cleared) AS cleared,
  EXISTS (SELECT 1 FROM ie WHERE ie.value = f.value AND f.day BETWEEN ie.d0 AND ie.d1) AS confirmed,
  EXISTS (SELECT 1 FROM _p WHERE f.day < _p.t AND f.day + INTERVAL 1 DAY > _p.f) AS excluded
FROM f ORDER BY f.i
"""


def flags(con: duckdb.DuckDBPyConnection, table: pa.Table, periods: list[dict]) -> dict[str, np.ndarray]:
    """Per feature row: alerted (and not cleared), tp, cleared, confirmed, excluded, holdout."""
    p = pa.table({"f": pa.array([x["from"] for x in periods], pa.timestamp("us", "UTC")),
                  "t": pa.array([x["to"] for x in periods], pa.timestamp("us", "UTC"))})
    with db.registered(con, _f=table.select(["entity", "day"]), _p=p):
        out = {k: np.asarray(v, bool) for k, v in con.sql(FLAGS_SQL).fetchnumpy().items() if k != "i"}
    days = np.asarray(table["day"].to_pylist(), dtype=object)
    out["holdout"] = np.zeros(table.num_rows, bool)
    if table.num_rows:
        first, last = min(days), max(days)
        if last - first >= timedelta(days=HOLDOUT_DAYS):
            out["holdout"] = np.asarray([d > last - timedelta(days=HOLDOUT_DAYS) for d in days], bool)
    return out


def data_hash(table: pa.Table) -> str:
    """SHA-256 of the training rows in a canonical order and text form (stable across Parquet writers)."""
    rows = sorted(table.to_pylist(), key=lambda r: (str(r["entity"]), str(r["day"])))
    return hashlib.sha256(orjson.dumps(rows, default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _window(table: pa.Table) -> dict:
    days = table["day"].to_pylist()
    return {"from": min(days).isoformat(), "to": (max(days) + timedelta(days=1)).isoformat()} if days else {}


def train(ws: Workspace, con: duckdb.DuckDBPyConnection, kind: str, trigger: str) -> dict:
    """Fit a new version of the `kind` model on the store's admissible entity-days; save it as a candidate."""
    table = outliers.features(con, kind)
    f = flags(con, table, exclusions.periods(ws))
    keep = ~(f["alerted"] | f["confirmed"] | f["excluded"] | f["holdout"])
    reference = table.filter(pa.array(keep))
    if reference.num_rows < outliers.MIN_TRAIN:
        raise registry.ModelError(f"outliers.{kind}: {reference.num_rows} admissible entity-days, "
                                  f"{outliers.MIN_TRAIN} needed")
    names = table.column_names[3:]
    fitted = outliers.forest(outliers.scaled(reference, names))
    doc = {
        "kind": "anomaly", "trigger": trigger, "features": names, "training_window": _window(reference),
        "holdout_window": _window(table.filter(pa.array(f["holdout"]))),
        "parameters": {"algorithm": "IsolationForest", "n_estimators": outliers.N_TREES, "seed": outliers.SEED,
                       "scaling": "log10(1+x) for counts and volumes, shares as they are",
                       "min_train": outliers.MIN_TRAIN, "holdout_days": HOLDOUT_DAYS},
        "rows": {"entity_days": table.num_rows, "trained_on": reference.num_rows,
                 **{f"left_out_{k}": int(f[k].sum()) for k in ("alerted", "confirmed", "excluded", "holdout")}},
        "data_hash": data_hash(reference),
    }
    return registry.create(ws, outliers.model_name(kind), doc, {
        "reference.parquet": lambda path: pq.write_table(reference, path),
        "forest.joblib": lambda path: joblib.dump(fitted, path),
    })


def metrics(con_table: pa.Table, f: dict[str, np.ndarray], reference: pa.Table, fitted) -> dict:
    """What the promotion rule compares: verdict entity-days' percentiles and the held-out alarm rate."""
    def percentiles(rows: np.ndarray) -> list[float]:
        if not rows.any():
            return []
        return [p for p in outliers.score_stored(con_table, rows, reference, fitted)["percentile"].to_pylist()]

    names = reference.column_names[3:]
    bar = np.sort(-fitted.score_samples(outliers.scaled(reference, names)))
    ordinary = f["holdout"] & ~f["alerted"] & ~f["cleared"]
    alarm = None
    if ordinary.any():
        held = -fitted.score_samples(outliers.scaled(con_table.filter(pa.array(ordinary)), names))
        alarm = round(float(np.mean(np.searchsorted(bar, held, side="right") / len(bar) >= ALERT_PERCENTILE)), 4)
    tp = percentiles(f["tp"])
    fp = percentiles(f["cleared"] & ~f["tp"])
    return {"tp_percentiles": tp, "fp_mean_percentile": round(float(np.mean(fp)), 4) if fp else None,
            "heldout_alarm_rate": alarm, "heldout_entity_days": int(ordinary.sum()),
            "tp_entity_days": len(tp), "fp_entity_days": len(fp)}


def decide(candidate: dict, current: dict | None) -> list[str]:
    """Reasons the candidate is worse than the current version (empty: promote it)."""
    if current is None:
        return []
    reasons = []
    lost = [i for i, (old, new) in enumerate(zip(current["tp_percentiles"], candidate["tp_percentiles"]))
            if old is not None and old >= ALERT_PERCENTILE and (new is None or new < ALERT_PERCENTILE)]
    if lost:
        reasons.append(f"{len(lost)} true-positive entity-days no longer scored at or above {ALERT_PERCENTILE}")
    a, b = candidate["fp_mean_percentile"], current["fp_mean_percentile"]
    if a is not None and b is not None and a > b + TOLERANCE:
        reasons.append(f"false-positive entity-days score higher ({a} vs {b})")
    a, b = candidate["heldout_alarm_rate"], current["heldout_alarm_rate"]
    if a is not None and b is not None and a > b + TOLERANCE:
        reasons.append(f"more held-out false alarms ({a} vs {b})")
    return reasons


def evaluate(ws: Workspace, con: duckdb.DuckDBPyConnection, doc: dict) -> dict:
    """Compare a candidate with its model's current version on the same held-out days and verdicts."""
    kind = doc["model"].split(".", 1)[1]
    table = outliers.features(con, kind)
    f = flags(con, table, exclusions.periods(ws))
    cand = metrics(table, f, *outliers.load(ws, doc["id"]))
    cur_doc = registry.current(ws, doc["model"])
    cur = metrics(table, f, *outliers.load(ws, cur_doc["id"])) if cur_doc else None
    return {"candidate": cand, "current": cur, "against": cur_doc["id"] if cur_doc else None,
            "reasons": decide(cand, cur), "evaluated": registry.now_iso()}


def bind(con: duckdb.DuckDBPyConnection, ws: Workspace) -> dict[str, str | None]:
    """Name the current version of each kind to the detections of this connection (see outliers.annotate)."""
    bound = {}
    con.execute("SET VARIABLE sw_models_home = ?::VARCHAR", [str(ws.home)])
    for kind in KINDS:
        doc = registry.current(ws, outliers.model_name(kind))
        bound[kind] = doc["id"] if doc else None
        con.execute(f"SET VARIABLE {outliers.bind_variable(kind)} = ?::VARCHAR", [bound[kind]])
    return bound

