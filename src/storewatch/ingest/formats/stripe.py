"""Stripe API event objects and bare charge objects."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value


def _looks_like(line: str) -> bool:
    obj = json_value(line, "object")
    if obj == "event":
        return "data" in json_keys(line)
    return obj in {"charge", "dispute", "refund", "radar.early_fraud_warning"}


FORMAT = Format(name="stripe", channel="payments", sql=load_sql("stripe"), looks_like=_looks_like, description="Stripe events")
