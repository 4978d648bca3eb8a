"""Auth0 Management API v2: end a customer's sessions and refresh tokens, and block the account.

Token: client-credentials grant, `POST https://{domain}/oauth/token` with the API audience
`https://{domain}/api/v2/` (the machine-to-machine application needs the scopes `read:users`,
`update:users`, `delete:sessions`, `delete:refresh_tokens`). Then:
- revoke_sessions: `DELETE /api/v2/users/{id}/sessions` and `DELETE /api/v2/users/{id}/refresh-tokens`
  (cannot be undone: the customer signs in again);
- block_user: `PATCH /api/v2/users/{id}` with `{"blocked": true}`; rollback sends `{"blocked": false}`.
Targets are Auth0 user ids (`provider|id`) or e-mail addresses, looked up with
`GET /api/v2/users-by-email?email=...`.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

from storewatch.respond.adapters.base import AdapterError, Job, Operation, Outcome, TokenAdapter
from storewatch.respond.config import Setting


class Auth0Adapter(TokenAdapter):
    name = "auth0"
    product = "Auth0 Management API v2 (client-credentials token)"
    settings = (
        Setting("domain", "Tenant domain, e.g. shop.eu.auth0.com", required=True),
        Setting("client_id", "Machine-to-machine application client id", required=True),
        Setting("client_secret", "Its client secret", secret=True, required=True),
        Setting("base_url", "Override of https://{domain} (a proxy or a test stand-in)"),
    )
    operations = {
        "revoke_sessions": Operation("revoke_sessions", "End all sessions and refresh tokens of a customer",
                                     ("user", "email"), reversible=False),
        "block_user": Operation("block_user", "Block a customer account from signing in", ("user", "email")),
    }

    @property
    def base(self) -> str:
        return (self.values["base_url"] or f"https://{self.values['domain']}").rstrip("/")

    def fetch_token(self) -> Any:
        return self.http.request("POST", f"{self.base}/oauth/token", json={
            "grant_type": "client_credentials", "client_id": self.values["client_id"],
            "client_secret": self.values["client_secret"], "audience": f"https://{self.values['domain']}/api/v2/"})

    def _user_ids(self, target: str) -> list[str]:
        if "@" in target:
            found = self.call("GET", "/api/v2/users-by-email", params={"email": target}).json()
            ids = [u["user_id"] for u in found if isinstance(u, dict) and u.get("user_id")]
            if not ids:
                raise AdapterError(f"auth0: no user with the e-mail address {target}")
            return ids
        if "|" not in target:
            raise AdapterError(f"auth0: {target!r} is neither an Auth0 user id (provider|id) nor an e-mail address")
        return [target]

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        who = (f"the users with e-mail {target} (GET {self.base}/api/v2/users-by-email?email=...)" if "@" in target
               else target)
        path = f"{self.base}/api/v2/users/{{id}}"
        if op == "revoke_sessions":
            calls = f"DELETE {path}/sessions and DELETE {path}/refresh-tokens"
        else:
            calls = f'PATCH {path} {{"blocked": true}}'
        return f"Auth0: for {who}: {calls} (token from POST {self.base}/oauth/token, client credentials)"

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        ids = self._user_ids(target)
        for uid in ids:
            path = f"/api/v2/users/{quote(uid, safe='')}"
            if op == "revoke_sessions":
                self.call("DELETE", f"{path}/sessions")
                self.call("DELETE", f"{path}/refresh-tokens")
            else:
                self.call("PATCH", path, json={"blocked": True})
        verb = "sessions and refresh tokens revoked" if op == "revoke_sessions" else "blocked"
        return Outcome(f"Auth0 user(s) {', '.join(ids)} {verb}", {"user_ids": ids})

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        ids = state.get("user_ids") or []
        for uid in ids:
            self.call("PATCH", f"/api/v2/users/{quote(uid, safe='')}", json={"blocked": False})
        return f"Auth0 user(s) {', '.join(ids)} unblocked"
