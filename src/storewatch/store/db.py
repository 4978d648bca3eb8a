"""The one door to the store: a DuckDB database in the workspace, its tables, views and SQL macros.

Every stage that writes opens the store through `connect` (one process at a time: DuckDB's lock), and
publishes what it wrote as a read snapshot (`storewatch.store.snapshot`) when it is done; readers open
snapshots through `storewatch.store.reader`, never this file, so they neither wait for nor block a writer.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from storewatch.store import schema, segments, snapshot
from storewatch.workspace import Workspace



def _tz_abbreviations() -> tuple[str, str]:
    """DuckDB MAP literals of the zone abbreviations PostgreSQL knows by default: abbreviation -> UTC
    offset in seconds, and abbreviation -> IANA zone for those whose offset changed over the years."""
    offsets, zones = [], []
    text = resources.files("storewatch.store").joinpath("data/tz_abbrevs.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            abbrev, value, *_ = line.split()
            (offsets if value.lstrip("-").isdigit() else zones).append(f"'{abbrev}': '{value}'")
    return "MAP {" + ", ".join(offsets) + "}", "MAP {" + ", ".join(zones) + "}"


_TZ_OFFSETS, _TZ_ZONES = _tz_abbreviations()


def _crawler_networks() -> tuple[str, str]:
    """The crawlers' names as one pattern, and their networks as a DuckDB list literal of
    {ua, net, bits}, from the published lists kept as data beside the store."""
    text = resources.files("storewatch.store").joinpath("data/crawler_networks.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith(("#", "crawler,"))]
    names = "|".join(dict.fromkeys(name for name, _ in rows))
    nets = ", ".join(f"{{'ua': '{name}', 'net': '{net.split('/')[0]}', 'bits': {int(net.split('/')[1])}}}"
                     for name, net in rows)
    return names, f"[{nets}]"


_CRAWLER_NAMES, _CRAWLER_NETWORKS = _crawler_networks()

# Time parsing shared by every mapping: text with a zone designator is honoured (an offset, `Z`, an offset
# after a space as PostgreSQL writes `-03`, or an abbreviation such as `CEST` read as PostgreSQL's Default
# abbreviation set reads it), naive text is read in the zone given for the run (`sw_tz`, UTC unless the
# user says otherwise), and so is text with an abbreviation no one can vouch for (`sw_tz_unknown` names it,
# for the mapping's note); epochs in s or ms. The abbreviation tables are variables of the connection
# (`VARIABLES`), not literals in the macros: a macro is expanded wherever it is used, and binding a
# literal of 200 entries three times per use cost a mapping query tens of milliseconds.
VARIABLES = {"sw_tz_offsets": _TZ_OFFSETS, "sw_tz_zones": _TZ_ZONES}
MACROS = (
    rf"""CREATE OR REPLACE TEMP MACRO sw_tz_abbrev(s) AS
        upper(regexp_extract(trim(s), '\d\s+([A-Za-z]{{3,6}})$', 1))""",
    r"""CREATE OR REPLACE TEMP MACRO sw_tz_unknown(s) AS CASE
        WHEN sw_tz_abbrev(s) <> '' AND getvariable('sw_tz_offsets')[sw_tz_abbrev(s)] IS NULL AND getvariable('sw_tz_zones')[sw_tz_abbrev(s)] IS NULL
        THEN sw_tz_abbrev(s) END""",
    # A UTC offset no zone has (beyond +-14:59, or minutes past 59: `+9999`, `+25:00`) makes the time
    # unparseable, not a time shifted by days. `sw_hhmm_ok` checks the `+HHMM` of strptime's %z.
    r"""CREATE OR REPLACE TEMP MACRO sw_bad_offset(s) AS
        regexp_matches(s, '[+-](?:(?:1[5-9]|[2-9]\d)(?::?\d\d)?|\d\d:?[6-9]\d)$')""",
    r"""CREATE OR REPLACE TEMP MACRO sw_hhmm_ok(o) AS
        abs(try_cast(o AS INTEGER)) % 100 < 60 AND abs(try_cast(o AS INTEGER)) < 1500""",
    r"""CREATE OR REPLACE TEMP MACRO sw_time(s) AS CASE
        WHEN regexp_matches(trim(s), '\d\s+[+-]\d\d(:?\d\d)?$') THEN CASE WHEN NOT sw_bad_offset(trim(s))
          THEN try_cast(regexp_replace(trim(s), '\s+([+-]\d\d(:?\d\d)?)$', '\1') AS TIMESTAMPTZ) END
        WHEN sw_tz_abbrev(s) <> '' THEN CASE
          WHEN sw_tz_abbrev(s) IN ('UTC', 'GMT')  -- most servers: no need to look through the set
            THEN timezone('UTC', try_cast(regexp_replace(trim(s), '\s+[A-Za-z]+$', '') AS TIMESTAMP))
          WHEN getvariable('sw_tz_offsets')[sw_tz_abbrev(s)] IS NOT NULL
            THEN timezone('UTC', try_cast(regexp_replace(trim(s), '\s+[A-Za-z]+$', '') AS TIMESTAMP)
                                 - to_seconds(CAST(getvariable('sw_tz_offsets')[sw_tz_abbrev(s)] AS BIGINT)))
          ELSE timezone(coalesce(getvariable('sw_tz_zones')[sw_tz_abbrev(s)], getvariable('sw_tz'), 'UTC'),
                        try_cast(regexp_replace(trim(s), '\s+[A-Za-z]+$', '') AS TIMESTAMP)) END
        WHEN regexp_matches(trim(s), '([Zz]|[+-]\d\d(:?\d\d)?)$')
          THEN CASE WHEN NOT (sw_bad_offset(trim(s)) AND regexp_matches(trim(s), '\d:\d\d(:\d\d([.,]\d+)?)?\s*[+-][\d:]+$'))
                    THEN try_cast(trim(s) AS TIMESTAMPTZ) END
        ELSE timezone(coalesce(getvariable('sw_tz'), 'UTC'), try_cast(trim(s) AS TIMESTAMP)) END""",
    # Epoch seconds, or milliseconds when larger than 1e11 (year 5138 in seconds). Anything a timestamp
    # cannot hold (1e20, inf, nan) is NULL, as unparseable text is: `to_timestamp` raises on it, and a
    # raising mapping costs a query per hostile record to isolate.
    r"""CREATE OR REPLACE TEMP MACRO sw_epoch_seconds(d) AS
        CASE WHEN d BETWEEN -1e11 AND 1e11 THEN to_timestamp(d) END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_epoch(x) AS CASE
        WHEN try_cast(x AS DOUBLE) > 1e11 THEN sw_epoch_seconds(try_cast(x AS DOUBLE) / 1000)
        ELSE sw_epoch_seconds(try_cast(x AS DOUBLE)) END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_local(ts) AS timezone(coalesce(getvariable('sw_tz'), 'UTC'), ts)""",
    r"""CREATE OR REPLACE TEMP MACRO sw_int(x) AS try_cast(x AS BIGINT)""",
    r"""CREATE OR REPLACE TEMP MACRO sw_nullif(x) AS CASE WHEN x IN ('', '-', '(empty)') THEN NULL ELSE x END""",
    # An IPv4 or IPv6 address (not a host name), cheaply: logs put names, `unix:`, `-` where addresses go.
    r"""CREATE OR REPLACE TEMP MACRO sw_is_ip(x) AS
        coalesce(regexp_full_match(x, '(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*'), false)""",
    # HTTP request lines and targets, shared by the web server mappings (access logs in every shape, error
    # logs' `request:`): the parts of a well-formed `METHOD target[ HTTP/x]` line (NULL otherwise), and the
    # path, query and host of a target in origin form (`/p?q`) or absolute form (`http://host/p?q`).
    r"""CREATE OR REPLACE TEMP MACRO sw_request_parts(r) AS
        CASE WHEN regexp_full_match(r, '[A-Z][A-Z_-]* \S+(?: HTTP/[0-9.]+)?') THEN string_split(r, ' ') END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_url_path(t) AS CASE
        WHEN t IS NULL OR t IN ('', '-') THEN NULL
        WHEN starts_with(t, 'http') AND regexp_matches(t, '^https?://')
          THEN coalesce(nullif(regexp_extract(t, '^https?://[^/?#]*([^?#]*)', 1), ''), '/')
        ELSE split_part(t, '?', 1) END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_url_query(t) AS CASE WHEN contains(t, '?') THEN substr(t, strpos(t, '?') + 1) END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_url_host(t) AS
        CASE WHEN starts_with(t, 'http') AND regexp_matches(t, '^https?://') THEN lower(regexp_extract(t, '^https?://([^/?#:]*)', 1)) END""",
    r"""CREATE OR REPLACE TEMP MACRO sw_private_ip(x) AS
        regexp_matches(x, '^(?:10\.|127\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|169\.254\.|::1$|[fF][cCdD]|[fF][eE]80:)')""",
    r"""CREATE OR REPLACE TEMP MACRO sw_ipv4_int(x) AS CASE WHEN regexp_full_match(x, '(?:\d{1,3}\.){3}\d{1,3}') THEN
        (split_part(x, '.', 1)::BIGINT << 24) + (split_part(x, '.', 2)::BIGINT << 16)
        + (split_part(x, '.', 3)::BIGINT << 8) + split_part(x, '.', 4)::BIGINT END""",
    # Search crawlers as the engines say to verify them: the user agent claims the crawler AND the address is
    # in that engine's published crawl network (data/crawler_networks.csv). A crawler's user agent from
    # anywhere else is a bot pretending.
    rf"""CREATE OR REPLACE TEMP MACRO sw_crawler_claimed(ua) AS regexp_matches(lower(ua), '{_CRAWLER_NAMES}')""",
    # (CASE, not AND: an AND evaluated the network list for every row, claimed or not, 10x the cost.)
    rf"""CREATE OR REPLACE TEMP MACRO sw_crawler_verified(ip, ua) AS CASE WHEN sw_crawler_claimed(ua) THEN len(list_filter(
        {_CRAWLER_NETWORKS},
        lambda n: contains(lower(ua), n.ua) AND sw_ipv4_int(ip) >> (32 - n.bits) = sw_ipv4_int(n.net) >> (32 - n.bits))) > 0
        ELSE FALSE END""",
)

TABLES = (
    schema.create_table_sql("intel", schema.INTEL_COLUMNS),
    """CREATE TABLE IF NOT EXISTS quarantine (
        quarantine_id VARCHAR, run_id BIGINT, quarantined_at TIMESTAMPTZ, source_file VARCHAR,
        source_format VARCHAR, source_line BIGINT, source_offset BIGINT, reason VARCHAR, raw VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id BIGINT, started TIMESTAMPTZ, finished TIMESTAMPTZ, files INTEGER,
        read BIGINT, stored BIGINT, quarantined BIGINT, duplicates BIGINT)""",
    """CREATE TABLE IF NOT EXISTS ingest_files (
        run_id BIGINT, source_file VARCHAR, source_format VARCHAR, read BIGINT, stored BIGINT,
        quarantined BIGINT, duplicates BIGINT, pans_scrubbed BIGINT, note VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS pii_catalog (
        table_name VARCHAR, column_name VARCHAR, category VARCHAR, note VARCHAR)""",
    # Detection output: one row per (detection, key); re-running detection updates rows in place.
    """CREATE TABLE IF NOT EXISTS alerts (
        alert_id VARCHAR PRIMARY KEY, rule_id VARCHAR, kind VARCHAR, title VARCHAR, scenario VARCHAR,
        severity VARCHAR, confidence DOUBLE, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, event_count BIGINT,
        entities STRUCT(type VARCHAR, value VARCHAR)[], evidence JSON, event_ids VARCHAR[], attack VARCHAR[],
        store_id VARCHAR, channel VARCHAR, summary VARCHAR, detected_at TIMESTAMPTZ)""",
    # Alerts an exception (or a false positive's suppression) closed: kept, with the exception that closed
    # them, so the scorecard and the audit can show what was silenced.
    """CREATE TABLE IF NOT EXISTS suppressed_alerts AS SELECT *, NULL::VARCHAR AS exception_id FROM alerts LIMIT 0""",
    # The exception files as the last detect applied them (id, SHA-256 of the file): a file dropped in,
    # edited or deleted by hand is audited when it takes effect.
    """CREATE TABLE IF NOT EXISTS exception_files (exception_id VARCHAR, sha256 VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS incidents (
        incident_id VARCHAR PRIMARY KEY, title VARCHAR, scenario VARCHAR, severity VARCHAR, risk_score INTEGER,
        factors JSON, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ,
        entities STRUCT(type VARCHAR, value VARCHAR)[], alert_count INTEGER, attack VARCHAR[],
        stores VARCHAR[], channels VARCHAR[], summary VARCHAR, status VARCHAR,
        created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS incident_alerts (incident_id VARCHAR, alert_id VARCHAR)""",
    # Analyst verdicts, and the (detection, entity) patterns a confirmed false positive silences.
    """CREATE TABLE IF NOT EXISTS feedback (
        incident_id VARCHAR, verdict VARCHAR, actor VARCHAR, note VARCHAR, recorded_at TIMESTAMPTZ)""",
    # A verdict on one alert of an incident (NULL: on the whole incident).
    """ALTER TABLE feedback ADD COLUMN IF NOT EXISTS alert_id VARCHAR""",
    # The incident's alerts when the verdict was given: incidents are rebuilt by every detect, verdicts stay.
    """ALTER TABLE feedback ADD COLUMN IF NOT EXISTS alert_ids VARCHAR[]""",
    """CREATE TABLE IF NOT EXISTS suppressions (
        suppression_id VARCHAR PRIMARY KEY, rule_id VARCHAR, entity_type VARCHAR, value VARCHAR,
        incident_id VARCHAR, actor VARCHAR, reason VARCHAR, created_at TIMESTAMPTZ)""",
    # Cases (docs/cases.md): the incidents' lifecycle lives in columns added to `incidents` (MIGRATIONS);
    # what analysts add lives here, keyed by incident, and follows an incident when it is merged.
    """CREATE TABLE IF NOT EXISTS case_comments (
        comment_id VARCHAR, incident_id VARCHAR, author VARCHAR, body VARCHAR, created_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS case_history (
        incident_id VARCHAR, changed_at TIMESTAMPTZ, actor VARCHAR, change VARCHAR, detail JSON)""",
    """CREATE TABLE IF NOT EXISTS case_attachments (
        attachment_id VARCHAR, incident_id VARCHAR, name VARCHAR, sha256 VARCHAR, size BIGINT, path VARCHAR,
        actor VARCHAR, added_at TIMESTAMPTZ)""",
    # Alerts an analyst moved (merge, split): correlation keeps them in that incident from then on.
    """CREATE TABLE IF NOT EXISTS alert_pins (
        alert_id VARCHAR PRIMARY KEY, incident_id VARCHAR, actor VARCHAR, pinned_at TIMESTAMPTZ)""",
    # Threat-intel feeds (`storewatch intel`): where each poll stopped (TAXII's added_after) and how it went.
    """CREATE TABLE IF NOT EXISTS intel_feed_state (
        feed VARCHAR PRIMARY KEY, last_pulled TIMESTAMPTZ, cursor VARCHAR, status VARCHAR, detail VARCHAR,
        added INTEGER, removed INTEGER, total INTEGER)""",
    # Incident notifications sent (`storewatch.respond.notify`): one row per incident and level, and per digest.
    """CREATE TABLE IF NOT EXISTS notifications (
        incident_id VARCHAR, level VARCHAR, rank INTEGER[], kind VARCHAR, channels VARCHAR[], sent_at TIMESTAMPTZ,
        detail VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS detect_runs (
        run_id BIGINT, started TIMESTAMPTZ, finished TIMESTAMPTZ, detections INTEGER, alerts INTEGER,
        new_alerts INTEGER, incidents INTEGER, new_incidents INTEGER, errors JSON)""",
)

# Changes to tables of older stores, in order, each safe to run again: columns are only ever added (at the
# end), and values of an older version are rewritten to what this one means by them.
MIGRATIONS = (
    *(f"ALTER TABLE incidents ADD COLUMN IF NOT EXISTS {column}" for column in (
        "assignee VARCHAR", "resolution VARCHAR", "duplicate_of VARCHAR", "severity_override VARCHAR",
        "tags VARCHAR[]", "acknowledged_at TIMESTAMPTZ", "resolved_at TIMESTAMPTZ")),
    # Before cases an incident was open, confirmed or false_positive.
    "UPDATE incidents SET status = 'new' WHERE status IS NULL OR status = 'open'",
    """UPDATE incidents SET resolution = CASE status WHEN 'confirmed' THEN 'true_positive' ELSE status END,
        status = 'resolved', resolved_at = coalesce(resolved_at, updated_at)
        WHERE status IN ('confirmed', 'false_positive')""",
)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and bring older ones up to this version (writers, and readers' private copies)."""
    for ddl in (*TABLES, *MIGRATIONS):
        con.execute(ddl)
    for c in schema.INTEL_COLUMNS:  # a store from before a column was added gains it
        con.execute(f"ALTER TABLE intel ADD COLUMN IF NOT EXISTS {c.name} {c.sql_type}")


class StoreBusy(RuntimeError):
    """The store is open for writing in another process: DuckDB lets one process write a database."""


def connect(ws: Workspace, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the workspace store, creating its tables on first use. Read-only opens are for tests and tools
    that know no writer runs; commands read snapshots (`storewatch.store.reader`)."""
    try:
        con = duckdb.connect(str(ws.db_path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        holder = str(exc).partition("Conflicting lock is held in")[2].split(". See")[0].strip()
        raise StoreBusy(f"The store {ws.db_path} is in use by another process{f' ({holder})' if holder else ''}: "
                        "wait for it to finish, or give this command another --home.") from exc
    if not read_only:
        migrate(con)
        segments.migrate_table(con, ws)
        _write_pii_catalog(con)
    segments.ensure(ws, writer=not read_only)
    prepare(con, ws)
    if not read_only and snapshot.latest(ws) is None:  # readers have something to read from the start
        snapshot.publish(con, ws)
    return con


def prepare(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """What every connection to the store needs and keeps to itself: UTC, the SQL macros, and the
    `events` and `event_entities` views (temporary, so a moved workspace still finds its segments).
    A cursor of a connection is a connection of its own, and needs this too."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET parquet_metadata_cache = true")
    define_macros(con)
    if not segments.has_legacy_table(con):  # else a store from before segments, opened read-only: its table serves
        con.execute(segments.view_sql(ws))
    con.execute(schema.entities_view_sql())


def define_macros(con: duckdb.DuckDBPyConnection, temp: bool = True) -> None:
    """The SQL macros, and the variables they read, on one connection (`prepare` does this and more).
    Not `temp`: in the connection's database, for every cursor of a reader's in-memory database (the
    variables stay the connection's own: readers do not parse text times)."""
    for name, value in VARIABLES.items():
        con.execute(f"SET VARIABLE {name} = {value}")
    for macro in MACROS:
        con.execute(macro if temp else macro.replace("TEMP MACRO", "MACRO", 1))


def dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    """A query's rows as dicts by column name: what the read-only views hand to templates and JSON."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[duckdb.DuckDBPyConnection]:
    """Arrow tables visible to `con`'s queries under the given names for the length of the block: a
    registration belongs to the connection and outlives the query unless it is taken back."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            con.unregister(name)


@contextmanager
def opened(ws: Workspace, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store for the length of the block; a writer that ends without an error publishes what it wrote."""
    con = connect(ws, read_only=read_only)
    try:
        yield con
        if not read_only:
            snapshot.publish(con, ws)
    finally:
        con.close()


def _write_pii_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """Which columns hold personal data, regenerated from the schema so it can never drift."""
    rows = [("events", col, cat, schema.COLUMNS[col].doc) for col, cat in schema.pii_columns().items()]
    rows += [
        ("events", "attributes", "mixed", "May hold addresses and names from orders"),
        ("quarantine", "raw", "mixed", "Raw malformed records (card numbers already tokenized)"),
    ]
    con.execute("DELETE FROM pii_catalog")
    con.executemany("INSERT INTO pii_catalog VALUES (?, ?, ?, ?)", rows)


def append_events(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Add events given as any subset of the schema's columns, in any type DuckDB can cast to the
    column's, as one new segment of the store `con` is open on; returns how many were added."""
    cols = ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" if c.name in table.column_names
                     else f"NULL::{c.sql_type} AS {c.name}" for c in schema.EVENT_COLUMNS)
    with registered(con, _append_events=table):
        events = con.sql(f"SELECT {cols} FROM _append_events").to_arrow_table()
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    segments.append(Workspace(Path(path).parent), events)
    return events.num_rows
