"""Sysmon events as JSON: evtx-to-JSON output (evtx_dump and friends) or flattened exports."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value


def _looks_like(line: str) -> bool:
    keys = json_keys(line)
    if "Event" in keys:
        return json_value(line, "Event", "System") is not None
    return {"EventID", "Computer"} <= keys or "EventData" in keys


FORMAT = Format(name="sysmon", channel="endpoint", sql=load_sql("sysmon"), looks_like=_looks_like,
                description="Sysmon (Windows event JSON)")
