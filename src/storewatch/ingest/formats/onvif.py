"""ONVIF event notifications (doors, access control, cameras) exported as JSON."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_value


def _looks_like(line: str) -> bool:
    topic = json_value(line, "Topic") or json_value(line, "topic")
    return isinstance(topic, str) and ("tns1:" in topic or "/" in topic)


FORMAT = Format(name="onvif", channel="physical", sql=load_sql("onvif"), looks_like=_looks_like, description="ONVIF events")
