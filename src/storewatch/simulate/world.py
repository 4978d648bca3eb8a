"""The shared state of one run: the estate, the open output streams, and the ground-truth ledgers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storewatch.simulate import clock, ids
from storewatch.simulate.estate import Estate
from storewatch.simulate.writers import Sink

SEVERITY = {
    "pos_malware": "critical", "exfiltration": "critical", "account_takeover": "critical",
    "after_hours_intrusion": "critical", "card_testing": "high", "credential_stuffing": "high",
    "bulk_data_read": "high", "refund_fraud": "high", "admin_bruteforce": "high", "ssh_bruteforce": "high",
}


@dataclass
class World:
    est: Estate
    out: Path
    sinks: dict[str, Sink] = field(default_factory=dict)
    pos_extra: dict[tuple[str, int], list] = field(default_factory=dict)  # (store id, day) -> PosTx
    labels: list[dict] = field(default_factory=list)
    benign: list[dict] = field(default_factory=list)
    pans: list[str] = field(default_factory=list)
    iocs: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, name) for the intel feed
    malware_family: str = "PoSGrabber"
    promo_codes: list[str] = field(default_factory=list)  # public codes genuine shoppers also use
    endpoints: Any = None

    @property
    def rng(self):
        return self.est.rng

    def day_of(self, ts: float) -> int:
        return int((ts - self.est.start) // 86400)

    def label(self, scenario: str, start: float, end: float, entities: list[tuple[str, str]],
              description: str, benign: bool = False) -> None:
        """Record ground truth; entities are (type, value) pairs, deduplicated in order."""
        seen = list(dict.fromkeys((t, str(v)) for t, v in entities))
        ledger = self.benign if benign else self.labels
        ledger.append({
            "id": ("bn-" if benign else "atk-") + ids.hex_id(self.rng, 10),
            "scenario": scenario,
            "start": clock.iso_s(start),
            "end": clock.iso_s(max(end, start + 1)),
            "entities": [{"type": t, "value": v} for t, v in seen],
            "severity": "benign" if benign else SEVERITY.get(scenario, "medium"),
            "description": description,
        })

    def pan(self) -> str:
        """A fresh Luhn-valid card number that is deliberately leaked into a raw log."""
        p = ids.make_pan(self.rng)
        self.pans.append(p)
        return p
