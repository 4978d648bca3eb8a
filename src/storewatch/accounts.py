"""Named accounts of the dashboard and their roles, kept in `<workspace>/users.json` (owner-only).

Passwords are hashed with Argon2id (argon2-cffi, its recommended parameters): the file never holds a
password, and a stolen file costs an attacker a memory-hard hash per guess. Roles are ordered:
a viewer reads, an analyst also works cases and records verdicts, an admin also manages accounts and
approves response actions.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime, timezone
from typing import Optional

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storewatch.workspace import Workspace

ROLES = {"viewer": 0, "analyst": 1, "admin": 2}
MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def path(ws: Workspace) -> os.PathLike:
    return ws.home / "users.json"


def load(ws: Workspace) -> dict[str, dict]:
    """Every account: name -> {role, hash, created}."""
    try:
        doc = orjson.loads(path(ws).read_bytes())
    except FileNotFoundError:
        return {}
    return doc.get("users", {}) if isinstance(doc, dict) else {}


def _save(ws: Workspace, users: dict[str, dict]) -> None:
    """Write the whole file under a private name, owner-only, then rename it into place."""
    target = ws.home / "users.json"
    tmp = target.with_name(f".users.json.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(orjson.dumps({"users": users}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise AccountError(f"{name!r} is not a user name: letters, digits, '.', '_', '-', up to 64")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def add(ws: Workspace, name: str, role: str, password: str) -> dict:
    users = load(ws)
    name, role = check_name(name), check_role(role)
    if name in users:
        raise AccountError(f"user {name!r} exists: use `users passwd` or remove it first")
    users[name] = {"role": role, "hash": _hash(password),
                   "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _save(ws, users)
    return {"name": name, "role": role}


def remove(ws: Workspace, name: str) -> dict:
    users = load(ws)
    name = check_name(name)
    if (gone := users.pop(name, None)) is None:
        raise AccountError(f"no user {name!r}")
    _save(ws, users)
    return {"name": name, "role": gone["role"]}


def set_password(ws: Workspace, name: str, password: str, role: Optional[str] = None) -> dict:
    users = load(ws)
    name = check_name(name)
    if name not in users:
        raise AccountError(f"no user {name!r}")
    users[name]["hash"] = _hash(password)
    if role:
        users[name]["role"] = check_role(role)
    _save(ws, users)
    return {"name": name, "role": users[name]["role"]}


def listing(ws: Workspace) -> list[dict]:
    return [{"name": n, "role": u["role"], "created": u.get("created")} for n, u in sorted(load(ws).items())]


def authenticate(ws: Workspace, name: str, password: str) -> Optional[dict]:
    """The account {name, role} when the password is right, else None (in the same time either way)."""
    users = load(ws)
    account = users.get(name.strip().lower())
    try:
        _HASHER.verify(account["hash"] if account else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return {"name": name.strip().lower(), "role": account["role"]} if account else None


def allows(role: str, needed: str) -> bool:
    return ROLES.get(role, -1) >= ROLES[needed]
