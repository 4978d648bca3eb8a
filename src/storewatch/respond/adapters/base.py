"""What every adapter is: named operations on one product, a pure `describe` (the dry run), `apply` (do it,
returning what is needed to undo it) and `undo`.

Adapters never see more than their own settings, never print, and raise `AdapterError` with a message
safe to store; the engine owns state, approval, idempotency and the audit log.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Mapping, Sequence
from urllib.parse import urlsplit

from storewatch.respond.config import Setting
from storewatch.respond.http import AdapterError, Http
from storewatch.workspace import Workspace

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]

__all__ = ["Adapter", "AdapterError", "Job", "Operation", "Outcome", "Runner", "TokenAdapter", "run_command",
           "shown_url"]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess:
    """The real runner: raises FileNotFoundError when the program is not installed."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class Operation:
    name: str
    summary: str
    targets: tuple[str, ...]  # entity types it acts on ("incident" for the incident itself)
    reversible: bool = True  # False: undo records that nothing can be taken back (a sent message)
    expires_by_itself: bool = False  # the product drops it at expiry (nftables timeouts, EDL rendering)


@dataclass(frozen=True)
class Job:
    """One action as the adapter sees it."""

    action_id: str
    incident: Mapping[str, Any]  # id, title, scenario, severity, risk_score, summary, stores, ...
    why: str
    expires_at: datetime
    ws: Workspace

    @property
    def ttl_seconds(self) -> int:
        return max(1, round((self.expires_at - datetime.now(timezone.utc)).total_seconds()))


@dataclass
class Outcome:
    detail: str
    state: dict = field(default_factory=dict)  # what undo needs (ids the vendor gave back)


def shown_url(url: str) -> str:
    """A URL whose path is a secret (Slack/Teams webhooks) as it may be printed: scheme and host only."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/***" if parts.netloc else "***"


class Adapter:
    """Base of every adapter; subclasses set the class attributes and implement the three methods."""

    name: ClassVar[str]
    product: ClassVar[str]  # the real product and interface, for docs and listings
    settings: ClassVar[tuple[Setting, ...]]
    operations: ClassVar[dict[str, Operation]]

    def __init__(self, values: Mapping[str, Any], http: Http | None = None, run: Runner = run_command) -> None:
        self.values, self._http, self.run = dict(values), http, run

    @property
    def http(self) -> Http:
        if self._http is None:  # dry runs build adapters without a client: they must never call out
            raise AdapterError(f"{self.name}: no network access in a dry run")
        return self._http

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        raise NotImplementedError

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        raise NotImplementedError

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        raise NotImplementedError


class TokenAdapter(Adapter):
    """An API that takes a bearer token from a client-credentials grant: fetched on first use, renewed
    once when a call answers 401 (tokens expire mid-run)."""

    extra_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: str | None = None

    @property
    def base(self) -> str:
        raise NotImplementedError

    def fetch_token(self) -> Any:
        """POST the grant; returns the token endpoint's response."""
        raise NotImplementedError

    def _renew(self) -> None:
        token = self.fetch_token().json().get("access_token")
        if not token:
            raise AdapterError(f"{self.name}: the token endpoint answered without an access_token")
        self._token = token

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            self._renew()
        return {"Authorization": f"Bearer {self._token}", **self.extra_headers}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.http.request(method, f"{self.base}{path}", headers=self._headers, reauth=self._renew, **kwargs)
