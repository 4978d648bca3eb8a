"""Behaviour detections: baselines learned from the estate itself, ML outliers, beaconing."""

from __future__ import annotations

from storewatch.detect.detection import Detection


def detections() -> list[Detection]:
    return []
