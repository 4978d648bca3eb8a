"""Stripe Radar value lists: add an IP address, card fingerprint or e-mail address to a block list that a
Radar rule uses (e.g. `Block if :ip_address: in @blocked_ips`).

`POST https://api.stripe.com/v1/radar/value_list_items`, form-encoded `value_list=rsl_...&value=...`,
`Authorization: Bearer <secret key>` (a restricted key with Radar write access is enough) and an
`Idempotency-Key` equal to the action id, so a retried call cannot add the item twice. Rollback is
`DELETE /v1/radar/value_list_items/{item id}`. Each kind of value goes to the list configured for it.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters.base import Adapter, AdapterError, Job, Operation, Outcome
from storewatch.respond.config import Setting, env_name

ITEMS = "/v1/radar/value_list_items"
# operation -> (entity type, setting naming the value list)
_LISTS = {"block_ip": ("ip", "ip_list"), "block_card": ("card", "card_list"), "block_email": ("email", "email_list")}


class StripeAdapter(Adapter):
    name = "stripe"
    product = "Stripe Radar value lists (REST, form-encoded, Bearer secret key)"
    settings = (
        Setting("secret_key", "Secret or restricted key (sk_... / rk_...)", secret=True, required=True),
        Setting("ip_list", "Id (rsl_...) of the value list of blocked IP addresses (item type ip_address)"),
        Setting("card_list", "Id of the value list of blocked card fingerprints (item type card_fingerprint)"),
        Setting("email_list", "Id of the value list of blocked e-mail addresses (item type email)"),
        Setting("base_url", "API base", default="https://api.stripe.com"),
    )
    operations = {op: Operation(op, f"Add {etype} to a Radar block list", (etype,)) for op, (etype, _) in _LISTS.items()}

    def _list(self, op: str) -> str:
        key = _LISTS[op][1]
        if not self.values[key]:
            raise AdapterError(f"stripe: no Radar value list for {_LISTS[op][0]} values; set {env_name(self.name, key)} "
                               f"(or stripe.{key} in respond.yml) to its id (rsl_...)")
        return str(self.values[key])

    def _headers(self, job: Job | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.values['secret_key']}"}
        if job is not None:
            headers["Idempotency-Key"] = job.action_id
        return headers

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        value_list = self.values[_LISTS[op][1]] or f"<{env_name(self.name, _LISTS[op][1])} not set>"
        return (f"Stripe Radar: POST {self.values['base_url']}{ITEMS} value_list={value_list}&value={target} "
                f"(Idempotency-Key {job.action_id})")

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        value_list = self._list(op)
        item = self.http.request("POST", f"{self.values['base_url']}{ITEMS}", headers=self._headers(job),
                                 data={"value_list": value_list, "value": target}).json()
        if not item.get("id"):
            raise AdapterError("stripe: the value list item was created without an id")
        return Outcome(f"{target} added to Radar value list {value_list} as {item['id']}", {"item_id": item["id"]})

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        item = state.get("item_id")
        if not item:
            raise AdapterError("stripe: the item id was not recorded, remove it in the Radar dashboard")
        self.http.request("DELETE", f"{self.values['base_url']}{ITEMS}/{item}", headers=self._headers())
        return f"{target} removed from its Radar value list ({item} deleted)"
