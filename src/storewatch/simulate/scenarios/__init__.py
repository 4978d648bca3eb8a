"""Injected ground truth: attacks (labels.jsonl) and benign look-alikes (benign.jsonl).

Each scenario is a function `(world) -> None` that renders its records through the same source
renderers the background uses and records one or more labels. Scenarios run before background
generation; the sinks interleave their records by time.
"""

from __future__ import annotations

from typing import Callable

from storewatch.simulate.scenarios import benign, brand, identity_attacks, infra_attacks, payment_attacks, store_attacks, web_attacks
from storewatch.simulate.world import World

ATTACKS: dict[str, Callable[[World], None]] = {
    "credential_stuffing": identity_attacks.credential_stuffing,
    "account_takeover": identity_attacks.account_takeover,
    "promo_abuse": identity_attacks.promo_abuse,
    "admin_bruteforce": web_attacks.admin_bruteforce,
    "giftcard_enumeration": web_attacks.giftcard_enumeration,
    "scraping_bot": web_attacks.scraping_bot,
    "web_attack_scan": web_attacks.web_attack_scan,
    "card_testing": payment_attacks.card_testing,
    "chargeback_fraud": payment_attacks.chargeback_fraud,
    "leaked_discount_code": payment_attacks.leaked_discount_code,
    "ssh_bruteforce": infra_attacks.ssh_bruteforce,
    "pos_malware": infra_attacks.pos_malware,
    "exfiltration": infra_attacks.exfiltration,
    "internal_port_scan": infra_attacks.internal_port_scan,
    "bulk_data_read": infra_attacks.bulk_data_read,
    "refund_fraud": store_attacks.refund_fraud,
    "after_hours_intrusion": store_attacks.after_hours_intrusion,
    "brand_impersonation": brand.brand_impersonation,
}

BENIGN: dict[str, Callable[[World], None]] = {
    "verified_crawler": benign.verified_crawler,
    "uptime_monitor": benign.uptime_monitor,
    "office_nat": benign.office_nat,
    "nightly_backup": benign.nightly_backup,
    "etl_job": benign.etl_job,
    "normal_returns": benign.normal_returns,
    "camera_reboot": benign.camera_reboot,
    "password_typo": benign.password_typo,
    "staff_ssh": benign.staff_ssh,
}


# Benign look-alikes that only an analyst's exception can silence; off unless asked for (`simulate --noise`),
# so the shipped figures keep measuring the detections alone.
NOISE: dict[str, Callable[[World], None]] = {
    "campaign_export": benign.campaign_export,
}


def inject_all(world: World, progress: Callable[[float], None] | None = None, noise: tuple[str, ...] = ()) -> None:
    """Run every benign look-alike (and the noise asked for), then every attack, then the privacy hazards."""
    from storewatch.simulate.scenarios import hazards

    steps = list(BENIGN.values()) + [NOISE[n] for n in noise] + list(ATTACKS.values()) + [hazards.leak_pans]
    for i, fn in enumerate(steps):
        fn(world)
        if progress:
            progress((i + 1) / len(steps))
