"""Simulated analysts and incident streams, to measure what learning from verdicts is worth.

An analyst gives the true verdict except for a share `flips` of incidents, where they say the opposite
(tired, rushed, a look-alike that fooled them); a negative verdict is `false_positive` or `benign` at
random. The incident stream is the triage model's input shape (learn/triage.py `incidents`) for an estate
whose rule-based risk score ranks loud look-alikes (a new ETL job's bulk reads, a marketing campaign's
promo codes) as high as real attacks: the case a retailer's analyst meets every week.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Sequence

START = datetime(2026, 11, 2, tzinfo=timezone.utc)
# (detection, channel, risk range, true attack?). A detection is never all one thing: NOISE of each
# detection's incidents are the other kind.
KINDS = (("behaviour.bulk_data_read", "database", (70, 90), False),
         ("window.order.promo_abuse", "orders", (60, 85), False),
         ("window.identity.credential_stuffing", "identity", (45, 90), True),
         ("behaviour.exfiltration", "network", (40, 95), True),
         ("sigma.web_scanner_user_agent", "web", (30, 60), False))
NOISE = 0.15


def incident_stream(seed: int, days: int = 8, per_day: int = 14) -> tuple[list[dict], list[int]]:
    """(incidents in time order, truth 1/0 per incident) for a small estate; no verdicts yet."""
    rng = random.Random(seed)
    rows, truth = [], []
    for n in range(days * per_day):
        rule, channel, (lo, hi), real = KINDS[rng.randrange(len(KINDS))]
        real = real if rng.random() > NOISE else not real
        entity = f"10.0.{rng.randrange(4)}.{rng.randrange(30)}"
        rows.append({"incident_id": f"i{n:04d}", "risk_score": rng.randint(lo, hi), "severity": "high",
                     "alert_count": rng.randint(1, 4), "first_seen": START + timedelta(hours=24 * n / per_day),
                     "channels": [channel], "values": [entity], "types": ["ip"], "rules": [rule],
                     "money": 0.0, "intel": False, "verdict": None})
        truth.append(int(real))
    return rows, truth


def verdicts(truth: Sequence[int], seed: int, flips: float = 0.1) -> list[str]:
    """What a simulated analyst says of each incident, given the truth."""
    rng = random.Random(seed)
    said = []
    for real in truth:
        positive = bool(real) if rng.random() >= flips else not real
        said.append("true_positive" if positive else rng.choice(("false_positive", "benign")))
    return said
