"""What the store holds, for people: counts by channel, format and class, time range, quarantine."""

from __future__ import annotations

import duckdb


def store_summary(con: duckdb.DuckDBPyConnection) -> dict:
    by_source = con.execute("""
        SELECT channel, source_format, class_name, count(*) AS events, min(time) AS first, max(time) AS last
        FROM events GROUP BY ALL ORDER BY channel, source_format, class_name""").fetchall()
    entities = con.execute("SELECT entity_type, count(DISTINCT value) FROM event_entities GROUP BY 1 ORDER BY 1").fetchall()
    quarantine = con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC LIMIT 10").fetchall()
    intel = con.execute("SELECT ioc_type, count(*) FROM intel GROUP BY 1 ORDER BY 1").fetchall()
    return {
        "by_source": [dict(zip(("channel", "source_format", "class_name", "events", "first", "last"), r)) for r in by_source],
        "entities": dict(entities),
        "quarantine_reasons": dict(quarantine),
        "intel": dict(intel),
    }
