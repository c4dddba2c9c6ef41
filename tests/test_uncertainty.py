"""The calibrated sub-grid std: units, land, scaling, and that it tracks the real error of a real field."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore import metrics
from dipcore.degrade import Degradation
from dipcore.errors import SSHDipError
from dipcore.samples import load_sample
from dipcore.twin import make_twin
from dipcore.uncertainty import subgrid_std, total_std, try_subgrid_std


@pytest.fixture(scope="module")
def gulf8():
    tw = make_twin(load_sample("gulfstream"), 8, 0.0)
    est = tw.degradation.backproject(tw.bicubic, tw.observation)
    return tw, est


def test_it_tracks_the_error_of_a_real_field_without_seeing_the_truth(gulf8):
    tw, est = gulf8
    s = subgrid_std(est, tw.observation, tw.degradation, tw.mask)
    assert s.std.shape == est.shape and np.isnan(s.std[~tw.mask]).all() and (s.std[tw.mask] >= 0).all()
    # calibrated on the observation alone, it lands near the actual error (the member spread is ~0.07 of it)
    assert 0.5 < metrics.spread_skill(s.std, est, tw.truth) < 2.0
    assert metrics.error_std_correlation(s.std, est, tw.truth) > 0.3


def test_it_scales_with_the_field_and_vanishes_on_a_flat_one(gulf8):
    tw, est = gulf8
    one = subgrid_std(est, tw.observation, tw.degradation, tw.mask)
    two = subgrid_std(2 * est, 2 * tw.observation, tw.degradation, tw.mask)
    np.testing.assert_allclose(two.std, 2 * one.std, rtol=1e-3, atol=1e-6)
    flat = np.where(tw.mask, 0.3, np.nan).astype(np.float32)
    obs = tw.degradation.forward(flat, noise=False)
    assert np.nanmax(subgrid_std(flat, obs, tw.degradation, tw.mask).std) < 1e-6


def test_noise_is_not_counted_as_sub_grid_error(gulf8):
    tw, est = gulf8
    clean = subgrid_std(est, tw.observation, tw.degradation, tw.mask)
    rng = np.random.default_rng(0)
    sigma = 0.05 * float(np.nanstd(tw.observation))
    noisy = (tw.observation + sigma * rng.standard_normal(tw.observation.shape)).astype(np.float32)
    told = subgrid_std(est, noisy, Degradation(8, sigma=sigma, mask=tw.mask), tw.mask)
    assert told.factor == pytest.approx(clean.factor, rel=0.25)


def test_too_small_an_observation_is_refused_or_skipped():
    obs = np.ones((3, 7), np.float32)
    est = np.ones((24, 56), np.float32)
    with pytest.raises(SSHDipError, match="too small"):
        subgrid_std(est, obs, Degradation(8))
    assert try_subgrid_std(est, obs, Degradation(8)) is None


def test_total_std_adds_in_quadrature():
    np.testing.assert_allclose(total_std(np.full(3, 3.0), np.full(3, 4.0)), 5.0)
    np.testing.assert_array_equal(total_std(None, np.full(3, 4.0)), 4.0)
