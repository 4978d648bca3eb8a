"""Sigma rule files -> Detections: parsed by pySigma, compiled to DuckDB SQL, grouped into alerts.
Correlation rules (event_count, value_count, temporal, temporal_ordered) over rules of the same folder
are compiled by `correlation.py`.

A rule may carry storewatch hints in a custom `storewatch:` mapping (all optional):
  scenario   the threat-catalogue scenario its alerts belong to (default "sigma")
  group_by   the entity column or Sigma field an alert is about (default: the logsource's)
  min_events matching events one entity must reach in a UTC day to raise an alert (default 1)
  summary    a str.format template over the alert's evidence
  habit      entity columns or Sigma fields that, with the alert's entity, make a habit: an entity that matched
             on an earlier day with the same values is not alerted again (an admin's usual root shells)
Whatever cannot be evaluated faithfully fails with a DetectionError naming the file and the feature.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional

import duckdb
import pyarrow as pa
import yaml
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from storewatch.detect.detection import Batch, Detection, DetectionError
from storewatch.detect.sigma import mapping as mapping_data
from storewatch.detect.sigma.alerts import Grouping, Match, run_match, run_matches
from storewatch.detect.sigma.compiler import compile_rule
from storewatch.detect.sigma.correlation import Base, correlation_query
from storewatch.detect.sigma.mapping import Unsupported

HINTS = ("scenario", "group_by", "min_events", "summary", "habit")
SEVERITY = {"informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$", re.IGNORECASE)
DEFAULT_SUMMARY = '{events} event(s) matched "{rule}" for {entity_type} {entity}.'


def load_rule(path: Path) -> Detection:
    """A file holding exactly one rule (the shipped pack's form)."""
    found, errors = load_rules([path])
    if errors:
        raise DetectionError(errors[0]["error"])
    if len(found) != 1:
        raise DetectionError(f"{path}: holds {len(found)} detections; one rule per file expected here")
    return found[0]


def load_rules(paths: list[Path], read: Optional[dict[Path, list]] = None) -> tuple[list[Detection], list[dict]]:
    """Rule files as a user drops them into a folder: one rule, or several YAML documents (rules and the
    correlations over them); a correlation may refer to rules of any file of the folder, by name or id.
    Rules a correlation refers to raise alerts of their own only when it says `generate: true`.
    `read` holds the documents of files already read (`read_documents`), so that none is parsed twice."""
    errors: list[dict] = []
    rules: list[tuple[Path, str, dict]] = []  # (file, detection id, document)
    correlations: list[tuple[Path, str, dict]] = []
    for path in paths:
        try:
            docs = _checked(path, (read or {}).get(path))
        except DetectionError as exc:
            errors.append(_error(path, path.stem, exc))
            continue
        for n, doc in enumerate(docs):
            ident = f"sigma.{path.stem}" if len(docs) == 1 else f"sigma.{path.stem}.{doc.get('name') or n + 1}"
            (correlations if "correlation" in doc else rules).append((path, ident, doc))
    parsed: dict[str, tuple[Path, str, SigmaRule]] = {}
    by_ref: dict[str, SigmaRule] = {}
    for path, ident, doc in rules:
        try:
            rule = SigmaRule.from_dict(doc)
        except SigmaError as exc:
            errors.append(_error(path, ident, DetectionError(f"{path}: not a valid Sigma rule: {exc}")))
            continue
        parsed[ident] = (path, ident, rule)
        for ref in (rule.name, str(rule.id) if rule.id else None):
            if ref:
                by_ref[ref] = rule
    quiet: set[int] = set()  # rules referred to by a correlation that does not generate them
    found: list[Detection] = []
    for path, ident, doc in correlations:
        try:
            corr = SigmaCorrelationRule.from_dict(doc)
            refs = [r.reference for r in corr.rules or []]
            missing = [r for r in refs if r not in by_ref]
            if not refs or missing:
                raise DetectionError(f"{path}: correlation refers to unknown rule(s) {', '.join(missing) or '(none)'}")
            bases = [by_ref[r] for r in refs]
            found.append(_correlation(path, ident, corr, bases))
            if not corr.generate:
                quiet |= {id(b) for b in bases}
        except SigmaError as exc:
            errors.append(_error(path, ident, DetectionError(f"{path}: not a valid Sigma correlation: {exc}")))
        except DetectionError as exc:
            errors.append(_error(path, ident, exc))
    for path, ident, rule in parsed.values():
        if id(rule) in quiet:
            continue
        try:
            found.append(_detection(path, ident, rule))
        except DetectionError as exc:
            errors.append(_error(path, ident, exc))
    return found, errors


def _error(path: Path, ident: str, exc: Exception) -> dict:
    return {"detection": ident, "source": str(path), "error": str(exc)}


def _detection(path: Path, ident: str, rule: SigmaRule) -> Detection:
    hints = _hints(path, rule.custom_attributes.get("storewatch"))
    m = mapping_data.load().for_logsource(rule.logsource)
    try:
        source = m.source(rule.logsource)
        compiled = compile_rule(rule, m)
        group_by = (m.entity_column(hints["group_by"]),) if "group_by" in hints else source.group_by
        habit = tuple(m.entity_column(name) for name in hints["habit"]) if "habit" in hints else None
        grouping = Grouping(group_by, int(hints.get("min_events", 1)), habit)
        match = Match.of(rule.title, source, compiled, grouping, m)
    except (Unsupported, SigmaError) as exc:
        raise DetectionError(f"{path}: unsupported Sigma feature: {exc}") from None
    return _made(path, ident, rule, hints, lambda con: run_match(con, match),
                 Batch(key=("sigma", source.scope), member=match, run=run_matches))


def _correlation(path: Path, ident: str, corr: SigmaCorrelationRule, rules: list[SigmaRule]) -> Detection:
    hints = _hints(path, corr.custom_attributes.get("storewatch"))
    m = mapping_data.load()
    try:
        bases = [Base(r, m.source(r.logsource), compile_rule(r, m.for_logsource(r.logsource))) for r in rules]
        sql, params = correlation_query(corr, bases, m)
    except (Unsupported, SigmaError) as exc:
        raise DetectionError(f"{path}: unsupported Sigma feature: {exc}") from None
    return _made(path, ident, corr, hints, lambda con: con.sql(sql, params=params).to_arrow_table())


def _made(path: Path, ident: str, rule, hints: dict, query: Callable[[duckdb.DuckDBPyConnection], pa.Table],
          batch: Optional[Batch] = None) -> Detection:
    try:
        return Detection(
            id=ident, title=rule.title, kind="sigma", scenario=str(hints.get("scenario", "sigma")),
            severity=SEVERITY.get(rule.level.name.lower() if rule.level else "medium", "medium"),
            query=query, batch=batch,
            attack=tuple(t.name.upper() for t in rule.tags if t.namespace == "attack" and TECHNIQUE.match(t.name)),
            description=(rule.description or "").strip(), summary=str(hints.get("summary", DEFAULT_SUMMARY)),
            source=str(path),
        )
    except ValueError as exc:
        raise DetectionError(f"{path}: {exc}") from None


def read_documents(path: Path) -> list:
    """The YAML documents of a rule file, parsed by libyaml (a thousand SigmaHQ rules load in seconds)."""
    text = path.read_text(encoding="utf-8")
    return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]


