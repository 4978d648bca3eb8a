"""Windowed aggregation detections: per-entity counts, ratios and sequences, written as SQL in YAML files."""
