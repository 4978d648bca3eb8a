"""CrowdStrike Falcon host containment (network-isolates a host except for its link to Falcon).

OAuth2: `POST {base}/oauth2/token` with client_id and client_secret, form-encoded (the API client needs
the Hosts read and write scopes). The host is found by name with
`GET /devices/queries/devices/v1?filter=hostname:'NAME'` (or, for an internal address, by
`filter=local_ip:'ADDRESS'`), then contained with
`POST /devices/entities/devices-actions/v2?action_name=contain` and body `{"ids": [...]}`; rollback sends
`action_name=lift_containment` for the same device ids.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond.adapters.base import AdapterError, Job, Operation, Outcome, TokenAdapter
from storewatch.respond.config import Setting
from storewatch.respond.values import valid_host, valid_ip

ACTIONS_PATH = "/devices/entities/devices-actions/v2"


class CrowdStrikeAdapter(TokenAdapter):
    name = "crowdstrike"
    product = "CrowdStrike Falcon Hosts API (OAuth2 client credentials)"
    settings = (
        Setting("client_id", "API client id", required=True),
        Setting("client_secret", "API client secret", secret=True, required=True),
        Setting("base_url", "Cloud API base: api.crowdstrike.com, api.us-2.crowdstrike.com, api.eu-1.crowdstrike.com...",
                default="https://api.crowdstrike.com"),
    )
    operations = {"contain_host": Operation("contain_host", "Network-contain a host (by name or internal IP) with Falcon",
                                            ("host", "device", "ip"))}

    extra_headers = {"Accept": "application/json"}

    @property
    def base(self) -> str:
        return str(self.values["base_url"]).rstrip("/")

    def fetch_token(self) -> Any:
        return self.http.request("POST", f"{self.base}/oauth2/token", data={
            "client_id": self.values["client_id"], "client_secret": self.values["client_secret"]})

    @staticmethod
    def _filter(target: str) -> str:
        """The FQL filter finding the host; only parsed addresses and plain names get into it."""
        address = valid_ip(target)
        if address is not None and "/" not in address:
            return f"local_ip:'{address}'"
        host = valid_host(target)
        if host is None:
            raise AdapterError(f"crowdstrike: {target!r} is neither a host name nor an IP address")
        return f"hostname:'{host}'"

    def _devices(self, target: str) -> list[str]:
        query = self._filter(target)
        ids = self.call("GET", "/devices/queries/devices/v1", params={"filter": query}).json()
        found = [i for i in (ids.get("resources") or []) if isinstance(i, str)]
        if not found:
            raise AdapterError(f"crowdstrike: Falcon knows no host matching {query}")
        return found

    def _act(self, action: str, ids: list[str]) -> None:
        self.call("POST", ACTIONS_PATH, params={"action_name": action}, json={"ids": ids})

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return (f"CrowdStrike Falcon: GET {self.base}/devices/queries/devices/v1?filter={self._filter(target)}, then "
                f'POST {self.base}{ACTIONS_PATH}?action_name=contain {{"ids": [<device id>]}} '
                f"(token from POST {self.base}/oauth2/token)")

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        ids = self._devices(target)
        self._act("contain", ids)
        return Outcome(f"Falcon containment requested for {target} (device {', '.join(ids)})", {"device_ids": ids})

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        ids = list(state.get("device_ids") or []) or self._devices(target)
        self._act("lift_containment", ids)
        return f"Falcon containment lifted for {target} (device {', '.join(ids)})"
