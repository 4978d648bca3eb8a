"""Lock a POS operator: POS back offices have no common API, so storewatch posts a documented JSON webhook
to a URL you configure (a small bridge to your POS vendor's back office, or its own webhook intake).

Contract (see docs/playbooks.md): `POST {url}` with `Content-Type: application/json`,
`Idempotency-Key: <action id>`, `Authorization: Bearer <token>` when a token is set, and body
`{"event": "storewatch.pos.lock_operator" | "storewatch.pos.unlock_operator", "action_id", "incident_id",
"employee_id", "store_ids", "reason", "expires_at"}`. Any 2xx means done; the bridge must treat a repeated
action id as the same request.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters.base import Adapter, Job, Operation, Outcome
from storewatch.respond.config import Setting


class PosAdapter(Adapter):
    name = "pos"
    product = "POS back office through a generic JSON webhook (storewatch's documented contract)"
    settings = (
        Setting("url", "Webhook URL of the POS back office bridge", required=True),
        Setting("token", "Bearer token the bridge expects", secret=True),
    )
    operations = {"lock_operator": Operation("lock_operator", "Lock a POS operator (employee) at the tills",
                                             ("employee",))}

    def _body(self, event: str, target: str, job: Job) -> dict[str, Any]:
        return {"event": f"storewatch.pos.{event}", "action_id": job.action_id, "incident_id": job.incident["id"],
                "employee_id": target, "store_ids": list(job.incident.get("stores") or []), "reason": job.why,
                "expires_at": f"{job.expires_at:%Y-%m-%dT%H:%M:%SZ}"}

    def _post(self, event: str, target: str, job: Job) -> None:
        headers = {"Idempotency-Key": job.action_id}
        if self.values["token"]:
            headers["Authorization"] = f"Bearer {self.values['token']}"
        self.http.request("POST", str(self.values["url"]), headers=headers, json=self._body(event, target, job))

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        stores = ", ".join(job.incident.get("stores") or []) or "all stores"
        return (f"POS: POST {self.values['url'] or '<STOREWATCH_POS_URL not set>'} "
                f'{{"event": "storewatch.pos.lock_operator", "employee_id": "{target}"}} ({stores}), '
                f"until {job.expires_at:%Y-%m-%d %H:%M} UTC")

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        self._post("lock_operator", target, job)
        return Outcome(f"POS operator {target} locked")

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        self._post("unlock_operator", target, job)
        return f"POS operator {target} unlocked"
