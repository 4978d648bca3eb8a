"""Sigma rules: the shipped pack (rules/*.yml) and user rules, matched against the normalized events."""

from __future__ import annotations

from pathlib import Path

from storewatch.detect.detection import Detection
from storewatch.detect.sigma.loader import load_rule, load_rules, read_documents

RULES_DIR = Path(__file__).parent / "rules"

__all__ = ["RULES_DIR", "detections", "load_rule", "load_rules", "read_documents"]


def detections(folder: Path = RULES_DIR) -> list[Detection]:
    return [load_rule(p) for p in sorted(folder.glob("*.yml"))]
