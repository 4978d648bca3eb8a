"""Shopify Admin API objects: orders, refunds and transactions (webhooks, REST), GraphQL order nodes."""

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.sniff import json_keys


def _looks_like(line: str) -> bool:
    keys = json_keys(line)
    if "created_at" in keys:
        return bool({"line_items", "financial_status", "total_price"} & keys  # orders
                    or {"order_id", "refund_line_items"} <= keys  # refunds
                    or {"order_id", "kind", "gateway", "amount"} <= keys)  # transactions
    return "createdAt" in keys and bool({"totalPriceSet", "displayFinancialStatus"} & keys)  # GraphQL orders


FORMAT = Format(name="shopify", channel="orders", sql=load_sql("shopify"), looks_like=_looks_like,
                description="Shopify orders, refunds, transactions")
