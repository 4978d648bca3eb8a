"""Load windowed detections from YAML: metadata plus one DuckDB query returning the alert columns.

A rule file is data (see docs/detection.md): `id`, `title`, `scenario`, `severity`, `attack`,
`description`, `summary` (a template over the evidence) and `sql`. The query reads the `events` table
(and the `intel` table, views and macros the store defines) and must return ALERT_COLUMNS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow as pa
import yaml

from storewatch.detect.detection import Detection, DetectionError

RULES_DIR = Path(__file__).parent / "rules"
REQUIRED = ("id", "title", "scenario", "severity", "sql")


def load_rule(path: Path) -> Detection:
    """One YAML rule file → a Detection; a clear DetectionError names what is wrong."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DetectionError(f"{path}: cannot read rule: {exc}") from None
    if not isinstance(doc, dict):
        raise DetectionError(f"{path}: a rule file holds one mapping with {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if not doc.get(k)]
    if missing:
        raise DetectionError(f"{path}: missing {', '.join(missing)}")
    sql = str(doc["sql"])
    defaults = _parameters(doc.get("parameters"), path)

    def build(values: Mapping[str, float]) -> Detection:
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise DetectionError(f"{doc['id']}: no parameter {', '.join(unknown)} (it has: {', '.join(defaults) or 'none'})")
        values = {**defaults, **values}
        return Detection(
            id=str(doc["id"]), title=str(doc["title"]), kind="window", scenario=str(doc["scenario"]),
            severity=str(doc["severity"]).lower(), query=lambda con: _run(con, sql, values),
            attack=tuple(str(t) for t in doc.get("attack") or ()), description=str(doc.get("description", "")),
            summary=str(doc.get("summary", "")), source=str(path), parameters=values,
            tuned=build if defaults else None,
        )
    try:
        return build({})
    except ValueError as exc:
        raise DetectionError(f"{path}: {exc}") from None


def _parameters(doc: object, path: Path) -> dict[str, float]:
    """A rule's `parameters` (name: number), which its SQL reads as $name (bound, never pasted)."""
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not all(isinstance(k, str) and k.isidentifier() and isinstance(v, (int, float))
                                            and not isinstance(v, bool) for k, v in doc.items()):
        raise DetectionError(f"{path}: parameters must map names to numbers")
    return dict(doc)


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: Mapping[str, float]) -> pa.Table:
    return con.sql(sql, params=dict(values) if values else None).to_arrow_table()


def load_rules(folder: Path = RULES_DIR) -> list[Detection]:
    return [load_rule(p) for p in sorted(folder.glob("*.yml"))]


def is_window_rule(doc: object) -> bool:
    return isinstance(doc, dict) and "sql" in doc
