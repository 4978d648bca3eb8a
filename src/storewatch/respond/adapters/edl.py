"""External dynamic list: add an IP, network or domain to the block lists firewalls pull over HTTP
(Palo Alto External Dynamic Lists, Fortinet external threat feeds, Check Point custom IoC feeds).

The list lives in the workspace (`storewatch.respond.edl`); expiry is built in, since an expired entry
is simply no longer rendered. Needs no credentials: the firewall fetches `/edl/ip.txt` or `/edl/domain.txt`
from `storewatch serve`.
"""

from __future__ import annotations

from typing import Any, Mapping

from storewatch.respond import edl
from storewatch.respond.adapters.base import Adapter, Job, Operation, Outcome

_KIND = {"block_ip": "ip", "block_domain": "domain"}


class EdlAdapter(Adapter):
    name = "edl"
    product = "External dynamic list (plain text, one entry a line) served at /edl/ip.txt and /edl/domain.txt"
    settings = ()
    operations = {
        "block_ip": Operation("block_ip", "List an IP or network on /edl/ip.txt until it expires", ("ip",),
                              expires_by_itself=True),
        "block_domain": Operation("block_domain", "List a domain on /edl/domain.txt until it expires", ("domain",),
                                  expires_by_itself=True),
    }

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        kind = _KIND[op]
        return (f"add {target} to the external dynamic list /edl/{kind}.txt ({edl.path(job.ws)}) "
                f"until {job.expires_at:%Y-%m-%d %H:%M} UTC; firewalls block it at their next fetch")

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        edl.add(job.ws, _KIND[op], target, job.action_id, job.expires_at)
        return Outcome(f"{target} listed on /edl/{_KIND[op]}.txt until {job.expires_at:%Y-%m-%d %H:%M} UTC")

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        edl.remove(job.ws, _KIND[op], target, job.action_id)
        listed = any(e["value"] == target for e in edl.entries(job.ws, _KIND[op]))
        return f"{target} taken off /edl/{_KIND[op]}.txt" + (" (another action still lists it)" if listed else "")
