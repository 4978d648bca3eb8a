"""Poll one TAXII 2.1 collection with taxii2-client: only what was added since the last poll, every page.

The cursor is the server's `X-TAXII-Date-Added-Last` header (the `date_added` of the last object handed
over; `-First` when a page holds one object), kept by the caller and sent back as `added_after` next time,
as TAXII 2.1 section 3.4 intends. taxii2-client returns envelopes without headers, so the headers are read
by a response hook that the request's authentication registers (requests' public hook API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import TokenAuth, _HTTPConnection
from taxii2client.v21 import Collection, as_pages

PAGE_SIZE = 500
_ADDED = ("X-TAXII-Date-Added-Last", "X-TAXII-Date-Added-First")


@dataclass
class Batch:
    objects: list[dict] = field(default_factory=list)
    cursor: str | None = None  # the newest date_added seen, or the previous cursor when the server sent none
    pages: int = 0


class _Recording(requests.auth.AuthBase):
    """Authenticates each request (basic, token or none) and keeps the date-added headers of the responses."""

    def __init__(self, inner: requests.auth.AuthBase | None) -> None:
        self.inner = inner
        self.added: list[str] = []

    def _keep(self, resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        found = next((resp.headers[h] for h in _ADDED if resp.headers.get(h)), None)
        if found:
            self.added.append(found)
        return resp

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.register_hook("response", self._keep)
        return self.inner(r) if self.inner else r


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def poll(api_root: str, collection_id: str, cursor: str | None, user: str | None = None,
         password: str | None = None, token: str | None = None, page_size: int = PAGE_SIZE,
         timeout: float = 60.0) -> Batch:
    """Every object added to the collection after `cursor` (all of them without one), following `next`."""
    inner = (requests.auth.HTTPBasicAuth(user, password or "") if user else TokenAuth(token) if token else None)
    auth = _Recording(inner)
    url = f"{api_root.rstrip('/')}/collections/{collection_id}/"
    batch = Batch(cursor=cursor)
    conn = _HTTPConnection(auth=auth, version="2.1")  # the documented `conn` argument, to set its timeout
    for scheme in ("http://", "https://"):
        conn.session.mount(scheme, _TimeoutAdapter(timeout))
    with Collection(url, conn=conn) as collection:
        filters = {"added_after": cursor} if cursor else {}
        for envelope in as_pages(collection.get_objects, per_request=page_size, **filters):
            batch.pages += 1
            batch.objects += [o for o in envelope.get("objects") or [] if isinstance(o, dict)]
    if auth.added:
        newest = max(auth.added, key=_stamp)
        if cursor is None or _stamp(newest) > _stamp(cursor):
            batch.cursor = newest
    return batch


class _TimeoutAdapter(HTTPAdapter):
    """requests has no session-wide timeout; a feed that hangs must not hang the monitor."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)
