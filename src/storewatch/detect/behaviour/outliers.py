"""The model's view of an entity-day: how unusual one internal host's network day, or one database user's
day, is among the estate's other entity-days of the same kind, learned from the estate itself.

Features are built per entity per UTC day in one DuckDB query each and log-scaled (volumes span decades).
Rules decide what fires; the model grades the rules' alerts (`annotate`), so an analyst sees whether the
whole day of that entity, not just the rule's one figure, looked abnormal.

No suspect sets the bar. The entity-days the rules alerted on (the suspects) are left out of the
reference, the estate's other entity-days. An IsolationForest (fixed seed, so the same store always gives
the same scores) fitted on the reference scores the reference; that distribution is the bar, and a
suspect's anomaly is reported as its percentile in it (1.0: more unusual than every ordinary entity-day).
Each suspect is scored by a forest fitted on the reference plus that suspect alone: isolation measures
how quickly a point separates from a sample it belongs to, and a forest that never saw the point routes
it to the leaf of the sample's most extreme member, so a day a thousand times the busiest scores like the
busiest (cross-fitting measured that: port scans fell from the top host-day to the 87th-95th percentile).
One point cannot make itself look normal; a crowd of like suspects could (masking), and they never share
a sample. The features that deviate most from the reference days of its peers, other entities only
(robust z: median / MAD), say why. With a single entity its own other days are the reference; with fewer
than MIN_TRAIN reference entity-days the model abstains and the rule's certainty stands alone.

Once a version of the model has been trained and promoted (`storewatch models`, docs/learning.md), the
reference is that version's stored one (its entity-days and fitted forest, checked against their hashes)
rather than the store's current days: the same store and version always give the same scores, the model
does not drift with whatever arrived since, and every graded alert names the version (`ml_model_version`).
Without one, the reference is fitted in the run as described above and the version is null.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import joblib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.ensemble import IsolationForest

from storewatch.detect.behaviour.common import ASSETS_CTE, external, internal
from storewatch.learn import registry
from storewatch.store import db
from storewatch.workspace import Workspace

# Hours of the day the estate is quiet: fewer actors (hosts, devices, users, addresses) active in that hour
# of day than this share of the median hour's. Learned from the store, so a 24/7 estate has few off hours
# and a shop estate has nights; counted in actors, not events, so a loud night-time attacker adds one
# actor to its hour and cannot make the night look busy.
QUIET_SHARE = 0.5
OFF_HOURS_CTE = f"""
  _hourly AS (
    SELECT hour(time) AS h,
           count(DISTINCT hash(date_trunc('day', time), coalesce(host, device, user_name, employee_id, src_ip, store_id)))
             AS n
    FROM events GROUP BY ALL),
  off_hours AS (SELECT h FROM _hourly WHERE n < {QUIET_SHARE} * (SELECT median(n) FROM _hourly))"""

# An internal host's network day. Sysmon and Zeek may both record the same connection, so each feature
# is taken from the sensor that saw most of it rather than summed across sensors. Peers are hosts whose
# names share a shape once digits are masked (POS-0125-02 -> POS-#-#); unnamed hosts (no endpoint
# telemetry, typically servers) are grouped by /24, as a subnet usually holds one role (app servers).
HOST_SQL = f"""
WITH {OFF_HOURS_CTE}, {ASSETS_CTE},
per_sensor AS (
  SELECT src_ip AS entity, date_trunc('day', time) AS day,
         coalesce(sum(bytes_out), 0) AS bytes_out, coalesce(sum(bytes_in), 0) AS bytes_in, count(*) AS connections,
         count(DISTINCT dst_ip) FILTER ({external('dst_ip')}) AS external_destinations,
         count(DISTINCT dst_port) AS ports,
         count(*) FILTER (outcome = 'failure') / count(*) AS failed_share,
         count(*) FILTER (hour(time) IN (SELECT h FROM off_hours)) / count(*) AS off_hours_share
  FROM events
  WHERE class_name = 'Network Activity' AND dst_ip IS NOT NULL AND {internal('src_ip')}
  GROUP BY src_ip, day, source_format
)
SELECT p.entity, p.day, coalesce(regexp_replace(any_value(a.host), '[0-9]+', '#', 'g'),
                                  regexp_replace(p.entity, '[.:][0-9a-f]*$', '')) AS peers,
       max(COLUMNS(p.* EXCLUDE (entity, day)))
