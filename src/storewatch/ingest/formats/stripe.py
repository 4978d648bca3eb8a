"""Stripe API objects: webhook event bodies and the bare objects `GET /v1/...` answers."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys, json_value

# The objects a shop's payment and fraud questions are about; lists of them are opened by documents.py.
OBJECTS = frozenset({"charge", "dispute", "refund", "radar.early_fraud_warning", "payment_intent", "review",
                     "checkout.session", "balance_transaction"})


def _looks_like(line: str) -> bool:
    obj = json_value(line, "object")
    if obj == "event":
        return "data" in json_keys(line)
    return obj in OBJECTS


FORMAT = Format(name="stripe", channel="payments", sql=load_sql("stripe"), looks_like=_looks_like, description="Stripe events and objects")
