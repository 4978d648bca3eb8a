"""The shipped detections cover the retail threat catalogue and name real ATT&CK techniques."""

from __future__ import annotations

from storewatch.correlate.attack import technique
from storewatch.detect.registry import builtin_detections

CATALOGUE = {
    "credential_stuffing", "admin_bruteforce", "ssh_bruteforce", "account_takeover", "card_testing",
    "giftcard_enumeration", "scraping_bot", "web_attack_scan", "pos_malware", "exfiltration", "internal_port_scan",
    "bulk_data_read", "refund_fraud", "after_hours_intrusion", "brand_impersonation", "leaked_discount_code",
    "promo_abuse", "chargeback_fraud",
}


def test_every_scenario_has_a_detection() -> None:
    covered = {d.scenario for d in builtin_detections()}
    assert CATALOGUE - covered == set()


def test_attack_ids_are_real_techniques() -> None:
    for det in builtin_detections():
        assert det.attack, f"{det.id} names no ATT&CK technique"
        for tid in det.attack:
            assert technique(tid) is not None, f"{det.id}: {tid} is not an ATT&CK technique"
