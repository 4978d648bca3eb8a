"""Shopify Admin REST API: hold an order's fulfillment so nothing ships while the incident is looked at.

With the `X-Shopify-Access-Token` header (a custom app's Admin API token with the
`write_merchant_managed_fulfillment_orders` scope), for an order id (numeric; an order name like #1001 is
looked up with `GET /admin/api/{version}/orders.json?name=...&status=any`):
`GET /admin/api/{version}/orders/{id}/fulfillment_orders.json`, then for each open fulfillment order
`POST /admin/api/{version}/fulfillment_orders/{fo}/hold.json` with
`{"fulfillment_hold": {"reason": "high_risk_of_fraud", "reason_notes": ...}}`; rollback is
`POST /admin/api/{version}/fulfillment_orders/{fo}/release_hold.json` for the ones held.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

from storewatch.respond.adapters.base import Adapter, AdapterError, Job, Operation, Outcome
from storewatch.respond.config import Setting

HOLDABLE = ("open", "scheduled")


class ShopifyAdapter(Adapter):
    name = "shopify"
    product = "Shopify Admin REST API (X-Shopify-Access-Token), fulfillment order holds"
    settings = (
        Setting("shop", "Shop domain, e.g. my-shop.myshopify.com", required=True),
        Setting("access_token", "Admin API access token of a custom app", secret=True, required=True),
        Setting("api_version", "Admin API version", default="2025-01"),
        Setting("base_url", "Override of https://{shop} (a proxy or a test stand-in)"),
    )
    operations = {"hold_order": Operation("hold_order", "Put an order's fulfillment on hold (high risk of fraud)",
                                          ("order",))}

    @property
    def api(self) -> str:
        base = (self.values["base_url"] or f"https://{self.values['shop']}").rstrip("/")
        return f"{base}/admin/api/{self.values['api_version']}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-Shopify-Access-Token": str(self.values["access_token"]), "Accept": "application/json"}
        return self.http.request(method, f"{self.api}{path}", headers=headers, **kwargs).json()

    def _order_id(self, target: str) -> str:
        if target.isdigit():
            return target
        orders = self._call("GET", "/orders.json", params={"name": target, "status": "any", "fields": "id,name"})
        ids = [str(o["id"]) for o in orders.get("orders", []) if o.get("id")]
        if not ids:
            raise AdapterError(f"shopify: no order named {target}")
        return ids[0]

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        order = target if target.isdigit() else f"the order named {target} (GET {self.api}/orders.json?name=...)"
        return (f"Shopify: GET {self.api}/orders/{{id}}/fulfillment_orders.json for {order}, then for each open one "
                f'POST {self.api}/fulfillment_orders/{{fo}}/hold.json {{"fulfillment_hold": {{"reason": '
                f'"high_risk_of_fraud", "reason_notes": "storewatch {job.action_id} ..."}}}}')

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        order = self._order_id(target)
        found = self._call("GET", f"/orders/{quote(order)}/fulfillment_orders.json").get("fulfillment_orders", [])
        open_ = [str(fo["id"]) for fo in found if fo.get("status") in HOLDABLE]
        if not open_:
            states = ", ".join(sorted({str(fo.get("status")) for fo in found})) or "none"
            raise AdapterError(f"shopify: order {order} has no open fulfillment order to hold (statuses: {states})")
        notes = f"storewatch {job.action_id}, incident {job.incident['id']}: {job.why}"[:255]
        for fo in open_:
            self._call("POST", f"/fulfillment_orders/{fo}/hold.json", json={"fulfillment_hold": {
                "reason": "high_risk_of_fraud", "reason_notes": notes, "notify_merchant": False}})
        return Outcome(f"order {order}: fulfillment order(s) {', '.join(open_)} on hold",
                       {"order_id": order, "fulfillment_order_ids": open_})

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        held = list(state.get("fulfillment_order_ids") or [])
        for fo in held:
            self._call("POST", f"/fulfillment_orders/{fo}/release_hold.json", json={})
        return f"order {state.get('order_id', target)}: hold released on fulfillment order(s) {', '.join(held)}"
