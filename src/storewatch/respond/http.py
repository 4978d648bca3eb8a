"""HTTP for the adapters: a timeout on every call, bounded retries, Retry-After honoured up to a cap, and
every failure turned into one `AdapterError` that says what the far side answered.

Why retry here and not in each adapter: vendors fail alike (429 with Retry-After, 5xx, hangs), and a
response action must end either done or failed with a reason, never half-known. Messages name the URL
as the adapter chose to show it (webhook URLs carry their secret in the path, so adapters pass a redacted
form) and never include request headers.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, TypeVar

import httpx

from storewatch.respond.config import Setting

T = TypeVar("T")

# Replaced in tests to record waits instead of sleeping; read at call time.
SLEEP: Callable[[float], None] = time.sleep

SETTINGS = (
    Setting("timeout", "Seconds to wait for a vendor before the attempt counts as failed", default=10.0),
    Setting("retries", "Extra attempts after a 429, a 5xx, a timeout or a refused connection", default=3),
    Setting("max_retry_wait", "Longest wait between attempts; a longer Retry-After fails the action instead",
            default=30.0),
)


class AdapterError(Exception):
    """The action could not be carried out; the message is safe to store, audit and print."""


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _vendor_message(resp: httpx.Response) -> str:
    """The vendor's own error text, short: JSON `message`/`error_description`/`error`, else the body."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200]
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "errors"):
            if body.get(key):
                value = body[key]
                if isinstance(value, dict):
                    value = value.get("message", value)
                return str(value)[:200]
    return str(body)[:200]


class Retry(Exception):
    """A transient failure: try again after `wait` seconds (None: exponential backoff)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.wait = reason, wait


def with_retries(label: str, once: Callable[[], T], retries: int, max_wait: float) -> T:
    """Call `once` until it returns, raises `AdapterError` (permanent) or has failed `retries + 1` times
    with `Retry`; waits back off exponentially, a vendor-given wait above `max_wait` ends the tries."""
    attempts, attempt = retries + 1, 0
    while True:
        try:
            return once()
        except Retry as exc:
            if exc.wait is not None and exc.wait > max_wait:
                raise AdapterError(f"{label}: {exc.reason}, the far side asks to retry after {exc.wait:.0f} s "
                                   f"(more than the {max_wait:g} s cap); run it again later") from None
            attempt += 1
            if attempt >= attempts:
                raise AdapterError(f"{label}: {exc.reason}; gave up after {attempts} attempt(s)") from None
            SLEEP(exc.wait if exc.wait is not None else min(2.0 ** (attempt - 1), max_wait))


class Http:
    """One client per action run; `request` returns a 2xx/3xx response or raises `AdapterError`."""

    def __init__(self, timeout: float = 10.0, retries: int = 3, max_retry_wait: float = 30.0) -> None:
        self.timeout, self.retries, self.max_wait = float(timeout), int(retries), float(max_retry_wait)
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> "Http":
        return cls(values["timeout"], values["retries"], values["max_retry_wait"])

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, url: str, *, shown: str | None = None,
                headers: Callable[[], Mapping[str, str]] | Mapping[str, str] | None = None,
                reauth: Callable[[], None] | None = None, **kwargs: Any) -> httpx.Response:
        """Send with retries. `headers` may be a callable so that a token renewed by `reauth` (called once,
        on the first 401) is used by the next attempt; `shown` is the URL as it may appear in messages."""
        label = f"{method} {shown or url}"
        renewed = False

        def once() -> httpx.Response:
            nonlocal renewed
            try:
                resp = self._client.request(method, url, headers=headers() if callable(headers) else headers,
                                            **kwargs)
            except httpx.TimeoutException:
                raise Retry(f"no answer within {self.timeout:g} s") from None
            except httpx.TransportError as exc:
                raise Retry(f"connection failed ({type(exc).__name__})") from None
            code = resp.status_code
            if code == 401 and reauth is not None and not renewed:
                renewed = True
                reauth()
                return once()  # a renewed token is a fresh start, not a retry
            if code < 400:
                return resp
            if code == 401:
                raise AdapterError(f"{label}: 401 Unauthorized, the credentials were refused ({_vendor_message(resp)})")
            if code == 429:
                raise Retry("429 Too Many Requests", _retry_after(resp))
            if code >= 500:
                raise Retry(f"HTTP {code} {resp.reason_phrase} ({_vendor_message(resp)})")
            raise AdapterError(f"{label}: HTTP {code} {resp.reason_phrase} ({_vendor_message(resp)})")

        return with_retries(label, once, self.retries, self.max_wait)
