"""Generic JSON webhook, for ticketing, SOAR or chat tools without their own adapter.

`POST <url>` with `Content-Type: application/json`, `Idempotency-Key: <action id>`, `Authorization: Bearer
<token>` when a token is set, and body `{"source": "storewatch", "event": "incident.notify", "action_id",
"text", "incident": {id, title, scenario, severity, risk_score, summary, first_seen, last_seen, stores,
entities}}`. The URL may embed a secret, so it is only shown as scheme and host.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters import message
from storewatch.respond.adapters.base import Adapter, Job, Operation, Outcome, shown_url
from storewatch.respond.config import Setting

INCIDENT_FIELDS = ("id", "title", "scenario", "severity", "risk_score", "summary", "first_seen", "last_seen",
                   "stores", "entities")


class WebhookAdapter(Adapter):
    name = "webhook"
    product = "Generic JSON webhook (storewatch's documented body)"
    settings = (Setting("url", "Where to POST", secret=True, required=True),
                Setting("token", "Bearer token sent in Authorization", secret=True))
    operations = {"notify": Operation("notify", "POST the incident as JSON to a webhook", ("incident",),
                                      reversible=False)}

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return (f"webhook: POST {shown_url(str(self.values['url'] or ''))} "
                f'{{"source": "storewatch", "event": "incident.notify", "incident": {{"id": "{job.incident["id"]}", ...}}}}')

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        url = str(self.values["url"])
        headers = {"Idempotency-Key": job.action_id}
        if self.values["token"]:
            headers["Authorization"] = f"Bearer {self.values['token']}"
        body = {"source": "storewatch", "event": "incident.notify", "action_id": job.action_id,
                "text": message.text(job.incident, params),
                "incident": {k: job.incident.get(k) for k in INCIDENT_FIELDS}}
        self.http.request("POST", url, shown=shown_url(url), headers=headers, json=body)
        return Outcome("posted to the webhook")