FROM per_sensor p LEFT JOIN assets a ON a.ip = p.entity GROUP BY p.entity, p.day ORDER BY p.entity, p.day
"""

# A database user's day from audit records; the client address of a statement is its session's
# connection record (same backend pid, latest connect before the statement). `client_hours` is how
# established the day's least established client is (hours it shows up in any telemetry): servers are
# present all day, a laptop plugged in for a dump is not; statements with no known client count as typical.
DB_USER_SQL = f"""
WITH {OFF_HOURS_CTE},
db AS (SELECT *, try_cast(attributes->>'pid' AS BIGINT) AS pid FROM events WHERE channel = 'database'),
conns AS (SELECT pid, time, src_ip FROM db WHERE src_ip IS NOT NULL AND pid IS NOT NULL),
presence AS (
  SELECT ip, count(DISTINCT date_trunc('hour', time)) AS hours
  FROM (SELECT src_ip AS ip, time FROM events WHERE src_ip IN (SELECT src_ip FROM conns)
        UNION ALL SELECT dst_ip, time FROM events WHERE dst_ip IN (SELECT src_ip FROM conns))
  GROUP BY ip
),
statements AS (
  SELECT d.user_name AS entity, date_trunc('day', d.time) AS day, d.time, c.src_ip,
         CASE WHEN d.reason = 'READ' OR d.activity IN ('select', 'copy') THEN try_cast(d.attributes->>'rows' AS BIGINT) END
           AS rows,
         lower(regexp_extract(d.query, '(?i)\\b(?:from|into|update|join)\\s+([A-Za-z0-9_."]+)', 1)) AS tbl
  FROM db d ASOF LEFT JOIN conns c ON d.pid = c.pid AND d.time >= c.time
  WHERE d.class_name = 'Datastore Activity' AND d.user_name IS NOT NULL AND d.query IS NOT NULL
)
SELECT entity, day, '' AS peers, count(*) AS statements, coalesce(sum(rows), 0) AS rows_read,
       count(DISTINCT nullif(tbl, '')) AS tables, count(DISTINCT src_ip) AS client_ips,
       count(*) FILTER (hour(time) IN (SELECT h FROM off_hours)) / count(*) AS off_hours_share,
       coalesce(min(p.hours), (SELECT median(hours) FROM presence)) AS client_hours
