"""Population stability index: quiet on the same distribution, loud on a shifted one."""

from __future__ import annotations

import numpy as np

from storewatch.learn import drift


def test_psi_is_small_for_the_same_distribution_and_large_for_a_shifted_one() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(0, 1, 5000)
    same = rng.normal(0, 1, 2000)
    shifted = rng.normal(1, 1, 2000)
    assert drift.psi(base, same) < drift.MODERATE
    assert drift.level(drift.psi(base, same)) == "stable"
    assert drift.psi(base, shifted) >= drift.DRIFTED
    assert drift.level(drift.psi(base, shifted)) == "drifted"
    # a half-sigma shift is between the two readings
    assert drift.MODERATE <= drift.psi(base, rng.normal(0.4, 1, 2000)) < drift.DRIFTED


def test_alert_rate_bins_tell_a_burst_from_the_usual_rate() -> None:
    edges = np.array(drift.RATE_EDGES)
    usual = np.array([1, 2, 1, 0, 2, 1, 1, 2])
    assert drift.psi(usual, np.array([1, 2, 1, 1, 0, 2, 2]), edges) < drift.MODERATE
    assert drift.psi(usual, np.array([9, 12, 20, 9, 15, 11, 30]), edges) >= drift.DRIFTED


def test_a_constant_feature_does_not_divide_by_zero() -> None:
    assert drift.psi(np.zeros(50), np.zeros(20)) == 0.0
    assert drift.psi(np.zeros(50), np.ones(20)) >= drift.DRIFTED
    assert drift.level(None) == "insufficient data"
