"""Shopify order objects (webhooks and Admin API)."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys

FORMAT = Format(name="shopify", channel="orders", sql=load_sql("shopify"),
                looks_like=lambda line: bool({"line_items", "financial_status", "total_price"} & json_keys(line)) and "created_at" in json_keys(line),
                description="Shopify orders")
