"""The coherence gate (dipcore.guide.gate): a guide that carries the SSH's detail passes it, one that carries nothing
(white noise, another region's map, a relation that flips across the map) does not, whatever the seed."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.degrade import Degradation
from dipcore.guide import GATE_R2, coherence, transform
from dipcore.guide.gate import octave_pairs
from dipcore.synthetic import sqg_pair


@pytest.fixture(scope="module")
def pair():
    return sqg_pair(128, seed=3, turnovers=3.0)


def _obs(ssh, ratio, noise=0.0):
    return Degradation.relative(ratio, noise, ssh, seed=0).forward(ssh)


@pytest.mark.parametrize("ratio", [4, 8])
def test_sqg_sst_passes_the_gate_with_a_positive_amplitude(pair, ratio):
    ssh, sst = pair
    m = np.ones(ssh.shape, bool)
    c = coherence(_obs(ssh, ratio), transform(sst, m), ratio)
    assert c.accepted and c.r2_cv > 0.4 and c.coefficient > 0 and c.stderr < c.coefficient
    assert "is used" in c.reason and c.cells > 100


@pytest.mark.parametrize("seed", range(6))
def test_white_noise_never_passes(pair, seed):
    ssh, _ = pair
    m = np.ones(ssh.shape, bool)
    noise = np.random.default_rng([seed, 99]).standard_normal(ssh.shape)  # not the turbulence's own stream
    for ratio in (4, 8, 16):
        c = coherence(_obs(ssh, ratio), transform(noise, m), ratio)
        assert not c.accepted and c.r2_cv < GATE_R2 and "not used" in c.reason


def test_another_regions_sst_does_not_pass(pair):
    ssh, sst = pair
    m = np.ones(ssh.shape, bool)
    elsewhere = np.roll(sst, (64, 64), axis=(0, 1))
    for ratio in (4, 8):
        assert not coherence(_obs(ssh, ratio), transform(elsewhere, m), ratio).accepted


def test_a_relation_that_flips_across_the_map_does_not_pass(pair):
    ssh, sst = pair
    m = np.ones(ssh.shape, bool)
    flipped = sst * np.where(np.arange(128) < 64, 1.0, -1.0)[None, :]
    c = coherence(_obs(ssh, 8), transform(flipped, m), 8)
    assert not c.accepted


def test_noise_in_the_observation_lowers_the_skill_but_not_what_the_guide_predicts_below(pair):
    ssh, sst = pair
    m = np.ones(ssh.shape, bool)
    clean = coherence(_obs(ssh, 8), transform(sst, m), 8)
    deg = Degradation.relative(8, 0.05, ssh, seed=0)
    noisy = coherence(deg.forward(ssh), transform(sst, m), 8, sigma=deg.sigma)
    assert noisy.r2_cv < clean.r2_cv and noisy.sub_skill > noisy.r2_cv
    assert noisy.coefficient == pytest.approx(clean.coefficient, rel=0.3)


def test_an_observation_too_small_to_pool_once_more_is_not_measured():
    small = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    c = coherence(small, np.ones((12, 12)), 4)
    assert not c.accepted and "too small" in c.reason and c.cells == 0


def test_the_octave_pairs_leave_land_out():
    rng = np.random.default_rng(1)
    obs = rng.standard_normal((16, 16)).astype(np.float32)
    obs[:8, :8] = np.nan
    do, dg, quad = octave_pairs(obs, obs.copy())
    np.testing.assert_allclose(do, dg)
    assert 0 not in set(quad.tolist()) and np.isfinite(do).all()