def _checked(path: Path, docs: Optional[list]) -> list[dict]:
    """The file's rule and correlation documents, read unless given; global actions and meta-filters are
    refused by name."""
    if docs is None:
        try:
            docs = read_documents(path)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise DetectionError(f"{path}: cannot read rule: {exc}") from None
    if not docs or not all(isinstance(d, dict) for d in docs):
        raise DetectionError(f"{path}: a rule file holds Sigma rules (YAML mappings)")
    for doc in docs:
        if "action" in doc:
            raise DetectionError(f"{path}: unsupported Sigma feature: rule collections with 'action: {doc['action']}'")
        if "filter" in doc and "detection" not in doc:
            raise DetectionError(f"{path}: unsupported Sigma feature: Sigma filters (meta-filters)")
        if "correlation" not in doc and ("detection" not in doc or "logsource" not in doc):
            raise DetectionError(f"{path}: neither a Sigma rule (logsource + detection) nor a correlation")
    return docs


def _hints(path: Path, hints: object) -> dict:
    if hints is None:
        return {}
    if not isinstance(hints, dict) or set(hints) - set(HINTS):
        raise DetectionError(f"{path}: storewatch hints must be a mapping with keys among {', '.join(HINTS)}")
    min_events = hints.get("min_events", 1)
    if not isinstance(min_events, int) or min_events < 1:
        raise DetectionError(f"{path}: storewatch min_events must be a positive integer")
    habit = hints.get("habit")
    if habit is not None and not (isinstance(habit, list) and habit and all(isinstance(h, str) for h in habit)):
        raise DetectionError(f"{path}: storewatch habit must be a list of entity columns or Sigma fields")
    return hints
