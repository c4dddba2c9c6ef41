"""dipcore.uncertainty.predictive: the calibrated per-pixel uncertainty, on fields whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore import metrics
from dipcore.degrade import Degradation
from dipcore.errors import SSHDipError
from dipcore.io import Field
from dipcore.uncertainty.predictive import MAPPED_SPACING_KM, choose_prior, predictive_std, priors, self_error
from dipcore.synthetic import gaussian_field
from dipcore.twin import make_twin


def _twin(values: np.ndarray, ratio: int, noise: float = 0.0, dx_km: float = 2.0):
    return make_twin(Field.from_array(values, dx_km=dx_km), ratio, noise, seed=0)


def _scored(twin, **kw):
    u = predictive_std(twin.ibp, twin.observation, twin.degradation, mask=twin.mask, **kw)
    return u, metrics.calibration(u.std, twin.ibp, twin.truth)


@pytest.mark.parametrize("ratio", [4, 8])
def test_calibrated_on_fields_of_a_known_steep_spectrum(ratio):
    # A k^-5 Gaussian field (the QG-like spectrum of the 'dynamic' design set's families): over three seeds the
    # expected RMSE is within 25 % of the true one and about 95 % of the truth lies within ±2σ
    ss, cov = [], []
    for seed in (1, 2, 3):
        u, s = _scored(_twin(gaussian_field((128, 128), 5.0, seed), ratio), spacing_km=2.0)
        assert u.prior == "dynamic"
        ss.append(s["spread_skill"])
        cov.append(s["coverage_2sigma"])
    assert 0.8 <= np.mean(ss) <= 1.25, ss
    assert 0.90 <= np.mean(cov) <= 0.99, cov


def test_a_rougher_field_gets_a_larger_uncertainty():
    # same amplitude, shallower spectrum: more energy below the coarse cell, a larger error and a larger σ
    smooth, _ = _scored(_twin(gaussian_field((128, 128), 5.0, 4), 8))
    rough, _ = _scored(_twin(gaussian_field((128, 128), 3.0, 4), 8))
    assert rough.expected_rmse > 2 * smooth.expected_rmse


def test_noise_raises_the_uncertainty_and_is_not_counted_as_structure():
    f = gaussian_field((128, 128), 5.0, 5)
    clean, _ = _scored(_twin(f, 8, 0.0))
    noisy, s = _scored(_twin(f, 8, 0.1))
    assert noisy.expected_rmse > clean.expected_rmse
    assert noisy.self_error < 5 * clean.self_error   # σ² is taken out of the degrade-again miss
    assert 0.5 < s["spread_skill"] < 2.0


def test_the_prior_follows_the_grid_spacing():
    assert choose_prior(27.0) == "mapped" and choose_prior(MAPPED_SPACING_KM) == "mapped"
    assert choose_prior(1.5) == "dynamic" and choose_prior(None) == "dynamic"
    assert choose_prior(27.0, "dynamic") == "dynamic"
    with pytest.raises(SSHDipError, match="prior"):
        choose_prior(None, "gaussian")
    p = priors()
    assert set(p) == {"mapped", "dynamic"} and all(0 < p[k].at(8)[0] < 5 for k in p)


def test_members_add_in_quadrature_and_land_stays_nan():
    twin = _twin(gaussian_field((64, 64), 4.0, 6), 4)
    base = predictive_std(twin.ibp, twin.observation, twin.degradation, mask=twin.mask)
    spread = np.full(twin.truth.shape, 0.05, dtype=np.float32)
    both = predictive_std(twin.ibp, twin.observation, twin.degradation, mask=twin.mask, member_std=spread)
    np.testing.assert_allclose(both.std ** 2, base.std ** 2 + 0.05 ** 2, rtol=1e-5)
    mask = twin.mask.copy()
    mask[:8, :8] = False
    land = predictive_std(twin.ibp, twin.observation, twin.degradation, mask=mask)
    assert np.isnan(land.std[:8, :8]).all() and np.isfinite(land.std[mask]).all()


def test_an_observation_too_small_to_pool_again_falls_back_to_its_variance():
    obs = np.array([[0.0, 0.1, 0.2], [0.1, 0.3, 0.2], [0.0, 0.2, 0.4]], dtype=np.float32)
    with pytest.raises(SSHDipError, match="too small"):
        self_error(obs)
    deg = Degradation(8)
    est = deg.bicubic(obs)
    u = predictive_std(est, obs, deg)
    assert "variance" in u.basis and u.expected_rmse > 0 and np.isfinite(u.std).all()


def test_calibration_scores_a_flat_oracle_as_itself():
    rng = np.random.default_rng(0)
    truth = rng.standard_normal((50, 50))
    est = truth + 0.3 * rng.standard_normal((50, 50))
    rms = metrics.rmse(est, truth)
    s = metrics.calibration(np.full_like(truth, rms), est, truth)
    assert s["spread_skill"] == pytest.approx(1.0) and s["crps_cm"] == pytest.approx(s["crps_flat_cm"])
    assert 0.6 < s["coverage_1sigma"] < 0.76 and 0.93 < s["coverage_2sigma"] < 0.97
    assert metrics.calibration(np.full_like(truth, 3 * rms), est, truth)["crps_cm"] > s["crps_flat_cm"]


def test_the_pattern_has_rms_one_over_the_ocean_and_follows_fronts():
    from dipcore.uncertainty import pattern

    y, x = np.mgrid[0:64, 0:64]
    front = np.tanh((x - 32) / 2.0).astype(np.float32)      # one sharp front down the middle
    mask = np.ones((64, 64), dtype=bool)
    mask[:, :4] = False
    p = pattern(front, None, 4, mask, ("gradient",))
    assert np.sqrt(np.mean(p[mask] ** 2)) == pytest.approx(1.0, rel=1e-6) and np.isnan(p[~mask]).all()
    assert p[32, 32] > 2 * p[32, 60]                          # larger on the front than far from it
    flat = pattern(front, None, 4, mask, ())
    np.testing.assert_allclose(flat[mask], 1.0)
