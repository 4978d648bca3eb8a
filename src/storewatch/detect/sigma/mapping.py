"""Where Sigma's field names and log sources live in the normalized store, read from mapping.yml.

The mapping is data so that supporting a new source or field is an edit to a YAML file: a Sigma field
becomes SQL expressions over `events`, a logsource becomes a filter plus the entity an alert is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml
from sigma.rule import SigmaLogSource

from storewatch.store.schema import COLUMN_NAMES, entity_columns

MAPPING_FILE = Path(__file__).parent / "mapping.yml"
LOGSOURCE_PARTS = ("category", "service", "product")  # precedence for group_by / entities / evidence


class Unsupported(ValueError):
    """A rule uses something this matcher cannot evaluate faithfully; the message names the feature."""


@dataclass(frozen=True)
class Source:
    """The events a logsource selects and how its matches are grouped into alerts."""

    where: str
    # The events of the logsource's product (every Windows event log, say), or `where` when it names none:
    # the rules of one scope read its events from the store once (`alerts.run_matches`).
    scope: str
    group_by: tuple[str, ...]  # entity columns; an alert is about the first one that is set
    entities: tuple[str, ...]  # entity columns whose values an alert names
    evidence: tuple[tuple[str, str], ...]  # (evidence name, Sigma field) summarised per alert


_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,127}")


@dataclass(frozen=True)
class Mapping:
    fields: dict[str, tuple[str, ...]]
    keywords: tuple[str, ...]
    logsources: dict[str, dict[str, dict]]
    # product -> SQL template for any other field of that product's records (`{field}` is its name): a
    # Windows event keeps every EventData field, so a field Sigma names is one of them or absent.
    fallbacks: dict[str, str] = field(default_factory=dict)
    fallback: str | None = None  # the template in force for the rule at hand (`for_logsource`)
    # Logsources refused although each part is known (Linux process events: storewatch reads no auditd or
    # Sysmon for Linux), so a rule is refused by name instead of loading and never matching.
    refused: tuple[dict, ...] = ()

    # product -> fields that mean something else in that product's records (Zeek's `query` is a DNS name,
    # not the events table's database statement); they take precedence for that product's rules.
    product_fields: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def for_logsource(self, logsource: SigmaLogSource) -> "Mapping":
        """This mapping as a rule of that logsource sees it (its product's own fields and fallback, if any)."""
        product = (logsource.product or "").lower()
        own = self.product_fields.get(product)
        return replace(self, fallback=self.fallbacks.get(product), fields={**self.fields, **own} if own else self.fields)

    def expressions(self, field: str) -> tuple[str, ...]:
        """SQL expressions a Sigma field (or a native column name) stands for."""
        if field in self.fields:
            return self.fields[field]
        folded = {k.lower(): v for k, v in self.fields.items()}
        if field.lower() in folded:
            return folded[field.lower()]
        if field in COLUMN_NAMES:
            return (field,)
        if self.fallback and _FIELD_NAME.fullmatch(field):
            return (self.fallback.format(field=field),)
        raise Unsupported(f"field '{field}' is not mapped to the events table (see sigma/mapping.yml)")

    def keyword_expressions(self) -> tuple[str, ...]:
        return tuple(e for f in self.keywords for e in self.expressions(f))

    def entity_column(self, name: str) -> str:
        """A group_by hint (a Sigma field or a column) as the entity column it names."""
        exprs = (name,) if name in COLUMN_NAMES else self.expressions(name)
        if len(exprs) != 1 or exprs[0] not in entity_columns():
            raise Unsupported(f"group_by '{name}' is not an entity column ({', '.join(entity_columns())})")
        return exprs[0]

    def source(self, logsource: SigmaLogSource) -> Source:
        for rule in self.refused:
            if all((getattr(logsource, k) or "").lower() == str(rule[k]).lower() for k in LOGSOURCE_PARTS if k in rule):
                raise Unsupported(f"logsource {_describe(logsource)}: {rule['reason']}")
        parts: list[dict] = []
        for part in LOGSOURCE_PARTS:
            value = getattr(logsource, part)
            if value is None:
                continue
            known = self.logsources.get(part, {})
            if value.lower() not in known:
                raise Unsupported(f"logsource {part} '{value}' is not mapped (known: {', '.join(sorted(known))})")
            parts.append(known[value.lower()])
        if not parts:
            raise Unsupported("logsource names no category, product or service")

        def setting(key: str) -> object:
            return next((p[key] for p in parts if key in p), None)

        group_by = setting("group_by")
        if group_by is None:
            raise Unsupported("logsource has no entity to group alerts by; add a storewatch group_by hint")
        where = " AND ".join(f"({p['where']})" for p in parts)
        return Source(
            where=where, scope=f"({parts[-1]['where']})" if logsource.product else where,
            group_by=tuple(group_by if isinstance(group_by, list) else [group_by]),
            entities=tuple(setting("entities") or ()),
            evidence=tuple((setting("evidence") or {}).items()),
        )


def _describe(logsource: SigmaLogSource) -> str:
    return ", ".join(f"{k} '{getattr(logsource, k)}'" for k in LOGSOURCE_PARTS if getattr(logsource, k))


@lru_cache(maxsize=1)
def load(path: Path = MAPPING_FILE) -> Mapping:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = {str(k): tuple(v) if isinstance(v, list) else (str(v),) for k, v in doc["fields"].items()}
    return Mapping(fields=fields, keywords=tuple(doc["keywords"]), logsources=doc["logsources"],
                   fallbacks={str(k).lower(): str(v) for k, v in (doc.get("fallbacks") or {}).items()},
                   refused=tuple(doc.get("refused") or ()),
                   product_fields={str(p).lower(): {str(k): tuple(v) if isinstance(v, list) else (str(v),) for k, v in f.items()}
                                   for p, f in (doc.get("product_fields") or {}).items()})
