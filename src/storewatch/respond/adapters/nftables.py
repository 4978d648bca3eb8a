"""nftables: block an IP or network on this host by adding it, with a timeout equal to the action's
expiry, to a named set that a drop rule matches.

Each action writes a file of `nft` commands to `<workspace>/respond/nftables/<action_id>.nft` and applies
it with `nft -f` (as root). The file first declares, idempotently, the table, the IPv4/IPv6 sets and, unless
`hook` is off, input and forward chains that drop traffic from the sets (the chains are flushed and their
rules re-added, so applying many files never duplicates a rule). The kernel removes an element when its
timeout passes; rollback deletes it earlier. When `nft` is not installed the file is kept and the action
fails with the command to run by hand.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Mapping

from storewatch.respond.adapters.base import Adapter, AdapterError, Job, Operation, Outcome
from storewatch.respond.config import Setting
from storewatch.respond.values import valid_ip


class NftablesAdapter(Adapter):
    name = "nftables"
    product = "Linux nftables: elements with a timeout in a named set, applied with `nft -f`"
    settings = (
        Setting("family", "Table family", default="inet"),
        Setting("table", "Table holding the sets and chains", default="storewatch"),
        Setting("set_v4", "Set of blocked IPv4 addresses and networks", default="blocklist_v4"),
        Setting("set_v6", "Set of blocked IPv6 addresses and networks", default="blocklist_v6"),
        Setting("hook", "Also create input/forward chains that drop the sets' sources (off: your ruleset "
                        "references the sets itself)", default=True),
        Setting("nft", "The nft program", default="nft"),
    )
    operations = {"block_ip": Operation("block_ip", "Drop traffic from an IP or network on this host via an "
                                                    "nftables set element with a timeout", ("ip",),
                                        expires_by_itself=True)}

    def _element(self, target: str) -> tuple[str, str]:
        value = valid_ip(target)  # the value lands in a command file: only a parsed address gets there
        if value is None:
            raise AdapterError(f"nftables: {target!r} is not an IP address or network")
        version = ipaddress.ip_network(value, strict=False).version
        return (self.values["set_v4"] if version == 4 else self.values["set_v6"]), value

    def _table(self) -> str:
        return f"{self.values['family']} {self.values['table']}"

    def _preamble(self) -> list[str]:
        t, v4, v6 = self._table(), self.values["set_v4"], self.values["set_v6"]
        lines = [f"add table {t}",
                 f"add set {t} {v4} {{ type ipv4_addr; flags interval, timeout; }}",
                 f"add set {t} {v6} {{ type ipv6_addr; flags interval, timeout; }}"]
        if self.values["hook"]:
            for chain in ("input", "forward"):
                lines += [f"add chain {t} {chain} {{ type filter hook {chain} priority -10; policy accept; }}",
                          f"flush chain {t} {chain}",
                          f"add rule {t} {chain} ip saddr @{v4} drop",
                          f"add rule {t} {chain} ip6 saddr @{v6} drop"]
        return lines

    def commands(self, target: str, job: Job, undo: bool = False) -> str:
        """The file `nft -f` reads for this action (or for its rollback)."""
        set_name, value = self._element(target)
        head = f"# storewatch {job.action_id} for incident {job.incident['id']}: {'unblock' if undo else 'block'} {value}"
        if undo:
            return "\n".join([head, f"delete element {self._table()} {set_name} {{ {value} }}"]) + "\n"
        body = self._preamble() + [f"add element {self._table()} {set_name} {{ {value} timeout {job.ttl_seconds}s }}"]
        return "\n".join([head, f"# expires {job.expires_at:%Y-%m-%dT%H:%M:%SZ}", *body]) + "\n"

    @staticmethod
    def file(job: Job, undo: bool = False) -> Path:
        return job.ws.home / "respond" / "nftables" / f"{job.action_id}{'.undo' if undo else ''}.nft"

    def describe(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> str:
        return (f"write {self.file(job)} and run `{self.values['nft']} -f` on it (needs root):\n"
                + self.commands(target, job))

    def _apply_file(self, text: str, path: Path, missing_ok: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        try:
            done = self.run([self.values["nft"], "-f", str(path)])
        except FileNotFoundError:
            raise AdapterError(f"nftables: `{self.values['nft']}` is not installed here, so nothing was applied; "
                               f"the commands are in {path}: run `nft -f {path}` as root on the firewall") from None
        if done.returncode != 0:
            error = (done.stderr or done.stdout or "").strip()
            if missing_ok and "No such file or directory" in error:
                return  # the element is gone already (its timeout passed)
            raise AdapterError(f"nftables: `nft -f {path}` failed (exit {done.returncode}): {error[:300]}")

    def apply(self, op: str, target: str, params: Mapping[str, Any], job: Job) -> Outcome:
        path = self.file(job)
        self._apply_file(self.commands(target, job), path)
        set_name, value = self._element(target)
        return Outcome(f"{value} added to nftables set {self._table()} {set_name} for {job.ttl_seconds} s",
                       {"file": str(path)})

    def undo(self, op: str, target: str, params: Mapping[str, Any], state: Mapping[str, Any], job: Job) -> str:
        self._apply_file(self.commands(target, job, undo=True), self.file(job, undo=True), missing_ok=True)
        set_name, value = self._element(target)
        return f"{value} removed from nftables set {self._table()} {set_name}"
