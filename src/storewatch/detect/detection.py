"""What a detection is and what it must return, whatever kind it is (Sigma, windowed SQL, behaviour, intel).

Every detection is a function from the store (a DuckDB connection) to an Arrow table of candidate alerts
with the columns in ALERT_COLUMNS. The engine adds ids, metadata and persistence, so detections stay pure
queries that can be run and tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable, Mapping, Optional

import duckdb
import pyarrow as pa

SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("sigma", "window", "behaviour", "intel")

# The columns a detection returns. `key` identifies the alert within its detection (an IP and a day, a
# host, an employee...) so re-running detection updates the alert instead of adding a second one.
ALERT_COLUMNS: dict[str, str] = {
    "key": "VARCHAR",
    "first_seen": "TIMESTAMPTZ",
    "last_seen": "TIMESTAMPTZ",
    "event_count": "BIGINT",
    "entities": "STRUCT(type VARCHAR, value VARCHAR)[]",
    "evidence": "JSON",
    "event_ids": "VARCHAR[]",
}
# Optional columns a detection may add; missing ones are filled from the detection's metadata.
OPTIONAL_COLUMNS: dict[str, str] = {
    "store_id": "VARCHAR",
    "channel": "VARCHAR",
    "severity": "VARCHAR",
    "confidence": "DOUBLE",
}
ENTITY_TYPES = ("ip", "user", "email", "card", "host", "store", "employee", "device", "domain", "url", "hash")


@dataclass(frozen=True)
class Batch:
    """A detection's part in a run shared with others: the engine hands the members of all detections with
    an equal `key` to `run` at once (the Sigma rules of one product read its events once), which returns, in
    order, each member's table or the error that member failed with."""

    key: Hashable
    member: object
    run: Callable[[duckdb.DuckDBPyConnection, list], list[pa.Table | Exception]]


@dataclass(frozen=True)
class Detection:
    """One detection and the metadata every alert it raises carries."""

    id: str
    title: str
    kind: str
    scenario: str
    severity: str
    query: Callable[[duckdb.DuckDBPyConnection], pa.Table] = field(repr=False, compare=False)
    attack: tuple[str, ...] = ()
    description: str = ""
    summary: str = ""  # a str.format template over the alert's evidence, for people
    source: str = ""  # file the detection was defined in
    batch: Optional[Batch] = field(default=None, repr=False, compare=False)  # None: it always runs alone
    # Thresholds an analyst may override (name -> value), and how to build the detection with other values.
    parameters: Mapping[str, float] = field(default_factory=dict, compare=False)
    tuned: Optional[Callable[[Mapping[str, float]], "Detection"]] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


class DetectionError(ValueError):
    """A detection definition that cannot be loaded; the message names the file and the problem."""


def check_output(detection: Detection, table: pa.Table) -> None:
    """Fail loudly when a detection returns the wrong shape, naming the detection and the columns."""
    missing = [c for c in ALERT_COLUMNS if c not in table.column_names]
    if missing:
        raise DetectionError(f"{detection.id} ({detection.source}) returned no column(s) {', '.join(missing)}")
