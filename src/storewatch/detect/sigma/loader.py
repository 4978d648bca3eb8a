"""One Sigma rule file -> a Detection: parsed by pySigma, compiled to DuckDB SQL, grouped into alerts.

A rule may carry storewatch hints in a custom `storewatch:` mapping (all optional):
  scenario   the threat-catalogue scenario its alerts belong to (default "sigma")
  group_by   the entity column or Sigma field an alert is about (default: the logsource's)
  min_events matching events one entity must reach in a UTC day to raise an alert (default 1)
  summary    a str.format template over the alert's evidence
Whatever cannot be evaluated faithfully fails with a DetectionError naming the file and the feature.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from storewatch.detect.detection import Detection, DetectionError
from storewatch.detect.sigma import mapping as mapping_data
from storewatch.detect.sigma.alerts import Grouping, alert_query
from storewatch.detect.sigma.compiler import compile_rule
from storewatch.detect.sigma.mapping import Unsupported

HINTS = ("scenario", "group_by", "min_events", "summary")
SEVERITY = {"informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$", re.IGNORECASE)
DEFAULT_SUMMARY = '{events} event(s) matched "{rule}" for {entity_type} {entity}.'


def load_rule(path: Path) -> Detection:
    doc = _read(path)
    try:
        rule = SigmaRule.from_dict(doc)
    except SigmaError as exc:
        raise DetectionError(f"{path}: not a valid Sigma rule: {exc}") from None
    hints = _hints(path, rule.custom_attributes.get("storewatch"))
    m = mapping_data.load()
    try:
        source = m.source(rule.logsource)
        compiled = compile_rule(rule, m)
        group_by = (m.entity_column(hints["group_by"]),) if "group_by" in hints else source.group_by
        sql, params = alert_query(source, compiled, Grouping(group_by, int(hints.get("min_events", 1))), m, rule.title)
    except (Unsupported, SigmaError) as exc:
        raise DetectionError(f"{path}: unsupported Sigma feature: {exc}") from None
    try:
        return Detection(
            id=f"sigma.{path.stem}", title=rule.title, kind="sigma", scenario=str(hints.get("scenario", "sigma")),
            severity=SEVERITY.get(rule.level.name.lower() if rule.level else "medium", "medium"),
            query=lambda con: _run(con, sql, params),
            attack=tuple(t.name.upper() for t in rule.tags if t.namespace == "attack" and TECHNIQUE.match(t.name)),
            description=(rule.description or "").strip(), summary=str(hints.get("summary", DEFAULT_SUMMARY)),
            source=str(path),
        )
    except ValueError as exc:
        raise DetectionError(f"{path}: {exc}") from None


def _read(path: Path) -> dict:
    """The file's single rule document; collections, correlations and filters are refused by name."""
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DetectionError(f"{path}: cannot read rule: {exc}") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise DetectionError(f"{path}: unsupported Sigma feature: {len(docs)} YAML documents; "
                             "one rule per file (rule collections and 'action: global' are not supported)")
    doc = docs[0]
    if "correlation" in doc:
        raise DetectionError(f"{path}: unsupported Sigma feature: correlation rules; "
                             "write a windowed SQL rule instead (docs/detection.md)")
    if "filter" in doc and "detection" not in doc:
        raise DetectionError(f"{path}: unsupported Sigma feature: Sigma filters (meta-filters)")
    return doc


def _hints(path: Path, hints: object) -> dict:
    if hints is None:
        return {}
    if not isinstance(hints, dict) or set(hints) - set(HINTS):
        raise DetectionError(f"{path}: storewatch hints must be a mapping with keys among {', '.join(HINTS)}")
    min_events = hints.get("min_events", 1)
    if not isinstance(min_events, int) or min_events < 1:
        raise DetectionError(f"{path}: storewatch min_events must be a positive integer")
    return hints


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pa.Table:
    return con.sql(sql, params=params).to_arrow_table()
