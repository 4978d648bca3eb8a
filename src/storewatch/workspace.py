"""Where a workspace lives, its settings and the secrets it keeps.

A workspace is a folder (default `./.storewatch`, or `--home`, or STOREWATCH_HOME) holding the store and
the key that turns card numbers into tokens. Secrets come from the environment or from files with
owner-only permissions inside the workspace, never from the command line. Settings (what the retailer
knows and the data cannot be trusted to tell: its brand names and own domains) live in `settings.yml`,
a small YAML file meant to be read in a diff, written by `storewatch config` or by hand.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_HOME = Path(".storewatch")
KEY_ENV = "STOREWATCH_TOKEN_KEY"
HOME_ENV = "STOREWATCH_HOME"
SETTINGS_FILE = "settings.yml"
# Each setting: a list of values, with what it means. Keys are `section.name`, as in the file.
SETTINGS: dict[str, str] = {
    "brand.names": "the retailer's brand names (look-alike detection compares domains with them)",
    "brand.domains": "the retailer's own registrable domains (never flagged; look-alikes are measured against them)",
    "sla.acknowledge": "time to acknowledge an incident, per severity: critical=15m high=1h ... (docs/cases.md)",
    "sla.resolve": "time to resolve an incident, per severity: critical=4h high=24h ... (docs/cases.md)",
    "models.retrain_days": "days after which a model's current version is due a retrain (default 7)",
    "models.retrain_on_drift": "true: a model whose features drifted (PSI >= 0.25) is due a retrain (default false)",
    "stores.hours": "store opening hours as STORE=HH-HH, closing hour exclusive, `*` for every store "
                    "(0005=08-21 *=09-20); unset, they are learned (see `storewatch stores`)",
    "payments.thresholds": "card programme thresholds that replace the shipped ones, as programme=ratio "
                           "(vamp=0.009 mastercard_ecp=0.01; see `storewatch payments`)",
    "intel.retro_days": "days of history a newly pulled feed indicator is matched against (default 30)",
    "notify.min_severity": "lowest incident severity sent to the notification channels (default high)",
    "notify.max_per_hour": "notifications sent per hour before the rest wait for one digest (default 10)",
    "dashboard.url": "the dashboard's address as the team opens it, for links in notifications",
}
_NUMBERS = ("intel.retro_days", "notify.max_per_hour")
_SEVERITIES = ("low", "medium", "high", "critical")
_SLA_TARGET = re.compile(r"^(low|medium|high|critical)=[1-9][0-9]*[mhdw]$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SettingError(ValueError):
    """A setting that does not exist or a value it cannot take; the message says which and why."""


class WorkspaceMissing(LookupError):
    """A command that reads a workspace found none; the message says where it looked and how to make one."""


class KeyFileError(RuntimeError):
    """The workspace key file exists but holds no key."""


# What a workspace that was written to holds: the store, its read snapshots or its event segments.
STORE_MARKERS = ("storewatch.duckdb", "snapshots", "events")


def _chosen(home: Path | str | None) -> Path:
    return Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()


# Hex digits re-spelled as letters: a stored key never forms a digit run that looks like a card number.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


@dataclass(frozen=True)
class Workspace:
    home: Path

    @classmethod
    def at(cls, home: Path | str | None = None) -> "Workspace":
        """The workspace, created if it does not exist yet (for the commands that write: ingest, demo...)."""
        chosen = _chosen(home)
        chosen.mkdir(parents=True, exist_ok=True)
        return cls(chosen)

    @staticmethod
    def default_home() -> Path:
        """Where a command given no --home looks ($STOREWATCH_HOME, else ./.storewatch)."""
        return _chosen(None)

    @classmethod
    def existing(cls, home: Path | str | None = None) -> "Workspace":
        """The workspace a reading command needs; WorkspaceMissing if there is no store there, rather than
        an empty workspace made on the spot that shows nothing."""
        chosen = _chosen(home)
        if not any((chosen / name).exists() for name in STORE_MARKERS):
            how = ("--home" if home else f"${HOME_ENV}" if os.environ.get(HOME_ENV) else
                   f"the default {DEFAULT_HOME}/ in the current folder")
            raise WorkspaceMissing(
                f"No storewatch workspace at {chosen} (from {how}). Create one with "
                f"`storewatch ingest PATH --home {chosen}` (or `storewatch demo`), or give --home the folder of "
                "an existing one.")
        return cls(chosen)

    @property
    def db_path(self) -> Path:
        return self.home / "storewatch.duckdb"

    def token_key(self) -> bytes:
        """Key for the keyed hash that replaces card numbers; created on first use, kept private.

        Processes starting together (ingest, the dashboard, respond) must agree on one key and never read
        a half-written file: the key is written whole under a private name, then linked into place only
        if no other process got there first."""
        if env := os.environ.get(KEY_ENV):
            return env.encode()
        path = self.home / "token.key"
        if not path.exists():
            tmp = path.with_name(f".token.key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32).translate(_LETTERS))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process created it first: use theirs
            finally:
                tmp.unlink()
        key = path.read_text().strip().encode()
        if not key:
            raise KeyFileError(f"{path} is empty: restore it from a backup (tokens and audit signatures depend on it)")
        return key

    @property
    def settings_path(self) -> Path:
        return self.home / SETTINGS_FILE

    def settings(self) -> dict[str, list[str]]:
        """Every known setting and its values (empty when not set)."""
        doc = yaml.safe_load(self.settings_path.read_text(encoding="utf-8")) if self.settings_path.exists() else None
        doc = doc if isinstance(doc, dict) else {}
        out: dict[str, list[str]] = {}
        for key in SETTINGS:
            section, name = key.split(".")
            values = (doc.get(section) or {}).get(name) if isinstance(doc.get(section), dict) else None
            out[key] = [str(v) for v in values] if isinstance(values, list) else ([str(values)] if values else [])
        return out

    def setting(self, key: str, default: str) -> str:
        """A single-valued setting, or `default` when it is not set."""
        values = self.settings()[key]
        return values[0] if values else default

    def set_setting(self, key: str, values: list[str]) -> list[str]:
        """Set (or, with no values, clear) one setting; values are checked and normalized first."""
        if key not in SETTINGS:
            raise SettingError(f"unknown setting {key!r}: choose one of {', '.join(SETTINGS)}")
        values = [v.strip() for v in values if v.strip()]
        if key == "brand.domains":
            values = [v.lower().rstrip(".") for v in values]
            bad = [v for v in values if not _DOMAIN.match(v)]
            if bad:
                raise SettingError(f"{key}: not a domain name: {', '.join(bad)}")
        if key.startswith("sla."):
            values = [v.lower() for v in values]
            bad = [v for v in values if not _SLA_TARGET.match(v)]
            if bad:
                raise SettingError(f"{key}: not severity=duration (like high=1h): {', '.join(bad)}")
        if key == "models.retrain_days" and values and not (len(values) == 1 and values[0].isdigit() and int(values[0]) > 0):
            raise SettingError(f"{key}: one whole number of days, at least 1")
        if key == "models.retrain_on_drift" and values and not (len(values) == 1 and values[0].lower() in ("true", "false")):
            raise SettingError(f"{key}: true or false")
        if key in _NUMBERS and not all(v.isdigit() and int(v) > 0 for v in values):
            raise SettingError(f"{key}: a whole number above 0")
        if key == "notify.min_severity" and not all(v.lower() in _SEVERITIES for v in values):
            raise SettingError(f"{key}: one of {', '.join(_SEVERITIES)}")
        if key == "dashboard.url" and not all(re.match(r"^https?://[^/\s]+", v) for v in values):
            raise SettingError(f"{key}: an http(s) URL")
        if key in _NUMBERS or key in ("notify.min_severity", "dashboard.url"):
            values = [v.lower() if key == "notify.min_severity" else v for v in values[-1:]]  # one value
        current = self.settings()
        current[key] = list(dict.fromkeys(values))
        doc: dict[str, dict[str, list[str]]] = {}
        for k, v in current.items():
            if v:
                section, name = k.split(".")
                doc.setdefault(section, {})[name] = v
        self.settings_path.write_text(yaml.safe_dump(doc, sort_keys=True, allow_unicode=True), encoding="utf-8")
        return current[key]