FROM statements LEFT JOIN presence p ON p.ip = statements.src_ip GROUP BY ALL ORDER BY entity, day
"""

SQL = {"host": HOST_SQL, "db_user": DB_USER_SQL}
SHARES = {"failed_share", "off_hours_share"}  # already 0-1; every other feature is a count or volume

N_TREES = 100
SEED = 0
MIN_TRAIN = 3  # reference entity-days the model needs (a forest of one or two points scores everything alike)
# The MAD of a feature can be 0 (every host has the same port count); a tenth of a decade (or of a
# share) keeps z finite and strict.
MAD_FLOOR = 0.1
TOP_FEATURES = 3
TOP_TYPE = pa.list_(pa.struct([("feature", pa.string()), ("value", pa.float64()), ("z", pa.float64())]))
MIN_PEERS = 10  # reference entity-days a peer group needs before it is its own baseline
# Weight of the rule's own certainty against the model's percentile in an alert's confidence.
RULE_WEIGHT = 0.5


def features(con: duckdb.DuckDBPyConnection, kind: str) -> pa.Table:
    """Entity-day feature table (entity, day, peers, raw features...) for `kind` ('host' or 'db_user')."""
    return con.sql(SQL[kind]).to_arrow_table()


def scaled(table: pa.Table, names: list[str]) -> np.ndarray:
    """The named feature columns as a matrix: counts and volumes as log10(1 + x), shares as they are."""
    cols = [table[n].to_numpy(zero_copy_only=False).astype(float) for n in names]
    return np.column_stack([c if n in SHARES else np.log10(np.maximum(c, 0) + 1) for n, c in zip(names, cols)])


def robust_z(x: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """Per-column robust z of `x`: distance from the median of `base` (default `x`) in its (floored) MADs
    scaled to a normal sigma."""
    base = x if base is None else base
    med = np.median(base, axis=0)
    mad = np.maximum(1.4826 * np.median(np.abs(base - med), axis=0), MAD_FLOOR)
    return (x - med) / mad


def peer_z(x: np.ndarray, peers: np.ndarray, groups: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Robust z of each row against the reference rows of the other groups (entities): of its peer group
    when that has MIN_PEERS such rows (a terminal is compared with terminals), else of them all (a file
    server with the estate). Its own entity's days and every suspect are left out."""
    z = np.zeros_like(x)
    for group in np.unique(groups):
        rows = groups == group
        others = reference & ~rows
        for peer in np.unique(peers[rows]):
            members, same = rows & (peers == peer), others & (peers == peer)
            z[members] = robust_z(x[members], x[same] if same.sum() >= MIN_PEERS else x[others])
    return z


def forest(sample: np.ndarray) -> IsolationForest:
    """The model: an IsolationForest with a fixed seed, so one sample always gives one forest."""
    return IsolationForest(n_estimators=N_TREES, contamination="auto", random_state=SEED).fit(sample)


def isolation(x: np.ndarray, reference: np.ndarray, fitted: IsolationForest | None = None) -> np.ndarray:
    """Anomaly (higher is stranger) of every row: the reference's from a forest fitted on the reference
    (`fitted`, when a stored version brings it), each suspect's from a forest fitted on the reference plus
    that suspect alone."""
    anomaly = np.zeros(len(x))
    anomaly[reference] = -(fitted or forest(x[reference])).score_samples(x[reference])
    for i in np.flatnonzero(~reference):
        anomaly[i] = -forest(np.vstack([x[reference], x[i]])).score_samples(x[i:i + 1])[0]
    return anomaly


def score(table: pa.Table, suspects: np.ndarray | None = None, fitted: IsolationForest | None = None) -> pa.Table:
    """(entity, day, percentile, top_features) for a feature table. `suspects` marks the entity-days under
    judgement (the rules' alerts): they are ranked in the reference (every other row) and never part of it.
    Nulls when the reference has fewer than MIN_TRAIN rows. `fitted`: the reference's stored forest."""
    n, names = table.num_rows, table.column_names[3:]
    keys = {"entity": table["entity"], "day": table["day"]}
    reference = np.ones(n, bool) if suspects is None else ~np.asarray(suspects, bool)
    if reference.sum() < MIN_TRAIN:
        return pa.table({**keys, "percentile": pa.nulls(n, pa.float64()), "top_features": pa.nulls(n, TOP_TYPE)})
    # whose rows a row's z leaves out: its entity's, or with a single entity only its own day's
    groups = np.asarray(table["entity"].to_pylist(), dtype=object)
    if len(np.unique(groups[reference])) < 2:
        groups = np.asarray([str(d) for d in table["day"].to_pylist()], dtype=object)
    x = scaled(table, names)
    anomaly = isolation(x, reference, fitted)
    pct = np.searchsorted(np.sort(anomaly[reference]), anomaly, side="right") / reference.sum()
    z = peer_z(x, np.asarray(table["peers"].to_pylist()), groups, reference)
    raw = {name: table[name].to_pylist() for name in names}
    top = [[{"feature": names[j], "value": float(raw[names[j]][i]), "z": round(float(z[i, j]), 1)}
            for j in np.argsort(-np.abs(z[i]), kind="stable")[:TOP_FEATURES]] for i in range(n)]
    return pa.table({**keys, "percentile": np.round(pct, 3), "top_features": pa.array(top, TOP_TYPE)})


