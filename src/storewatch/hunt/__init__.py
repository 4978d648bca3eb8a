"""Hunting: a Lucene/KQL-like query language over the events (parse → compile to parameterized SQL → run),
saved searches, and their promotion to windowed detections. See docs/search.md."""
