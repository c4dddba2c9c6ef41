"""The embedded real samples: every registered one loads, carries its credit, and is small."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES, get_sample, load_sample


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_loads_as_real_ssh(name):
    s = get_sample(name)
    assert s.path.exists() and s.path.stat().st_size < 1_000_000 and s.credit
    f = load_sample(name)
    v = f.values[f.mask]
    assert f.values.dtype == np.float32 and v.size > 1000
    assert -3 < v.min() < v.max() < 3 and v.std() > 0.005  # metres, and not flat
    assert 0 <= f.land_fraction < 0.7


def test_altimetry_samples_carry_the_copernicus_credit():
    for name in ("gulfstream", "mediterranean", "blacksea"):
        assert get_sample(name).credit == "Generated using E.U. Copernicus Marine Service Information"


def test_unknown_sample_lists_the_choices():
    with pytest.raises(SSHDipError, match="unknown sample 'atlantis'.*gulfstream"):
        get_sample("atlantis")


def test_sample_time_step():
    a, b = load_sample("mediterranean", time=0), load_sample("mediterranean", time=6)
    assert not np.allclose(a.values[a.mask & b.mask], b.values[a.mask & b.mask])
