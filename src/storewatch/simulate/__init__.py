"""Synthetic retail estate generator: real vendor log formats with labelled attacks and benign look-alikes.

Entry point: `simulate(out, days=2, scale=1.0, seed=0, start=None, progress=None) -> summary dict`.
"""

from storewatch.simulate.core import simulate

__all__ = ["simulate"]
