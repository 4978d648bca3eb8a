"""Plan, execute, roll back and expire response actions; the one place that decides whether a call is made.

Safety model:
- `plan` is a dry run: it builds adapters without a network client, so it cannot call anything; it
  records the planned actions so the dashboard and reports can show them.
- `execute` carries out only actions that need no approval, unless `approved` (the CLI's `--execute`,
  the dashboard's approve button) is given.
- An action's id is a hash of incident, action and target: planning twice gives the same ids, and an
  action already executed, rolled back or expired is never called again. Failed actions stay `failed`
  with the reason and are retried by the next execution.
- Every execution, rollback and expiry is written to the audit log with who, what, why and the result;
  every stored or printed text is scrubbed of configured secrets first.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Collection, Mapping

import duckdb

from storewatch import audit
from storewatch.correlate.queries import get_incident
from storewatch.respond import http, state
from storewatch.respond.adapters import ADAPTERS, OPERATIONS
from storewatch.respond.adapters.base import Adapter, AdapterError, Job, Runner, run_command
from storewatch.respond.config import Settings, scrub
from storewatch.respond.playbook import Playbook, Step, load_all
from storewatch.respond.targets import resolve
from storewatch.store import db, reader
from storewatch.workspace import Workspace

INCIDENT_FIELDS = ("id", "title", "scenario", "severity", "risk_score", "summary", "first_seen", "last_seen",
                   "stores", "entities")
_LOCK = threading.Lock()  # one execution at a time per process (the dashboard may get two clicks)


class RespondError(Exception):
    """The request cannot be served as asked (unknown incident, playbook or action)."""


@dataclass
class PlannedAction:
    action_id: str
    incident_id: str
    playbook: str
    action: str  # adapter.operation
    adapter: str
    target: str
    params: dict
    approval_required: bool
    expires_at: str  # ISO 8601 UTC, if it were executed now
    description: str  # exactly what would be done
    ttl_seconds: int
    configured: bool = True
    status: str = "planned"  # where it stands already (executed, failed, ...)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ActionResult:
    action_id: str
    incident_id: str
    action: str
    target: str
    status: str  # the stored status afterwards
    detail: str
    changed: bool  # whether this call changed anything (False: skipped, awaiting approval, already done)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hooks:
    """How local commands run (`nft -f`); tests replace it so they need no root, nothing else should."""

    run: Runner = run_command


@dataclass
class Plan:
    incident: dict
    actions: list[PlannedAction]
    playbooks: list[str]
    notes: list[str] = field(default_factory=list)


def action_id(incident_id: str, action: str, target: str) -> str:
    return "ACT-" + hashlib.sha256(f"{incident_id}\x1f{action}\x1f{target}".encode()).hexdigest()[:12].upper()


def _specs() -> dict[str, tuple]:
    return {**{name: a.settings for name, a in ADAPTERS.items()}, "http": http.SETTINGS}


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(incident: Mapping[str, Any]) -> dict[str, Any]:
    return {k: incident.get(k) for k in INCIDENT_FIELDS}


def _why(playbook: str, incident: Mapping[str, Any]) -> str:
    return (f"playbook {playbook} for {incident['id']} ({incident['scenario']}, {incident['severity']}, "
            f"risk {incident['risk_score']})")


def _operations(step: Step, settings: Settings, notes: list[str]) -> list[str]:
    """The action names a step stands for: itself, or one notification per configured channel."""
    if step.do != "notify":
        return [step.do]
    chosen = [c for c in step.channels if not settings.missing(c, ADAPTERS[c].settings)]
    if not chosen:
        hints = ", ".join(settings.missing(c, ADAPTERS[c].settings)[0] for c in step.channels)
        notes.append(f"notify: no channel configured, nobody is told (set one of {hints})")
    return [f"{c}.notify" for c in chosen]


def _choose(books: list[Playbook], incident: dict, name: str | None, notes: list[str]) -> list[Playbook]:
    if name is None:
        return [b for b in books if b.enabled and not b.when.unmet(incident)]
    book = next((b for b in books if b.name == name), None)
    if book is None:
        raise RespondError(f"no playbook named {name!r}; `storewatch playbooks` lists them")
    if unmet := book.when.unmet(incident):
        notes.append(f"{name}: its conditions do not hold ({'; '.join(unmet)}); planned because it was chosen")
    return [book]


def build_plan(ws: Workspace, incident_id: str, playbook: str | None = None) -> Plan:
    """The dry run with its notes (skipped targets, unconfigured channels, broken playbook files)."""
    with db.opened(ws) as con:
        return _plan(con, ws, incident_id, playbook)


def _plan(con: duckdb.DuckDBPyConnection, ws: Workspace, incident_id: str, playbook: str | None) -> Plan:
    settings = Settings.load(ws)
    secrets = settings.secret_values(_specs())
    books, notes = load_all(ws)
    now = datetime.now(timezone.utc)
    planned: dict[str, PlannedAction] = {}
    incident = get_incident(con, incident_id)
    if incident is None:
        raise RespondError(f"no single incident matches {incident_id!r}; `storewatch incidents` lists them")
    chosen = _choose(books, incident, playbook, notes)
    for book in chosen:
        why = _why(book.name, incident)
        for step in book.steps:
            if step.when.unmet(incident):
                continue
            targets, step_notes = resolve(step, incident, con)
            notes += step_notes
            for name in _operations(step, settings, notes):
                cls, op = OPERATIONS[name]
                adapter = cls(settings.section(cls.name, cls.settings))  # no HTTP client: cannot call out
                missing = settings.missing(cls.name, cls.settings)
                for target in targets:
                    aid = action_id(incident["id"], name, target)
                    if aid in planned:  # the same action from another playbook: the stricter approval wins
                        planned[aid].approval_required |= step.approval
                        continue
                    job = Job(aid, _public(incident), why, now + step.expires, ws)
                    text = adapter.describe(op.name, target, step.params, job)
                    if missing:
                        text += f"\n[not configured: set {', '.join(missing)}]"
                    planned[aid] = PlannedAction(
                        aid, incident["id"], book.name, name, cls.name, target, dict(step.params), step.approval,
                        _iso(job.expires_at), scrub(text, secrets), int(step.expires.total_seconds()),
                        configured=not missing)
    state.save_planned(con, [{**a.as_dict(), "expires_at": now + timedelta(seconds=a.ttl_seconds)}
                             for a in planned.values()])
    statuses = {r["action_id"]: r["status"] for r in state.listed(con, incident["id"])}
    for a in planned.values():
        a.status = statuses[a.action_id]
    return Plan(_public(incident), list(planned.values()), [b.name for b in chosen], notes)


def plan(ws: Workspace, incident_id: str, playbook: str | None = None) -> list[PlannedAction]:
    """What responding to the incident would do, calling nothing."""
    return build_plan(ws, incident_id, playbook).actions


class _Runtime:
    """Adapters with a network client for one execution, rollback or expiry run."""

    def __init__(self, ws: Workspace, hooks: Hooks) -> None:
        self.ws, self.hooks = ws, hooks
        self.settings = Settings.load(ws)
        self.secrets = self.settings.secret_values(_specs())
        self.http = http.Http.from_settings(self.settings.section("http", http.SETTINGS))
        self._adapters: dict[str, Adapter] = {}

    def adapter(self, name: str) -> Adapter:
        if name not in self._adapters:
            cls = ADAPTERS[name]
            self._adapters[name] = cls(self.settings.section(name, cls.settings), self.http, self.hooks.run)
        return self._adapters[name]

    def missing(self, name: str) -> list[str]:
        return self.settings.missing(name, ADAPTERS[name].settings)

    def close(self) -> None:
        self.http.close()


def _attempt(step: str, call) -> tuple[bool, Any]:
    """Run an adapter call; (True, value) or (False, reason). Unexpected errors are failures too, so an
    action never ends in an unknown state."""
    try:
        return True, call()
    except AdapterError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded as a failed action with its reason, not lost
        return False, f"{step} stopped by an unexpected {type(exc).__name__}: {exc}"


def _what(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("action_id", "incident_id", "playbook", "action", "target", "expires_at")}


def _execute_one(rt: _Runtime, con: duckdb.DuckDBPyConnection, a: PlannedAction, incident: dict, approved: bool,
                 actor: str) -> ActionResult:
    def result(status: str, detail: str, changed: bool) -> ActionResult:
        return ActionResult(a.action_id, a.incident_id, a.action, a.target, status, detail, changed)

    if a.status not in state.OPEN:
        return result(a.status, f"already {a.status.replace('_', ' ')}; not repeated", False)
    if a.approval_required and not approved:
        return result(a.status, "needs approval: run it with --execute (or approve it in the dashboard)", False)
    expires = datetime.now(timezone.utc) + timedelta(seconds=a.ttl_seconds)
    why = _why(a.playbook, incident)
    missing = rt.missing(a.adapter)
    if missing:
        ok, value = False, f"{a.adapter} is not configured: set {', '.join(missing)} (or {a.adapter}: in respond.yml)"
    else:
        job = Job(a.action_id, incident, why, expires, rt.ws)
        op = OPERATIONS[a.action][1].name
        ok, value = _attempt("the action", lambda: rt.adapter(a.adapter).apply(op, a.target, a.params, job))
    status = "executed" if ok else "failed"
    detail = scrub(value.detail if ok else value, rt.secrets)
    state.record(con, a.action_id, status, {"detail": detail, "state": value.state if ok else {}}, actor,
                 attempted=not missing, expires_at=expires if ok else None)
    audit.append(rt.ws, "respond.execute", {**_what(a.as_dict()), "expires_at": _iso(expires)}, why,
                 f"{status}: {detail}", actor)
    return result(status, detail, True)


def _picked(actions: list[PlannedAction], action_ids: Collection[str] | None) -> list[PlannedAction]:
    """The planned actions an analyst picked by id (all when None); an id the plan lacks is refused, so a
    stale page never runs something other than what it showed."""
    if action_ids is None:
        return actions
    wanted = set(action_ids)
    unknown = wanted - {a.action_id for a in actions}
    if unknown:
        raise RespondError(f"not in this incident's plan: {', '.join(sorted(unknown))}; plan again and pick anew")
    return [a for a in actions if a.action_id in wanted]


def execute(ws: Workspace, incident_id: str, playbook: str | None = None, actor: str | None = None,
            approved: bool = False, hooks: Hooks | None = None,
            action_ids: Collection[str] | None = None) -> list[ActionResult]:
    """Carry out the plan, or only the actions `action_ids` names: actions needing approval only when
    `approved`; done ones are not repeated. Each outcome is stored as soon as it is known, so a crash
    loses at most the call in flight."""
    actor = actor or audit.default_actor()
    with _LOCK, db.opened(ws) as con:
        p = _plan(con, ws, incident_id, playbook)
        chosen = _picked(p.actions, action_ids)
        rt = _Runtime(ws, hooks or Hooks())
        try:
            return [_execute_one(rt, con, a, p.incident, approved, actor) for a in chosen]
        finally:
            rt.close()


def _undo(rt: _Runtime, con: duckdb.DuckDBPyConnection, row: dict, final: str, kind: str, actor: str,
          why: str) -> ActionResult:
    """Take an executed action back (or just record it when there is nothing to call) and log it."""
    _, op = OPERATIONS[row["action"]]
    called = False
    if not op.reversible:
        ok, detail = True, f"nothing to take back: {op.summary[0].lower() + op.summary[1:]} cannot be undone"
    elif final == "expired" and op.expires_by_itself:
        ok, detail = True, f"expired at {_iso(row['expires_at'])}; {row['adapter']} drops it by itself"
    elif missing := rt.missing(row["adapter"]):
        ok, detail = False, f"{row['adapter']} is not configured: set {', '.join(missing)}"
    else:
        found = get_incident(con, row["incident_id"])
        incident = _public(found) if found else {"id": row["incident_id"], "stores": [], "entities": []}
        job = Job(row["action_id"], incident, why, row["expires_at"], rt.ws)
        called = True
        ok, detail = _attempt("the rollback", lambda: rt.adapter(row["adapter"]).undo(
            op.name, row["target"], row["params"], row["result"].get("state", {}), job))
    detail = scrub(detail, rt.secrets)
    status = final if ok else row["status"]
    outcome = {**row["result"], kind: detail} if ok else {**row["result"], f"{kind}_error": detail}
    state.record(con, row["action_id"], status, outcome, actor, attempted=called)
    audit.append(rt.ws, f"respond.{kind}", _what(row), why, f"{status if ok else 'failed'}: {detail}", actor)
    return ActionResult(row["action_id"], row["incident_id"], row["action"], row["target"], status,
                        detail if ok else f"{kind} failed: {detail}", ok)


def rollback(ws: Workspace, action_id: str, actor: str | None = None, hooks: Hooks | None = None) -> ActionResult:
    """Undo an executed action; a planned or failed one is cancelled so it never runs."""
    actor = actor or audit.default_actor()
    with _LOCK, db.opened(ws) as con:
        row = state.get(con, action_id)
        if row is None:
            raise RespondError(f"no single action matches {action_id!r}; `storewatch actions` lists them")
        if row["status"] in ("rolled_back", "expired"):
            return ActionResult(row["action_id"], row["incident_id"], row["action"], row["target"], row["status"],
                                f"already {row['status'].replace('_', ' ')}; nothing to do", False)
        why = f"rollback of {row['action']} on {row['target']} requested by {actor}"
        if row["status"] in state.OPEN:
            detail = "cancelled before it was carried out; it will not run"
            state.record(con, row["action_id"], "rolled_back", {**row["result"], "rollback": detail}, actor)
            audit.append(ws, "respond.rollback", _what(row), why, f"rolled_back: {detail}", actor)
            return ActionResult(row["action_id"], row["incident_id"], row["action"], row["target"], "rolled_back",
                                detail, True)
        rt = _Runtime(ws, hooks or Hooks())
        try:
            return _undo(rt, con, row, "rolled_back", "rollback", actor, why)
        finally:
            rt.close()


def expire(ws: Workspace, now: datetime | None = None, actor: str | None = None,
           hooks: Hooks | None = None) -> list[ActionResult]:
    """Lift every executed action whose expiry has passed (run it from cron or the dashboard)."""
    actor = actor or "storewatch-expiry"
    with _LOCK, db.opened(ws) as con:
        rows = state.due(con, now or datetime.now(timezone.utc))
        if not rows:
            return []
        rt = _Runtime(ws, hooks or Hooks())
        try:
            return [_undo(rt, con, row, "expired", "expiry", actor, f"expired at {_iso(row['expires_at'])}")
                    for row in rows]
        finally:
            rt.close()


def actions(ws: Workspace, incident_id: str | None = None) -> list[dict[str, Any]]:
    """Every recorded action (of one incident, by id or prefix) and where it stands."""
    with reader.opened(ws) as con:
        rows = state.listed(con, incident_id)
    out = []
    for r in rows:
        result = r.pop("result")
        failed = result.get("rollback_error") or result.get("expiry_error")
        r["detail"] = (result.get("rollback") or result.get("expiry") or (failed and f"undo failed: {failed}")
                       or result.get("detail", ""))
        for key in ("expires_at", "created_at", "updated_at"):
            r[key] = _iso(r[key]) if r[key] else None
        out.append(r)
    return out
