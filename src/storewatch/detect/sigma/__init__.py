"""Sigma rules: the shipped pack and user rules, matched against the normalized events."""

from __future__ import annotations

from pathlib import Path

from storewatch.detect.detection import Detection, DetectionError


def detections() -> list[Detection]:
    return []


def load_rule(path: Path) -> Detection:
    raise DetectionError(f"{path}: Sigma rules are not supported yet")
