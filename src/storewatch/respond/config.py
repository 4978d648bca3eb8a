"""Adapter settings and credentials: environment variables first, then `<workspace>/respond.yml`.

Credentials never come from the command line (shell history, process lists) and never reach output, logs
or the audit log: `Settings` hides its values from `repr`, and `scrub` blanks every secret value out of
any text before it is stored or printed. The config file holds secrets, so it must be readable by its
owner only (mode 0600); a file others can read is refused rather than silently used.

Every setting `key` of adapter `name` can be given as the environment variable `STOREWATCH_<NAME>_<KEY>`
(upper case) or in the file as `name: {key: value}`; the environment wins.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from storewatch.workspace import Workspace

CONFIG_NAME = "respond.yml"
ENV_PREFIX = "STOREWATCH_"


class ConfigError(Exception):
    """The settings cannot be used as they are; the message says how to fix them."""


@dataclass(frozen=True)
class Setting:
    key: str
    doc: str
    secret: bool = False
    required: bool = False
    default: Any = None  # its type (bool, int, float, list) also says how to read an env var


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section}_{key}".upper()


def _cast(raw: str, default: Any) -> Any:
    """Environment variables are text; read them as the type the setting's default has."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        return type(default)(raw)
    if isinstance(default, list):
        return [v.strip() for v in raw.split(",") if v.strip()]
    return raw


class Settings:
    """Every adapter's settings, merged from the environment and the workspace config file."""

    def __init__(self, sections: Mapping[str, Mapping[str, Any]], environ: Mapping[str, str]) -> None:
        self._sections = {str(k).lower(): dict(v or {}) for k, v in sections.items()}
        self._environ = dict(environ)

    def __repr__(self) -> str:  # values are credentials: never shown
        return f"Settings(sections={sorted(self._sections)})"

    @classmethod
    def load(cls, ws: Workspace, environ: Mapping[str, str] | None = None) -> "Settings":
        path = ws.home / CONFIG_NAME
        sections: dict = {}
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise ConfigError(f"{path} is readable by others (mode {mode:04o}); it holds credentials, "
                                  f"so storewatch refuses it: run `chmod 600 {path}`")
            try:
                sections = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path} is not valid YAML: {exc}") from None
            if not isinstance(sections, dict) or not all(isinstance(v, dict) or v is None for v in sections.values()):
                raise ConfigError(f"{path} must map adapter names to settings, e.g. `slack: {{webhook_url: ...}}`")
        return cls(sections, os.environ if environ is None else environ)

    def section(self, name: str, spec: tuple[Setting, ...]) -> dict[str, Any]:
        """The settings of one adapter: environment, then file, then defaults."""
        found = self._sections.get(name, {})
        out: dict[str, Any] = {}
        for s in spec:
            raw = self._environ.get(env_name(name, s.key))
            if raw not in (None, ""):
                try:
                    out[s.key] = _cast(raw, s.default)
                except ValueError:
                    raise ConfigError(f"{env_name(name, s.key)}={raw!r} is not a {type(s.default).__name__}") from None
            elif found.get(s.key) not in (None, ""):
                out[s.key] = found[s.key]
            else:
                out[s.key] = s.default
        return out

    def missing(self, name: str, spec: tuple[Setting, ...]) -> list[str]:
        """Environment variables that would supply the required settings still missing."""
        values = self.section(name, spec)
        return [env_name(name, s.key) for s in spec if s.required and values[s.key] in (None, "", [])]

    def secret_values(self, specs: Mapping[str, tuple[Setting, ...]]) -> list[str]:
        """Every configured secret, longest first, for `scrub`."""
        values = []
        for name, spec in specs.items():
            section = self.section(name, spec)
            values += [str(section[s.key]) for s in spec if s.secret and section[s.key]]
        return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret value replaced by ***, for anything stored, audited or printed."""
    for value in secrets:
        text = text.replace(value, "***")
    return text
