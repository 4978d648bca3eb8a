"""The receiver's secrets and limits, from the environment or `<home>/respond.yml` (mode 600), as the dashboard's
token: `STOREWATCH_STRIPE_WEBHOOK_SECRET` or `stripe: {webhook_secret: whsec_...}`, and so on (see SPEC).

An endpoint whose secret is not set answers 404: nothing is taken unsigned, even on loopback. Secrets are never
printed or logged; `describe` says only which endpoints are on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from storewatch.receive.spool import Limits
from storewatch.respond.config import ConfigError, Setting, Settings
from storewatch.web.security import weakness
from storewatch.workspace import Workspace

MIB = 1 << 20
SPEC: dict[str, tuple[Setting, ...]] = {
    "stripe": (Setting("webhook_secret", "endpoint signing secret(s), comma-separated while rolling", secret=True, default=[]),
               Setting("tolerance", "seconds a signed timestamp may be from now", default=300)),
    "shopify": (Setting("webhook_secret", "app client secret(s) that sign the webhooks", secret=True, default=[]),),
    "auth0": (Setting("token", "the Authorization token of the custom webhook log stream", secret=True),),
    "jsonl": (Setting("token", "bearer token for POST /ingest/jsonl", secret=True),),
    "receive": (Setting("spool_max_mb", "inbox size at which senders are held back", default=Limits.max_bytes // MIB),
                Setting("min_free_mb", "free disk below which senders are held back", default=Limits.min_free_bytes // MIB),
                Setting("rotate_mb", "spool file size at which it is rotated", default=Limits.rotate_bytes // MIB),
                Setting("body_max_mb", "largest HTTP body taken", default=8),
                Setting("syslog_allow", "networks syslog is taken from when listening beyond loopback", default=[])),
}


@dataclass(frozen=True)
class ReceiveConfig:
    stripe_secrets: list[str] = field(default_factory=list)
    stripe_tolerance: int = 300
    shopify_secrets: list[str] = field(default_factory=list)
    auth0_token: str | None = None
    jsonl_token: str | None = None
    limits: Limits = Limits()
    body_max: int = 8 * MIB
    syslog_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def __repr__(self) -> str:  # holds secrets: never shown
        return f"ReceiveConfig(endpoints={self.endpoints()})"

    def endpoints(self) -> list[str]:
        """The webhook endpoints that are on (their secret is set)."""
        on = {"stripe": self.stripe_secrets, "shopify": self.shopify_secrets, "auth0": self.auth0_token,
              "jsonl": self.jsonl_token}
        return [name for name, secret in on.items() if secret]


def load(ws: Workspace) -> ReceiveConfig:
    """The configuration, or a ConfigError saying what to fix (a weak token, a bad network)."""
    settings = Settings.load(ws)
    s = {name: settings.section(name, spec) for name, spec in SPEC.items()}
    for name in ("auth0", "jsonl"):
        token = s[name]["token"]
        if token and (why := weakness(str(token))):
            raise ConfigError(f"{name} token: {why}")
    r = s["receive"]
    try:
        allow = tuple(ipaddress.ip_network(str(n), strict=False) for n in _listed(r["syslog_allow"]))
    except ValueError as exc:
        raise ConfigError(f"receive.syslog_allow: {exc}") from None
    return ReceiveConfig(
        stripe_secrets=_listed(s["stripe"]["webhook_secret"]), stripe_tolerance=int(s["stripe"]["tolerance"]),
        shopify_secrets=_listed(s["shopify"]["webhook_secret"]),
        auth0_token=str(s["auth0"]["token"]) if s["auth0"]["token"] else None,
        jsonl_token=str(s["jsonl"]["token"]) if s["jsonl"]["token"] else None,
        limits=Limits(rotate_bytes=_mib(r["rotate_mb"]), max_bytes=_mib(r["spool_max_mb"]),
                      min_free_bytes=_mib(r["min_free_mb"])),
        body_max=_mib(r["body_max_mb"]), syslog_allow=allow)


def _listed(value) -> list[str]:
    """A list setting given as a YAML list, or one comma-separated string."""
    values = value if isinstance(value, list) else str(value or "").split(",")
    return [str(v).strip() for v in values if str(v).strip()]


def _mib(value) -> int:
    try:
        return int(float(value) * MIB)
    except (TypeError, ValueError):
        raise ConfigError(f"not a number of MiB: {value!r}") from None
