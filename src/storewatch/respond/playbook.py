"""Playbooks as data: YAML files that say which incidents they fit and which actions, in order, to take.

```yaml
name: block-hostile-ips                 # unique; a user playbook with a shipped name replaces it
description: Why and what, in a sentence or two.
when:                                   # all given conditions must hold (omit for "every incident")
  scenarios: [credential_stuffing, admin_bruteforce]
  min_severity: medium                  # low | medium | high | critical
  entities: [ip]                        # entity types the incident must name
expires: 7d                             # default lifetime of the actions (m, h, d, w)
actions:                                # in order
  - do: edl.block_ip                    # adapter.operation (see `storewatch playbooks --actions`)
    for_each: ip                        # entity type(s) to act on; default: what the operation takes
    only: public                        # ip only: public | private
    pattern: '^auth0\\|'                # keep targets matching this regular expression
    limit: 50                           # at most this many targets (default 50)
    approval: false                     # default true: runs only with --execute
    expires: 24h
    when: {min_severity: high}          # extra conditions for this action
    params: {}                          # passed to the adapter (e.g. text for notifications)
  - do: notify                          # one notification per configured channel
    channels: [slack, teams, webhook, email]
```

Shipped playbooks live beside this module in `playbooks/`; users add or override them in
`<workspace>/playbooks/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

import yaml

from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.respond.adapters import NOTIFY_CHANNELS, OPERATIONS
from storewatch.workspace import Workspace

SHIPPED = Path(__file__).resolve().parent / "playbooks"
DEFAULT_EXPIRY = timedelta(hours=24)
DEFAULT_LIMIT = 50
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PLAYBOOK_KEYS = {"name", "description", "when", "expires", "actions", "enabled"}
_STEP_KEYS = {"do", "for_each", "only", "pattern", "limit", "approval", "expires", "when", "params", "channels"}
_WHEN_KEYS = {"scenarios", "min_severity", "entities"}


class PlaybookError(Exception):
    """A playbook file that cannot be used; the message names the file and the problem."""


def user_folder(ws: Workspace) -> Path:
    return ws.home / "playbooks"


def parse_duration(value: Any, where: str) -> timedelta:
    text = str(value).strip()
    if text[:-1].isdigit() and text[-1] in _UNITS and int(text[:-1]) > 0:
        return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
    raise PlaybookError(f"{where}: expiry {value!r} is not a duration like 30m, 24h, 7d or 2w")


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class Conditions:
    scenarios: tuple[str, ...] = ()
    min_severity: str | None = None
    entities: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any, where: str) -> "Conditions":
        raw = raw or {}
        if not isinstance(raw, dict) or set(raw) - _WHEN_KEYS:
            raise PlaybookError(f"{where}: `when` takes {', '.join(sorted(_WHEN_KEYS))}")
        severity = raw.get("min_severity")
        if severity is not None and severity not in SEVERITY_RANK:
            raise PlaybookError(f"{where}: min_severity {severity!r} is not one of {', '.join(SEVERITY_RANK)}")
        return cls(_names(raw.get("scenarios")), severity, _names(raw.get("entities")))

    def unmet(self, incident: Mapping[str, Any]) -> list[str]:
        """Why the incident does not fit (empty when it does)."""
        reasons = []
        if self.scenarios and incident["scenario"] not in self.scenarios:
            reasons.append(f"scenario {incident['scenario']} is not one of {', '.join(self.scenarios)}")
        if self.min_severity and SEVERITY_RANK[incident["severity"]] < SEVERITY_RANK[self.min_severity]:
            reasons.append(f"severity {incident['severity']} is below {self.min_severity}")
        present = {e["type"] for e in incident["entities"]}
        missing = [t for t in self.entities if t not in present]
        if missing:
            reasons.append(f"no {', '.join(missing)} entity")
        return reasons


@dataclass(frozen=True)
class Step:
    do: str
    for_each: tuple[str, ...]
    approval: bool
    expires: timedelta
    when: Conditions = Conditions()
    only: str | None = None
    pattern: str | None = None
    limit: int = DEFAULT_LIMIT
    params: Mapping[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Playbook:
    name: str
    description: str
    when: Conditions
    steps: tuple[Step, ...]
    path: Path
    origin: str  # shipped | user
    enabled: bool = True


def _step(raw: Any, where: str, default_expiry: timedelta) -> Step:
    if not isinstance(raw, dict) or "do" not in raw:
        raise PlaybookError(f"{where}: each action needs `do: adapter.operation`")
    if unknown := set(raw) - _STEP_KEYS:
        raise PlaybookError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    do = str(raw["do"])
    channels = _names(raw.get("channels")) or (NOTIFY_CHANNELS if do == "notify" else ())
    if do == "notify":
        if bad := [c for c in channels if c not in NOTIFY_CHANNELS]:
            raise PlaybookError(f"{where}: unknown channel(s) {', '.join(bad)}; use {', '.join(NOTIFY_CHANNELS)}")
        targets: tuple[str, ...] = ("incident",)
    elif do in OPERATIONS:
        targets = OPERATIONS[do][1].targets
    else:
        raise PlaybookError(f"{where}: unknown action {do!r}; see `storewatch playbooks --actions`")
    for_each = _names(raw.get("for_each")) or targets
    if bad := [t for t in for_each if t not in targets]:
        raise PlaybookError(f"{where}: {do} acts on {', '.join(targets)}, not {', '.join(bad)}")
    only = raw.get("only")
    if only not in (None, "public", "private"):
        raise PlaybookError(f"{where}: `only` is public or private")
    if raw.get("pattern") is not None:
        try:
            re.compile(str(raw["pattern"]))
        except re.error as exc:
            raise PlaybookError(f"{where}: pattern is not a regular expression ({exc})") from None
    limit = raw.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or limit < 1:
        raise PlaybookError(f"{where}: limit must be a positive whole number")
    if not isinstance(raw.get("params", {}), dict) or not isinstance(raw.get("approval", True), bool):
        raise PlaybookError(f"{where}: params must be a mapping and approval true or false")
    expires = parse_duration(raw["expires"], where) if "expires" in raw else default_expiry
    return Step(do=do, for_each=for_each, approval=raw.get("approval", True), expires=expires,
                when=Conditions.parse(raw.get("when"), where), only=only,
                pattern=None if raw.get("pattern") is None else str(raw["pattern"]), limit=limit,
                params=dict(raw.get("params") or {}), channels=channels)


def load_file(path: Path, origin: str) -> Playbook:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlaybookError(f"{path.name}: cannot be read as YAML ({exc})") from None
    if not isinstance(raw, dict) or not raw.get("name") or not isinstance(raw.get("actions"), list):
        raise PlaybookError(f"{path.name}: a playbook needs `name` and a list of `actions`")
    if unknown := set(raw) - _PLAYBOOK_KEYS:
        raise PlaybookError(f"{path.name}: unknown key(s) {', '.join(sorted(unknown))}")
    expiry = parse_duration(raw["expires"], path.name) if "expires" in raw else DEFAULT_EXPIRY
    steps = tuple(_step(s, f"{path.name} action {n}", expiry) for n, s in enumerate(raw["actions"], 1))
    return Playbook(name=str(raw["name"]), description=" ".join(str(raw.get("description", "")).split()),
                    when=Conditions.parse(raw.get("when"), path.name), steps=steps, path=path, origin=origin,
                    enabled=bool(raw.get("enabled", True)))


def load_all(ws: Workspace) -> tuple[list[Playbook], list[str]]:
    """Shipped then user playbooks (a user file with a shipped name replaces it), and the files that failed."""
    found: dict[str, Playbook] = {}
    errors: list[str] = []
    for folder, origin in ((SHIPPED, "shipped"), (user_folder(ws), "user")):
        files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        for file in files:
            try:
                book = load_file(file, origin)
            except PlaybookError as exc:
                errors.append(f"{origin}: {exc}")
                continue
            found[book.name] = book
    return list(found.values()), errors
