"""Behaviour detections: baselines learned from the estate itself, peer rarity, periodicity (beaconing)."""

from __future__ import annotations

from storewatch.detect.behaviour import bulk_read, exfiltration, port_scan, pos_malware
from storewatch.detect.detection import Detection


def detections() -> list[Detection]:
    return [exfiltration.DETECTION, port_scan.DETECTION, bulk_read.DETECTION,
            pos_malware.DETECTION]
