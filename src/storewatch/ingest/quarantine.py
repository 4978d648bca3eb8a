"""The quarantine as an analyst reads and tidies it: filtered records, totals by reason and by file, purge.

Records land here from ingest (`storewatch.ingest.engine`); nothing here changes how they land. Reading goes
through a read snapshot's connection; purging is a write (the store's `db.opened`) and is audited with the
filters used and the number of records removed, since removed records cannot be shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from storewatch import audit
from storewatch.store import db
from storewatch.workspace import Workspace


@dataclass(frozen=True)
class Filters:
    reason: str | None = None  # a part of the reason, any case
    file: str | None = None  # a part of the source file's path
    since: datetime | None = None  # quarantined at or after
    before: datetime | None = None  # quarantined before

    def where(self) -> tuple[str, list]:
        """The SQL condition (values bound) of the filters that are set."""
        tests = ((self.reason, "contains(lower(reason), lower(?))"), (self.file, "contains(source_file, ?)"),
                 (self.since, "quarantined_at >= ?"), (self.before, "quarantined_at < ?"))
        used = [(value, sql) for value, sql in tests if value]
        return " AND ".join(["TRUE", *(sql for _, sql in used)]), [value for value, _ in used]

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items() if v is not None}


def records(con: duckdb.DuckDBPyConnection, filters: Filters, limit: int) -> list[dict]:
    """The newest matching records (raw text cut to 200 characters), newest run first."""
    where, params = filters.where()
    rows = con.execute(f"SELECT source_file, source_line, reason, left(raw, 200) AS raw, quarantined_at FROM quarantine "
                       f"WHERE {where} ORDER BY run_id DESC, source_file, source_line LIMIT ?", [*params, limit])
    cols = [d[0] for d in rows.description]
    return [dict(zip(cols, r)) for r in rows.fetchall()]


def totals(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict:
    """How many match, and how many per reason and per file, most first."""
    where, params = filters.where()

    def per(column: str) -> list[dict]:
        rows = con.execute(f"SELECT {column}, count(*) AS n FROM quarantine WHERE {where} GROUP BY 1 "
                           "ORDER BY n DESC, 1", params).fetchall()
        return [{column: value, "count": n} for value, n in rows]

    total = con.execute(f"SELECT count(*) FROM quarantine WHERE {where}", params).fetchone()[0]
    return {"total": total, "by_reason": per("reason"), "by_file": per("source_file")}


def purge(ws: Workspace, filters: Filters, why: str = "quarantine purge") -> int:
    """Delete the matching records; audited with the filters and the count. Returns the count."""
    where, params = filters.where()
    with db.opened(ws) as con:
        gone = con.execute(f"SELECT count(*) FROM quarantine WHERE {where}", params).fetchone()[0]
        if gone:
            con.execute(f"DELETE FROM quarantine WHERE {where}", params)
    audit.append(ws, "quarantine.purge", {**filters.as_dict(), "records": gone}, why, f"deleted {gone}")
    return gone
