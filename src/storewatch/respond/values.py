"""Checking values from logs before they reach firewall files, URLs and vendor filters: only values that
parse as what they claim to be are acted on (IPs and networks through `ipaddress`, domains and host names
through strict patterns), in canonical form.
"""

from __future__ import annotations

import ipaddress
import re

_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,253})$")


def valid_ip(value: str) -> str | None:
    """The address or network in canonical form (a single address without /32), or None."""
    try:
        net = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return None
    return str(net.network_address) if net.num_addresses == 1 else str(net)


def valid_domain(value: str) -> str | None:
    text = str(value).strip().lower().rstrip(".")
    return text if len(text) <= 253 and _DOMAIN.match(text) else None


def valid_host(value: str) -> str | None:
    text = str(value).strip()
    return text if _HOST.match(text) else None


CHECKS = {"ip": valid_ip, "domain": valid_domain, "host": valid_host, "device": valid_host}
