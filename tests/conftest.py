"""Shared fixtures: small real fields from the embedded samples, CPU device."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.samples import load_sample


@pytest.fixture(scope="session")
def blacksea():
    """The smallest embedded real field (56×120, 56 % land)."""
    return load_sample("blacksea")


@pytest.fixture(scope="session")
def gulf_small():
    """A 64×64 real crop of the Gulf Stream sample with some land in it."""
    return load_sample("gulfstream", index_crop=(32, 96, 0, 64))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
