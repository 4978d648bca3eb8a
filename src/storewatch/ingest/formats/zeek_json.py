"""Zeek logs written as JSON lines (LogAscii::use_json=T), one path or many in one stream.

Zeek's JSON names no path, so a record's path comes from what a shipper added (`_path` from Corelight and
json-streaming-logs, `@stream`, `log_type`, `event.dataset`, the file a Filebeat/Vector/Fluent Bit record
was read from), else from the fields it has (zeek.yml's `infer`). Shippers that wrap the Zeek line as text
(`message` or `log`) are unwrapped. `ts` may be epoch seconds or ISO 8601 (LogAscii::json_timestamps).
"""

from __future__ import annotations

import json

from storewatch.ingest.formats import zeek
from storewatch.ingest.formats.base import Format
from storewatch.ingest.sniff import json_keys, json_value

# Where shippers say which log a record is from: names first, then the file it was read from.
_LABELS = ("$._path", '$."@stream"', "$.log_type", '$."event.dataset"', "$.event.dataset", "$.fileset.name")
_FILES = ('$."log.file.path"', "$.log.file.path", "$.file", "$.filename", "$.source")
_WRAPS = ("$.message", "$.log", "$.MESSAGE")  # shippers (and journald's JSON export) that keep the Zeek line as text
_ENVELOPE = _LABELS + _FILES + _WRAPS


def _sql() -> str:
    m = zeek.mapping()
    # Every field a mapping or the path inference reads, parsed out of the record in one pass into a struct:
    # as text (what ->> gives: numbers, booleans and arrays as their JSON text) or, where asked, as JSON.
    refs = m.references()
    as_json = {f for f, j in refs if j}
    wanted = dict.fromkeys([f for f, _ in refs] + m.infer_fields())

    def ref(field: str, want_json: bool) -> str:
        value = f"s[{zeek.sql_text(field)}]"
        return value if want_json or field not in as_json else f"({value}->>'$')"

    def has(field: str) -> str:
        return f"s[{zeek.sql_text(field)}] IS NOT NULL"

    # The envelope's fields are read by the same parse as the record's (the keys shippers use are none of
    # Zeek's, except `message`/`source`, read the same way); `log` is both a wrapped line and Filebeat's
    # `log.file.path` object, so it comes as JSON.
    envelope = {"_path": "VARCHAR", "@stream": "VARCHAR", "log_type": "VARCHAR", "event.dataset": "VARCHAR",
                "event": {"dataset": "VARCHAR"}, "fileset": {"name": "VARCHAR"}, "log.file.path": "VARCHAR",
                "log": "JSON", "file": "VARCHAR", "filename": "VARCHAR", "source": "VARCHAR",
                "message": "VARCHAR"}
    full = json.dumps({**{f: "JSON" if f in as_json else "VARCHAR" for f in wanted}, **envelope})
    label = ("coalesce(b['_path'], b['@stream'], b['log_type'], b['event.dataset'], b['event']['dataset'], "
             "b['fileset']['name'])")
    file = ("coalesce(b['log.file.path'], json_extract_string(b['log'], '$.file.path'), b['file'], b['filename'], "
            "b['source'])")
    wraps = " ".join(f"WHEN {w} LIKE '{{%' AND json_valid({w}) AND json_exists({w}, '$.ts') THEN {w}::JSON"
                     for w in ("b['message']", "(b['log']->>'$')", "upper_message"))
    named = (f"coalesce(nullif(regexp_replace(lower(coalesce(wrapped->>'$._path', {label})), '^(zeek|bro|corelight)[._-]', ''), ''), "
             f"CASE WHEN wrapped IS NOT NULL THEN nullif(regexp_extract(lower({file}), '([a-z0-9_]+)[^/\\\\]*$', 1), '') END)")
    columns = ",\n  ".join(f"{m.per_path_sql('path', c, ref)} AS {c}" for c in m.columns())
    classes = " ".join(f"WHEN path = {zeek.sql_text(p.name)} THEN {zeek.sql_text(p.class_name)}" for p in m.paths.values())
    patches = " ".join(f"WHEN path = {zeek.sql_text(p.name)} THEN {zeek.sql_text(zeek.consumed_patch(p))}"
                       for p in m.paths.values())
    return f"""
WITH parsed AS (  -- syslog forwarding (rsyslog, syslog-ng) puts its own header before the JSON
  SELECT line_no, coalesce(try_cast(line AS JSON), CASE WHEN strpos(line, '{{"') > 1
                           THEN try_cast(substr(line, strpos(line, '{{"')) AS JSON) END) AS base
  FROM batch
),
enveloped AS (  -- one parse gives the envelope and, unless the record is wrapped, the record's fields
  SELECT line_no, base, from_json(base, {zeek.sql_text(full)}) AS b FROM parsed
),
unwrapped AS (
  SELECT line_no, base, b, CASE {wraps} END AS wrapped FROM (
    -- journald's MESSAGE cannot share the struct with `message` (DuckDB's names ignore case): read it
    -- only where the text can hold that key
    SELECT *, CASE WHEN contains(base, '"MESSAGE"') OR contains(base, '\\u')
                   THEN json_extract_string(base, '$.MESSAGE') END AS upper_message FROM enveloped)
),
records AS (
  SELECT line_no, base, coalesce(wrapped, base) AS r, {named} AS named,
         CASE WHEN wrapped IS NULL THEN b ELSE from_json(wrapped, {zeek.sql_text(full)}) END AS s
  FROM unwrapped
),
z AS (
  SELECT line_no, base, r, s,
         CASE WHEN named IS NOT NULL THEN {m.alias_sql('named')} ELSE {m.infer_sql(has)} END AS path
  FROM records
)
SELECT
  line_no,
  CASE WHEN base IS NULL THEN 'invalid JSON' WHEN NOT starts_with(r, '{{') AND json_type(r) <> 'OBJECT'
       THEN 'not a JSON object' END AS _error,
  CASE {classes} ELSE {zeek.sql_text(m.default.class_name)} END AS class_name,
  coalesce(path, 'unknown') AS activity,
  {columns},
  json_merge_patch(r, (CASE {patches} ELSE {zeek.sql_text(zeek.consumed_patch(m.default))} END)::JSON) AS attributes
FROM z
"""


def _list(items) -> str:
    return "[" + ", ".join(zeek.sql_text(i) for i in items) + "]"


_MARKERS = frozenset({"uid", "uids", "fuid", "id.orig_h", "id.resp_h", "_path", "_write_ts", "_system_name",
                      "software_type", "port_num", "note", "percent_lost"})


def looks_like(line: str, depth: int = 0) -> bool:
    """A Zeek record: `ts` and a field only Zeek writes, or a shipper's record wrapping one as text (or
    following a syslog header)."""
    keys = json_keys(line)
    if not keys and depth == 0 and line.find('{"') > 0:
        return looks_like(line[line.find('{"'):], 1)
    if "ts" in keys and (keys & _MARKERS or keys == {"ts", "host"}
                         or any(k.startswith(("id.", "certificate.", "seen.")) for k in keys)):
        return True
    if depth == 0:
        for wrap in ("message", "log", "MESSAGE"):
            wrapped = json_value(line, wrap)
            if isinstance(wrapped, str) and wrapped.lstrip().startswith("{") and looks_like(wrapped, 1):
                return True
    return False


FORMAT = Format(name="zeek_json", channel="network", sql=_sql(), looks_like=looks_like,
                description="Zeek JSON logs, any path, one or many per file")
