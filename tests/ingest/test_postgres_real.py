"""PostgreSQL server logs as real servers wrote them (tests/data/real/postgres, see SOURCES.md): every
log_line_prefix shape, csvlog, jsonlog, RDS; multi-line records joined; zones converted to UTC. The expected
values were read off the raw lines."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from storewatch.ingest import reader

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "postgres"
UTC = timezone.utc
FILES = sorted(REAL.glob("*.log"))
# lines in the files that the server did not write: pg_ctl's own two lines in its log file, systemd's in syslog
NOT_RECORDS = {"pgbadger-pg_rawcsv.log": 2, "pgbadger-pg-syslog.log": 3}


LEVEL = re.compile(r"\b(?:LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|NOTICE|INFO):  ")


def records_in(path: Path) -> int:
    """The file's records counted independently of the reader: CSV records for csvlog, lines for jsonlog,
    Cloud Logging entries but those carrying a message's further line (a tab first), syslog lines but the
    [n-k] parts (k > 1) that carry no level of their own, and stderr lines but the indented ones."""
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    if ".csv" in path.name:
        return sum(1 for _ in csv.reader(io.StringIO(text)))
    if ".json" in path.name:
        return len(lines)
    if "cloudsql" in path.name:
        return sum(1 for line in lines if not json.loads(line)["textPayload"].startswith("\t"))
    if "syslog" in path.name or "logplex" in path.name:
        parts = [re.search(r"\[\d+-(\d+)\] (.*)", line) for line in lines]
        return sum(1 for m in parts if m is None or m[1] == "1" or LEVEL.search(m[2].split("\t")[0]))
    return sum(1 for line in lines if not line.startswith(("\t", " ")))


def one(query, sql: str, params: list | None = None) -> dict:
    rows = query(sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def at(query, line: int, columns: str = "*") -> dict:
    return one(query, f"SELECT {columns} FROM events WHERE source_line = ?", [line])


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_real_file_is_read_whole(run, query, path: Path) -> None:
    report = run(path)
    f = report.files[0]
    assert f.source_format.startswith("postgres"), f.source_format
    assert f.read == records_in(path)  # a multi-line record counts once
    assert f.stored + f.quarantined + f.duplicates == f.read
    assert f.quarantined == NOT_RECORDS.get(path.name, 0)
    reasons = {r["reason"] for r in query("SELECT reason FROM quarantine")}
    assert reasons <= {"not a PostgreSQL log record"}
    assert f.stored >= 0.95 * (f.read - NOT_RECORDS.get(path.name, 0))  # of the records the server wrote


def test_debian_prefix_cest_and_statement_joined(run, query) -> None:
    run(REAL / "beats-postgresql-9.6-debian-with-slowlog.log")
    r = at(query, 6, "time, activity, outcome, user_name, db_name, duration, query, attributes->>'pid' AS pid")
    assert r["time"] == datetime(2017, 7, 31, 11, 36, 43, 557000, tzinfo=UTC)  # 13:36:43.557 CEST
    assert (r["user_name"], r["db_name"], r["pid"], r["activity"], r["outcome"]) == ("postgres", "postgres", "4983", "select", "success")
    assert r["duration"] == pytest.approx(0.037118)
    assert r["query"].startswith('SELECT d.datname as "Name",\n       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",\n')
    assert r["query"].endswith("\nFROM pg_catalog.pg_database d\nORDER BY 1;") and "E'\\n'" in r["query"]
    assert [x["source_line"] for x in query("SELECT source_line FROM events ORDER BY 1")][4:8] == [5, 6, 14, 22]
    assert at(query, 5, "user_name")["user_name"] is None  # [unknown]@[unknown]
    r = at(query, 30, "outcome, db_name, message")
    assert (r["outcome"], r["db_name"], r["message"]) == ("failure", "users", 'database "users" does not exist')


def test_pid_with_line_number_and_est(run, query) -> None:
    run(REAL / "beats-postgresql-9.6-new-timestamp.log")
    r = at(query, 1, "time, attributes->>'pid' AS pid")
    assert r == {"time": datetime(2017, 7, 31, 18, 36, 43, tzinfo=UTC), "pid": "835"}  # [%p-%l], 13:36:43 EST


def test_csvlog_connections_password_failures_and_quoted_newlines(run, query) -> None:
    run(REAL / "beats-postgresql-11-connection-disconnection.csv.log")
    r = at(query, 3, "activity, src_ip, src_port, attributes->>'pid' AS pid")
    assert r == {"activity": "connect", "src_ip": "172.24.0.1", "src_port": 42304, "pid": "34"}
    r = at(query, 4, "class_name, activity, outcome, user_name, db_name")
    assert r == {"class_name": "Authentication", "activity": "logon", "outcome": "success", "user_name": "postgres", "db_name": "postgres"}
    r = at(query, 5, "time, activity, query, attributes->>'application' AS app")
    assert r["time"] == datetime(2021, 1, 4, 0, 5, 12, 999000, tzinfo=UTC)
    assert r["query"].endswith("WHERE substring(name,1,10)='log_connec'\nLIMIT 1000") and r["activity"] == "select"
    assert r["app"] == "psql"
    r = one(query, "SELECT * FROM events WHERE activity = 'logoff'")
    assert (r["duration"], r["user_name"], r["src_ip"], r["src_port"]) == (45.407, "postgres", "172.24.0.1", 42304)
    fails = query("SELECT source_line, user_name, src_ip, src_port, outcome, class_name, attributes->>'sqlstate' AS state, "
                  "attributes->>'detail' AS detail FROM events WHERE activity = 'logon' AND outcome = 'failure' ORDER BY 1")
    assert [(f["source_line"], f["user_name"], f["src_ip"], f["src_port"]) for f in fails] == [
        (18, "azlev", "172.24.0.1", 42326), (21, "azlev", "172.24.0.1", 42330),
        (24, "azlev", "172.24.0.1", 42336), (27, "azlev", "172.24.0.1", 42340)]
    assert fails[0]["state"] == "28P01" and fails[0]["class_name"] == "Authentication"
    assert fails[0]["detail"] == 'Role "azlev" does not exist.\nConnection matched pg_hba.conf line 95: "host all all all md5"'


def test_csvlog_statement_over_two_lines_and_ipv6_client(run, query) -> None:
    run(REAL / "beats-postgresql-11-multi-line.csv.log", REAL / "beats-postgresql-11-ipv6.csv.log")
    r = one(query, "SELECT query, duration, user_name, src_ip FROM events WHERE source_file LIKE '%multi-line%'")
    assert r == {"query": "SELECT 'multi',\n'line';", "duration": pytest.approx(0.000658), "user_name": "postgres", "src_ip": "172.24.0.1"}
    r = one(query, "SELECT activity, outcome, user_name, db_name, src_ip, src_port FROM events WHERE source_file LIKE '%ipv6%'")
    assert r == {"activity": "logon", "outcome": "failure", "user_name": "jose.villanova", "db_name": "postgres",
                 "src_ip": "::1", "src_port": 16790}


def test_csvlog_pg14_columns_and_quoted_timestamp(run, query) -> None:
    run(REAL / "pgbadger-csv_statement_without_duration.log")
    r = at(query, 1, "time, duration, query, user_name, db_name, src_ip, attributes->>'application' AS app, "
                     "attributes->>'backend_type' AS backend, attributes->>'session_id' AS session")
    assert r["time"] == datetime(2026, 5, 16, 5, 11, 50, 269000, tzinfo=UTC)
    assert r["duration"] == pytest.approx(688.786283)
    assert r["query"] == "SELECT example_schema.slow_table.id FROM example_schema.slow_table"
    assert (r["user_name"], r["db_name"], r["src_ip"], r["app"], r["backend"], r["session"]) == (
        "example_user", "example_db", "192.0.2.10", "example app", "client backend", "00000001.000003e9")
    assert at(query, 2, "query")["query"] == "SELECT example_schema.health_check()"


def test_csvlog_cet_extended_protocol(run, query) -> None:
    run(REAL / "pgbadger-anonymize.csv.log")
    r = at(query, 1, "time, query, src_ip, src_port, attributes->>'application' AS app, attributes->>'detail' AS detail")
    assert r["time"] == datetime(2021, 1, 22, 9, 3, 22, 785000, tzinfo=UTC)  # 10:03:22.785 CET
    assert r["query"] == "select * from testZustaendigkeiten($1, $2, $3, $4, $5)"
    assert (r["src_ip"], r["src_port"], r["app"]) == ("127.0.0.1", 52306, "PostgreSQL JDBC Driver")
    assert r["detail"].startswith("parameters: $1 = 'XXXXXXXX', $2 = NULL")


def test_jsonlog(run, query) -> None:
    run(REAL / "pgbadger-pg_vacuums.json.log")
    r = at(query, 1, "time, message, attributes->>'pid' AS pid, attributes->>'backend_type' AS backend, attributes->>'session_id' AS session")
    assert r["time"] == datetime(2024, 6, 26, 22, 0, 7, 369000, tzinfo=UTC)  # 00:00:07.369 CEST
    assert (r["pid"], r["backend"], r["session"]) == ("58151", "autovacuum worker", "667c8f67.e327")
    assert r["message"].startswith('automatic analyze of table "testdb.sales.tab_shop_stats"\nI/O timings:')


def test_pgbadger_prefix_user_db_app_client(run, query) -> None:
    run(REAL / "pgbadger-light.postgres.log")
    r = at(query, 2, "time, user_name, db_name, src_ip, query, activity, attributes->>'application' AS app, attributes->>'pid' AS pid")
    assert r == {"time": datetime(2017, 9, 6, 8, 41, 41, tzinfo=UTC), "user_name": "postgres", "db_name": "postgres",
                 "src_ip": "172.23.0.1", "query": "END;", "activity": "end", "app": "pgbench", "pid": "36"}
    r = at(query, 1, "user_name, db_name, src_ip, attributes->>'application' AS app")
    assert r == {"user_name": None, "db_name": None, "src_ip": None, "app": None}  # user=,db=,app=,client=


def test_db_first_prefix_local_clients_and_sessions(run, query) -> None:
    run(REAL / "pgbadger-begin_end.log")
    rows = query("SELECT activity, user_name, db_name, src_ip, duration, attributes->>'client' AS client, "
                 "attributes->>'application' AS app FROM events WHERE attributes->>'pid' = '30291' ORDER BY source_line")
    assert [r["activity"] for r in rows] == ["connect", "logon", "logoff"]
    assert all(r["client"] == "[local]" and r["src_ip"] is None for r in rows)
    assert (rows[1]["user_name"], rows[1]["db_name"], rows[1]["app"]) == ("postgres", "template1", "psql")
    assert rows[2]["duration"] == pytest.approx(0.007)


def test_rds_prefix_with_host_port_and_hba_rejections(run, query) -> None:
    report = run(REAL / "pgbadger-rds.log", REAL / "pgbadger-pg-timezones.log")
    assert {f.source_format for f in report.files} == {"postgres"}  # not auth.log: the `LEVEL:` marker decides
    r = at(query, 11, "time, class_name, activity, outcome, user_name, db_name, src_ip, src_port, attributes->>'pid' AS pid")
    assert r == {"time": datetime(2020, 3, 11, 19, 40, 50, tzinfo=UTC), "class_name": "Authentication", "activity": "logon",
                 "outcome": "failure", "user_name": "gilles", "db_name": "pgbench", "src_ip": "192.168.1.201",
                 "src_port": 50906, "pid": "12795"}
    r = one(query, "SELECT user_name, db_name, src_ip, query, attributes->>'pid' AS pid FROM events "
                   "WHERE source_file LIKE '%pg-timezones%' AND source_line = 1")
    assert r == {"user_name": "user", "db_name": "my_db", "src_ip": "10.1.91.65", "query": "SELECT * FROM t1;", "pid": "24743"}


def test_user_db_keys_and_tab_continued_detail(run, query) -> None:
    run(REAL / "pgbadger-multiline_param.log", REAL / "pgbadger-postgresql_param_range.log")
    r = one(query, "SELECT message FROM events WHERE source_file LIKE '%multiline_param%' AND source_line = 6")
    assert r["message"] == "parameters: $1 = '1234', $2 = 'njchar\nhello', $3 = 'aaaa'"
    r = one(query, "SELECT time, user_name, db_name, attributes->>'application' AS app, attributes->>'pid' AS pid FROM events "
                   "WHERE source_file LIKE '%param_range%' AND source_line = 1")
    assert r == {"time": datetime(2023, 3, 7, 8, 6, 8, tzinfo=UTC), "user_name": "usr6", "db_name": "progdb",
                 "app": "76ae131687c458a8", "pid": "130096"}


def test_error_then_statement_and_msk(run, query) -> None:
    run(REAL / "pgbadger-pg_rawcsv.log", REAL / "pgbadger-stmt_type.log")
    rows = query("SELECT source_line, reason FROM quarantine ORDER BY 1")
    assert rows == [{"source_line": 3, "reason": "not a PostgreSQL log record"}, {"source_line": 4, "reason": "not a PostgreSQL log record"}]
    r = one(query, "SELECT time, query, user_name, db_name, outcome FROM events WHERE source_file LIKE '%rawcsv%' AND source_line = 12")
    assert r == {"time": datetime(2025, 1, 21, 17, 38, 6, 453000, tzinfo=UTC), "query": "SELECT TO_DATE('311299999','DDMMYYYYY');",
                 "user_name": "gilles", "db_name": "gilles", "outcome": "unknown"}
    assert one(query, "SELECT outcome FROM events WHERE source_file LIKE '%rawcsv%' AND source_line = 10")["outcome"] == "failure"
    r = one(query, "SELECT time, activity FROM events WHERE source_file LIKE '%stmt_type%' AND source_line = 1")
    assert r == {"time": datetime(2019, 10, 21, 9, 3, 31, 311000, tzinfo=UTC), "activity": "begin"}  # 12:03:31.311 MSK (+3 in 2019)


def test_query_id_in_prefix(run, query) -> None:
    run(REAL / "pgbadger-queryid.log")
    r = at(query, 1, "attributes->>'query_id' AS qid, query")
    assert r == {"qid": "1081270519976314062", "query": "set log_min_duration_statement to 0;"}
    r = at(query, 16, "activity, query")
    assert r["activity"] == "explain" and r["query"].startswith("explain (analyze,buffers) SELECT\n  avg(viewcount),\n")


def test_query_id_that_looks_like_a_card(run, query) -> None:
    run(REAL / "pgbadger-queryid.log")
    assert at(query, 2, "attributes->>'query_id' AS qid")["qid"] == "4266247047529477710"


@pytest.mark.parametrize("name", ["beats-postgresql-9.6-debian-with-slowlog.log", "beats-postgresql-11-connection-disconnection.csv.log"])
def test_records_span_block_boundaries(run, query, monkeypatch, name: str) -> None:
    """Tiny blocks cut most multi-line records: the reader carries the open one into the next block."""
    run(REAL / name)
    whole = query("SELECT source_line, source_offset, message, query FROM events ORDER BY 1")
    monkeypatch.setattr(reader, "FIRST_BLOCK_BYTES", 97)
    monkeypatch.setattr(reader, "BLOCK_BYTES", 131)
    run(REAL / name)
    again = query("SELECT source_line, source_offset, message, query FROM events ORDER BY 1")
    assert again == whole and len(whole) == records_in(REAL / name)


def test_continuation_rules_and_damage_limit() -> None:
    def records(blocks: list[bytes], rule: reader.Continuation) -> list[tuple[int, int, str]]:
        joiner, line, offset, out = reader._Joiner(rule), 1, 0, []
        for block in blocks:
            batch = reader.line_batch(block, line, offset, keep_blank=True)
            line, offset = line + batch.seen, offset + len(block)
            out += joiner.feed(batch.table).to_pylist()
        out += joiner.flush().to_pylist()
        return [(r["line_no"], r["line_offset"], r["line"]) for r in out]

    quotes = reader.Continuation(quotes=True)
    assert records([b'1,"a\n', b'\nb""c",x\n\n2,"d"\n'], quotes) == [(1, 0, '1,"a\n\nb""c",x'), (5, 15, '2,"d"')]
    indent = reader.Continuation(pattern=r"^[\t ]")
    assert records([b"\tstray\na\n\tb\n", b"\tc\nd\n"], indent) == [(1, 0, "\tstray"), (2, 7, "a\n\tb\n\tc"), (5, 15, "d")]
    # an unclosed quote cannot swallow the file: the record is cut at max_lines and the next line starts afresh
    damaged = records([b'1,"never closed\nx\n', b'y\n2,"a"\n3,"b\nc"\n'], reader.Continuation(quotes=True, max_lines=3))
    assert damaged == [(1, 0, '1,"never closed\nx\ny'), (4, 20, '2,"a"'), (5, 26, '3,"b\nc"')]
    long = records([b"a\n" + b"\tb\n" * 4, b"\tc\nd\n"], reader.Continuation(pattern="^\t", max_lines=2))
    assert [n for n, _, _ in long] == [1, 3, 5, 7]


def test_prefix_shapes_from_the_documentation(run, query, tmp_path: Path) -> None:
    """log_line_prefix shapes users configure (PostgreSQL docs, Azure's '%t-%c-'), each with its zone form."""
    (tmp_path / "a.log").write_text("2024-03-10 14:22:01.123 PDT 10.1.2.3 alice shop [4242] LOG:  statement: select 1\n")
    (tmp_path / "b.log").write_text("< 2024-03-10 14:22:01.123 -03 >LOG:  connection received: host=10.1.2.4 port=5433\n")
    (tmp_path / "c.log").write_text("2024-03-10 14:22:01 +0545 [77] db=shop,user=bob LOG:  duration: 2.500 ms  statement: UPDATE t SET a = 1\n")
    (tmp_path / "d.log").write_text("2024-03-10 14:22:01 UTC-65edc1a9.1f4-LOG:  connection authorized: user=azure_pg_admin database=postgres application_name=psql SSL enabled (protocol=TLSv1.3)\n")
    (tmp_path / "e.log").write_text("2024-03-10 14:22:01.000 XYZT [5] LOG:  checkpoint starting: time\n")
    (tmp_path / "f.log").write_text(
        '2024-03-10 14:22:01.000 UTC [9] alice@shop LOG:  connection authenticated: identity="alice" method=scram-sha-256 (pg_hba.conf:128)\n'
        '2024-03-10 14:22:02.000 UTC [10] bob@shop FATAL:  Ident authentication failed for user "bob"\n')
    report = run(*(tmp_path / f"{n}.log" for n in "abcdef"), tz="Europe/Paris")
    assert {f.source_format for f in report.files} == {"postgres"} and report.totals["stored"] == 7
    auth = query("SELECT class_name, activity, outcome, user_name, attributes->>'auth_method' AS method FROM events "
                 "WHERE source_file LIKE '%f.log' ORDER BY source_line")
    assert auth == [{"class_name": "Authentication", "activity": "authenticate", "outcome": "success", "user_name": "alice", "method": "scram-sha-256"},
                    {"class_name": "Authentication", "activity": "logon", "outcome": "failure", "user_name": "bob", "method": None}]
    rows = {Path(r["source_file"]).stem: r for r in query(
        "SELECT source_file, time, user_name, db_name, src_ip, src_port, duration, activity, "
        "attributes->>'pid' AS pid, attributes->>'application' AS app, attributes->>'time_note' AS note FROM events "
        "WHERE source_file NOT LIKE '%f.log'")}
    assert (rows["a"]["time"], rows["a"]["user_name"], rows["a"]["db_name"], rows["a"]["src_ip"], rows["a"]["pid"]) == (
        datetime(2024, 3, 10, 21, 22, 1, 123000, tzinfo=UTC), "alice", "shop", "10.1.2.3", "4242")
    assert (rows["b"]["time"], rows["b"]["src_ip"], rows["b"]["src_port"]) == (datetime(2024, 3, 10, 17, 22, 1, 123000, tzinfo=UTC), "10.1.2.4", 5433)
    assert (rows["c"]["time"], rows["c"]["user_name"], rows["c"]["db_name"], rows["c"]["activity"], rows["c"]["duration"]) == (
        datetime(2024, 3, 10, 8, 37, 1, tzinfo=UTC), "bob", "shop", "update", 0.0025)
    assert (rows["d"]["user_name"], rows["d"]["db_name"], rows["d"]["app"], rows["d"]["activity"]) == ("azure_pg_admin", "postgres", "psql", "logon")
    # an abbreviation PostgreSQL's Default set does not know: read in --tz, and said so
    assert rows["e"]["time"] == datetime(2024, 3, 10, 13, 22, 1, tzinfo=UTC) and "XYZT" in rows["e"]["note"]


def test_syslog_parts_joined_and_year_from_the_file(run, query, tmp_path: Path) -> None:
    path = tmp_path / "postgresql.log"
    path.write_bytes((REAL / "pgbadger-pg-syslog.log").read_bytes())
    os.utime(path, (datetime(2019, 2, 12, tzinfo=UTC).timestamp(),) * 2)  # BSD syslog has no year: the file's
    report = run(path, tz="Europe/Paris")
    assert report.files[0].source_format == "postgres_syslog"
    r = at(query, 11, "time, user_name, db_name, duration, query, attributes->>'pid' AS pid, attributes->>'application' AS app, "
                      "attributes->>'client' AS client")
    assert r["time"] == datetime(2019, 2, 11, 12, 15, 40, tzinfo=UTC)  # Feb 11 13:15:40, read in --tz
    assert (r["user_name"], r["db_name"], r["pid"], r["app"], r["client"]) == ("postgres", "postgres", "10819", "psql", "[local]")
    assert r["duration"] == pytest.approx(0.013997)
    assert r["query"].startswith('SELECT d.datname as "Name",\n       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",\n')
    assert r["query"].endswith("\nORDER BY 1;") and "#011" not in r["query"]
    assert at(query, 4, "reason, message") == {"reason": "HINT", "message": 'Future log output will go to log destination "syslog".'}


def test_heroku_logplex(run, query) -> None:
    run(REAL / "pgbadger-logplex.log")
    r = at(query, 9, "outcome, message, attributes->>'pid' AS pid, attributes->>'sqlstate' AS state")
    assert r == {"outcome": "failure", "message": "deadlock detected", "pid": "4849", "state": "40P01"}
    r = at(query, 31, "time, activity, duration, query")
    assert r["time"] == datetime(2021, 9, 7, 4, 1, 27, tzinfo=UTC) and r["duration"] == pytest.approx(85.756273)
    assert r["activity"] == "update" and "select COUNT(id) from missions" in r["query"] and "[921320-" not in r["query"]


def test_cloud_sql_entries(run, query) -> None:
    report = run(REAL / "pgbadger-cloudsql.log")
    assert report.files[0].source_format == "postgres_cloudsql"
    r = at(query, 1, "time, activity, src_ip, src_port, attributes->>'pid' AS pid")
    assert r == {"time": datetime(2020, 5, 2, 13, 0, 20, 382318, tzinfo=UTC), "activity": "connect", "src_ip": "127.0.0.1",
                 "src_port": 59760, "pid": "24667"}
    assert at(query, 2, "user_name, db_name, activity") == {"user_name": "cloudsqladmin", "db_name": "cloudsqladmin", "activity": "logon"}
    r = at(query, 10, "message")
    assert r["message"].startswith('automatic vacuum of table "cloudsqladmin.public.heartbeat": index scans: 0\npages: 0 removed')
    assert r["message"].count("\n") == 5  # the entry and its five further lines


def test_cloud_sql_as_a_json_array(run, query, tmp_path: Path) -> None:
    """`gcloud logging read --format=json` writes the same entries as one JSON array: each is a record."""
    entries = [json.loads(line) for line in (REAL / "pgbadger-cloudsql.log").read_text().splitlines()[:16]]
    (tmp_path / "cloudsql.json").write_text(json.dumps(entries, indent=2))
    report = run(tmp_path / "cloudsql.json")
    assert report.files[0].source_format == "postgres_cloudsql+document"
    assert (report.totals["read"], report.totals["stored"]) == (16, 16)
    rows = query("SELECT activity, user_name, message FROM events ORDER BY source_line")
    assert [r["activity"] for r in rows[:3]] == ["connect", "logon", "logoff"] and rows[1]["user_name"] == "cloudsqladmin"
    assert rows[10]["message"] == "pages: 0 removed, 1 remain, 0 skipped due to pins, 0 skipped frozen"  # a further line, alone


@pytest.mark.parametrize("key,multiline", [("message", True), ("log", True), ("log", False)])
def test_stderr_lines_wrapped_by_a_shipper(run, query, tmp_path: Path, key: str, multiline: bool) -> None:
    """Filebeat/Vector (`message`) and Fluent Bit (`log`) JSON around the real lines, a statement's lines
    joined by the shipper's multiline setting, or one object per line as Docker's json-file driver writes
    them: read as the file itself is."""
    raw = (REAL / "beats-postgresql-9.6-debian-with-slowlog.log").read_text()
    records = re.split(r"\n(?=\d{4}-)", raw.rstrip("\n")) if multiline else [line + "\n" for line in raw.splitlines()]
    (tmp_path / "shipped.json").write_text("".join(json.dumps({"@timestamp": "2017-07-31T11:36:42Z", key: r}) + "\n" for r in records))
    report = run(tmp_path / "shipped.json")
    assert report.files[0].source_format == "postgres_shipped" and report.totals["stored"] == 18
    shipped = query("SELECT time, activity, user_name, db_name, duration, query FROM events ORDER BY source_line")
    run(REAL / "beats-postgresql-9.6-debian-with-slowlog.log")
    plain = query("SELECT time, activity, user_name, db_name, duration, query FROM events WHERE source_format = 'postgres' ORDER BY source_line")
    assert shipped == plain and shipped[5]["query"].endswith("ORDER BY 1;")


def test_rds_lines_from_cloudwatch_get_log_events(run, query, tmp_path: Path) -> None:
    """`aws logs get-log-events` prints {"events": [{"timestamp", "message", "ingestionTime"}...]}, indented."""
    lines = (REAL / "pgbadger-rds.log").read_text().splitlines()[:20]
    events = [{"timestamp": 1583955643000, "message": line, "ingestionTime": 1583955644000} for line in lines]
    (tmp_path / "events.json").write_text(json.dumps({"events": events, "nextForwardToken": "f/1"}, indent=2))
    report = run(tmp_path / "events.json")
    assert report.files[0].source_format == "postgres_shipped+document" and report.totals["stored"] == 20
    r = at(query, 11, "time, activity, outcome, user_name, db_name, src_ip, src_port")
    assert r == {"time": datetime(2020, 3, 11, 19, 40, 50, tzinfo=UTC), "activity": "logon", "outcome": "failure",
                 "user_name": "gilles", "db_name": "pgbench", "src_ip": "192.168.1.201", "src_port": 50906}


def test_lnav_cest_logs_statement_of_many_lines_and_error_context(run, query) -> None:
    # a real server in CEST (+02:00): a CREATE TABLE of 38 tab-indented lines is one STATEMENT record placed
    # at its first line, with the logger's tab taken off each further line
    run(REAL / "lnav-postgres-cest-multiline.log")
    err = at(query, 1, "time, activity, outcome, reason, message")
    assert (err["time"], err["activity"], err["outcome"], err["reason"]) == (
        datetime(2025, 4, 11, 22, 14, 12, 837000, tzinfo=UTC), "log", "failure", "ERROR")
    assert err["message"] == 'syntax error at or near "null" at character 510'
    stmt = at(query, 2, "time, activity, query")
    assert stmt["activity"] == "create" and stmt["time"] == err["time"]
    assert stmt["query"].startswith("create table if not exists scrape_memory (\n    id smallserial primary key,\n")
    assert stmt["query"].endswith("    response_headers jsonb null\n);") and stmt["query"].count("\n") == 38
    nxt = at(query, 41, "time, reason, message")
    assert (nxt["time"], nxt["reason"], nxt["message"]) == (
        datetime(2025, 4, 11, 22, 14, 12, 884000, tzinfo=UTC), "WARNING", "there is no transaction in progress")
    run(REAL / "lnav-postgres-cest-json-errors.log")
    rows = query("SELECT source_line, time, activity, reason, message, query FROM events WHERE source_file LIKE '%json-errors%' "
                 "ORDER BY source_line")
    assert [r["reason"] for r in rows[:4]] == ["ERROR", "DETAIL", "CONTEXT", "STATEMENT"]
    assert rows[0]["time"] == datetime(2025, 8, 16, 11, 2, 58, 95000, tzinfo=UTC)
    assert rows[1]["message"] == "Token \"'\" is invalid."
    assert rows[3]["query"].startswith("SELECT * FROM net.http_get ('https://google.com'::text, ")
