"""The text every notification carries, from a playbook template filled with the incident's fields.

Templates use `{field}` placeholders only (id, title, scenario, severity, risk_score, summary, first_seen,
last_seen): plain substitution, no attribute access, so a user playbook cannot reach into Python objects.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

DEFAULT = "storewatch: {severity} incident {id} ({scenario}, risk {risk_score}/100)\n{title}\n{summary}"
_FIELD = re.compile(r"\{(\w+)\}")


def text(incident: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    template = str(params.get("text") or DEFAULT)
    return _FIELD.sub(lambda m: str(incident[m.group(1)]) if m.group(1) in incident else m.group(0), template)


def subject(incident: Mapping[str, Any]) -> str:
    return f"[storewatch] {incident['severity']} incident {incident['id']}: {incident['title']}"[:200]
