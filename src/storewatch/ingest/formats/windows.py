"""Windows events as JSON, any channel: evtx-to-JSON output (evtx_dump, python-evtx), Winlogbeat / Elastic
Agent documents, NXLog `im_msvistalog` JSON, Azure Monitor exports and flattened Sysmon records.

Every shape is mapped by the one query `windows.sql`, with the per-(source, event id) table
`windows_events.csv` (class and activity) inlined into it; Windows event XML and raw .evtx files are turned
into the evtx JSON shape by their readers and use the same query.
"""

from __future__ import annotations

import csv
from importlib import resources

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value

# The System keys of the flat shapes: NXLog (EventTime, Hostname, SourceName), Azure Monitor and flattened
# Sysmon (Computer), Winlogbeat 6 (event_id, computer_name, log_name).
_FLAT_SYSTEM = ({"EventID", "Computer"}, {"EventID", "Hostname"}, {"EventID", "SourceName"},
                {"EventID", "EventTime"}, {"event_id", "computer_name", "log_name"})


def _looks_like(line: str) -> bool:
    keys = json_keys(line)
    if not keys:
        return False
    if "Event" in keys:
        return json_value(line, "Event", "System") is not None
    if "winlog" in keys:
        winlog = json_value(line, "winlog")
        return isinstance(winlog, dict) and bool({"event_id", "channel", "provider_name"} & winlog.keys())
    return "System" in keys or "EventData" in keys or any(k <= keys for k in _FLAT_SYSTEM)


def mapping_sql() -> str:
    """windows.sql with the event table inlined as VALUES (the table is data, kept beside the query)."""
    text = resources.files("storewatch.ingest.formats").joinpath("windows_events.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    values = ", ".join(f"('{r['source']}', {int(r['event_id'])}, '{r['class_name']}', '{r['activity']}')" for r in rows)
    return load_sql("windows").replace("{events}", values)


SQL = mapping_sql()

FORMAT = Format(name="windows", channel="endpoint", sql=SQL, looks_like=_looks_like,
                description="Windows events as JSON (evtx JSON, Winlogbeat, NXLog, flattened Sysmon)")