def model_name(kind: str) -> str:
    return f"outliers.{kind}"


def bind_variable(kind: str) -> str:
    """The DuckDB variable through which `detect` names the current version of the `kind` model."""
    return f"sw_model_outliers_{kind}"


def load(ws: Workspace, vid: str) -> tuple[pa.Table, IsolationForest]:
    """A stored version's reference entity-days and fitted forest, each checked against its hash."""
    doc = registry.manifest(ws, vid)
    reference = pq.read_table(registry.artefact(ws, doc, "reference.parquet"))
    return reference, joblib.load(registry.artefact(ws, doc, "forest.joblib"))


def _stored(con: duckdb.DuckDBPyConnection, kind: str) -> tuple[str, pa.Table, IsolationForest] | None:
    home, vid = (con.execute(f"SELECT getvariable('{name}')").fetchall()[0][0]
                 for name in ("sw_models_home", bind_variable(kind)))
    if not home or not vid:
        return None
    reference, fitted = load(Workspace(Path(home)), vid)
    return vid, reference, fitted


def score_stored(table: pa.Table, rows: np.ndarray, reference: pa.Table, fitted: IsolationForest) -> pa.Table:
    """Score `table`'s marked rows against a stored reference: the rows are the suspects, the stored
    entity-days the reference (the store's other days play no part)."""
    picked = table.filter(pa.array(np.asarray(rows, bool))).select(reference.column_names)
    combined = pa.concat_tables([reference, picked.cast(reference.schema)])
    marks = np.r_[np.zeros(reference.num_rows, bool), np.ones(picked.num_rows, bool)]
    return score(combined, marks, fitted).slice(reference.num_rows)


def annotate(con: duckdb.DuckDBPyConnection, alerts: pa.Table, kind: str) -> pa.Table:
    """Alerts with the model's view: `confidence` blends the rule's `certainty` (0-1) with the entity-day's
    percentile, and evidence gains `ml_anomaly_percentile` and `ml_top_features` (left out when the model
    abstains: fewer than MIN_TRAIN reference entity-days, or no entity-day for the alert).

    `alerts` carries two helper columns, dropped here: `ml_entity` (the host's IP or the database user the
    alert is about) and `certainty`; the entity-day is the UTC day of the alert's first_seen. The alerts'
    entity-days are the suspects: none of them is in the reference.
    """
    if alerts.num_rows == 0:
        return alerts.drop_columns(["ml_entity", "certainty"])
    table = features(con, kind)
    with db.registered(con, _ml_alerts=alerts, _ml_features=table):
        suspects = con.sql("""
            SELECT EXISTS (SELECT 1 FROM _ml_alerts a WHERE a.ml_entity = f.entity
                           AND date_trunc('day', a.first_seen) = f.day) AS suspect
            FROM (SELECT entity, day, row_number() OVER () AS i FROM _ml_features) f ORDER BY f.i
        """).fetchnumpy()["suspect"]
    stored = _stored(con, kind)
    vid = stored[0] if stored else None
    scores = score(table, suspects) if stored is None else score_stored(table, suspects, *stored[1:])
    with db.registered(con, _ml_alerts=alerts, _ml_scores=scores):
        return con.sql(f"""
            SELECT a.* EXCLUDE (ml_entity, certainty, evidence),
                   json_merge_patch(a.evidence::JSON, json_object('ml_anomaly_percentile', s.percentile,
                                                                  'ml_top_features', s.top_features,
                                                                  'ml_model_version', ?::VARCHAR)) AS evidence,
                   round({RULE_WEIGHT} * least(a.certainty, 1.0)
                         + {1 - RULE_WEIGHT} * coalesce(s.percentile, least(a.certainty, 1.0)), 3) AS confidence
            FROM _ml_alerts a
            LEFT JOIN _ml_scores s ON s.entity = a.ml_entity AND s.day = date_trunc('day', a.first_seen)
        """, params=[vid]).to_arrow_table()
