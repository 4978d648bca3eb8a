"""One small estate per seed, shared by the whole module (generation is the slow part)."""

from __future__ import annotations

import pytest

from storewatch.simulate import simulate


@pytest.fixture(scope="session")
def estate_factory(tmp_path_factory):
    cache: dict[tuple, tuple] = {}

    def make(seed: int = 7, days: int = 2, scale: float = 0.05):
        key = (seed, days, scale)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"sim_{seed}_{days}_{str(scale).replace('.', '_')}")
            cache[key] = (out, simulate(out, days=days, scale=scale, seed=seed))
        return cache[key]

    return make


@pytest.fixture(scope="session")
def small(estate_factory):
    return estate_factory()
