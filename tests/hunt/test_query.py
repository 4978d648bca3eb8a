"""The hunting language: what each form matches, that values are data (never SQL), and errors that help."""

from __future__ import annotations

import duckdb
import pytest

from storewatch.hunt.compile import compile_query
from storewatch.hunt.parse import QueryError, parse
from storewatch.hunt.run import search
from storewatch.store import schema

ROWS = [  # event_id, time, src_ip, http_status, url_path, message, user_name, attributes
    ("a", "2026-12-01 10:00:00+00", "10.1.2.3", 200, "/login", "hello world", "ann", '{"code": "X1"}'),
    ("b", "2026-12-01 11:00:00+00", "203.0.113.7", 500, "/admin", "x'; DROP TABLE events; --", "bob", None),
    ("c", "2026-12-01 12:10:00+00", "203.0.113.7", 200, "/cart", None, None, '{"code": "Y2"}'),
    ("d", "2026-12-01 12:20:00+00", "::ffff:10.9.9.9", 404, "/login.php", "caf\u00e9 \u202e", "Ann", None),
]


@pytest.fixture()
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    c.execute(schema.create_table_sql("events"))
    c.executemany("INSERT INTO events (event_id, time, src_ip, http_status, url_path, message, user_name, attributes) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    yield c
    c.close()


def ids(con, q: str, **kw) -> list[str]:
    return [r["event_id"] for r in search(con, q, **kw).rows]


@pytest.mark.parametrize("q, expected", [
    ("src_ip:203.0.113.7 AND NOT http_status:200", ["b"]),
    ("src_ip:10.0.0.0/8", ["d", "a"]),  # v4-mapped v6 written by Sysmon counts as the v4 address
    ("src_ip:203.0.113.0/24 OR user_name:ann", ["c", "b", "a"]),
    ("http_status:[400 TO 599]", ["d", "b"]),
    ("http_status:{404 TO 599]", ["b"]),
    ("http_status>=404 AND NOT src_ip:203.0.113.7", ["d"]),
    ("http_status:>=500", ["b"]),
    ("url_path:/login*", ["d", "a"]),
    ("url_path:/log?n", ["a"]),
    ("user_name:ANN", []),  # exact values match exactly
    ("user_name:an*", ["d", "a"]),  # wildcards ignore case
    ("message:*", ["d", "b", "a"]),
    ("NOT message:*", ["c"]),
    ("hello", ["a"]),
    ('"DROP TABLE"', ["b"]),
    ("attributes.code:Y2", ["c"]),
    ("attributes:*", ["c", "a"]),
    ("NOT user_name:bob", ["d", "c", "a"]),  # NOT keeps events without the field, as Kibana does
    ("(url_path:/cart OR url_path:/admin) AND http_status:500", ["b"]),
    ("time:[2026-12-01T11:00:00 TO 2026-12-01T12:15:00}", ["c", "b"]),
    ("", ["d", "c", "b", "a"]),
])
def test_language(con, q, expected):
    assert ids(con, q) == expected


def test_values_are_bound_never_pasted():
    attack = "x' OR 1=1; DROP TABLE events; --"
    compiled = compile_query(parse(f'user_name:"{attack}" AND url_path:/a/**/b AND attributes.k:"v\\"--"'))
    assert attack not in compiled.sql and "DROP" not in compiled.sql and "v\"--" not in compiled.sql
    assert attack in compiled.params.values() and '$."k"' in compiled.params.values()


@pytest.mark.parametrize("value", [
    "x'; DROP TABLE events; --", "' OR '1'='1", "a/* comment */b", "bob\u0000", "caf\u00e9 \u202e", "\\", "%", "_",
])
def test_injection_attempts_are_data(con, value):
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    assert ids(con, f'message:"{escaped}"') == [r[0] for r in ROWS if r[5] == value]
    assert ids(con, f'user_name:"{escaped}" OR url_path:"{escaped}"') == []
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 4  # nothing dropped


def test_like_metacharacters_are_literal(con):
    assert ids(con, 'url_path:"/log%"') == [] and ids(con, "url_path:/login_php") == []
    assert ids(con, "%") == []  # a bare % is not "anything"


def test_aggregations(con):
    r = search(con, "| count by src_ip")
    assert r.rows[0] == {"src_ip": "203.0.113.7", "count": 2} and r.aggregate and r.total is None
    top = search(con, "http_status:* | top 1 url_path")
    assert len(top.rows) == 1 and top.rows[0]["count"] == 1
    over_time = search(con, "src_ip:203.0.113.7 | count by src_ip, bucket 1h")
    assert [(row["bucket"].hour, row["count"]) for row in over_time.rows] == [(11, 1), (12, 1)]
    assert search(con, "| count").rows == [{"count": 4}]


def test_time_range_and_paging(con):
    from datetime import datetime, timezone

    since = datetime(2026, 12, 1, 11, 30, tzinfo=timezone.utc)
    assert ids(con, "", since=since) == ["d", "c"]
    assert ids(con, "", until=since) == ["b", "a"]
    first = search(con, "", limit=3)
    assert [r["event_id"] for r in first.rows] == ["d", "c", "b"] and first.total == 4 and first.next_offset == 3
    last = search(con, "", limit=3, offset=3)
    assert [r["event_id"] for r in last.rows] == ["a"] and last.next_offset is None


@pytest.mark.parametrize("q, says", [
    ("src_ipp:1.2.3.4", "Did you mean src_ip"),
    ("usr_name:bob", "user_name"),
    ("http_status:abc", "not one"),
    ("http_status:5*", "no wildcards"),
    ("url_path>3", "holds text"),
    ("src_ip:1.2.3.4/99", "not a network"),
    ("(src_ip:1", "ends too early"),
    ("src_ip:b | count by nope", "unknown field 'nope'"),
    ("| count by src_ip, bucket 5x", "not a duration"),
    ("| top many src_ip", "top N field"),
    ("| count by attributes.a'b", "a key is letters"),
    ("attributes:x", "attributes.<key>"),
])
def test_errors_say_what_to_do(con, q, says):
    with pytest.raises(QueryError, match=None) as exc:
        search(con, q)
    assert says in str(exc.value)
