"""Name and street pools, drawn from Faker once per run and then sampled with NumPy.

Faker costs tens of microseconds a call, which at 2.5 million bookings would be most of the ten-minute budget.
A pool drawn from Faker keeps Faker's own frequency weighting (common names recur in the pool), and sampling
it with NumPy costs nanoseconds. Pools are seeded with the run's seed, so a county is reproducible for a given
Faker version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from faker import Faker

__all__ = ["NamePools", "name_pools_build"]

_POOL_SIZE = 2000


@dataclass(frozen=True)
class NamePools:
    """Arrays of strings to sample from; every value is safe inside PostgreSQL COPY text."""

    first_male: np.ndarray
    first_female: np.ndarray
    last: np.ndarray
    first_male_hispanic: np.ndarray
    first_female_hispanic: np.ndarray
    last_hispanic: np.ndarray
    streets: np.ndarray


def _clean(value: str) -> str:
    # COPY text format treats backslash, tab and newline specially; no name needs them.
    return value.replace("\\", "").replace("\t", " ").replace("\n", " ").strip()


def _pool(draw: Callable[[], str], size: int) -> np.ndarray:
    pool = np.array([_clean(draw()) for _ in range(size)], dtype=object)
    pool.setflags(write=False)  # shared through the cache
    return pool


@lru_cache(maxsize=4)
def name_pools_build(*, seed: int) -> NamePools:
    """Draw the pools for one seed; about a second, paid once per process whatever the number of bookings.

    Cached: the pools are a pure function of the seed and are never modified after they are built.
    """
    english = Faker("en_US")
    english.seed_instance(seed)
    spanish = Faker("es_MX")
    spanish.seed_instance(seed + 1)
    return NamePools(
        first_male=_pool(english.first_name_male, _POOL_SIZE),
        first_female=_pool(english.first_name_female, _POOL_SIZE),
        last=_pool(english.last_name, _POOL_SIZE * 2),
        first_male_hispanic=_pool(spanish.first_name_male, _POOL_SIZE // 2),
        first_female_hispanic=_pool(spanish.first_name_female, _POOL_SIZE // 2),
        last_hispanic=_pool(spanish.last_name, _POOL_SIZE // 2),
        streets=_pool(english.street_address, _POOL_SIZE * 2),
    )
