"""Scores on ocean cells: known answers for RMSE, nRMSE, SSIM, effective resolution and the spread scores."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore import metrics


@pytest.fixture
def field(rng):
    yy, xx = np.mgrid[0:64, 0:96]
    t = np.sin(xx / 7.0) + 0.5 * np.cos(yy / 5.0)
    t[:10, :10] = np.nan  # land
    return t


def test_rmse_ignores_land_and_is_in_field_units(field):
    est = field + 0.1
    est[20, 20] = np.nan
    assert metrics.rmse(est, field) == pytest.approx(0.1)
    assert metrics.rmse(field, field) == 0.0


def test_nrmse_score_known_values(field):
    assert metrics.nrmse_score(field, field) == pytest.approx(1.0)
    flat = np.full_like(field, np.nanmean(field))
    assert metrics.nrmse_score(flat, field) == pytest.approx(0.0, abs=1e-12)


def test_ssim_perfect_and_degraded(field, rng):
    assert metrics.ssim(field, field) == pytest.approx(1.0)
    noisy = field + rng.normal(0, 0.3, field.shape)
    s = metrics.ssim(noisy, field)
    assert 0 < s < 0.9


def test_ssim_does_not_depend_on_units(field, rng):
    est = field + rng.normal(0, 0.1, field.shape)
    # data_range comes from the truth: metres and centimetres score the same
    assert metrics.ssim(100 * est, 100 * field) == pytest.approx(metrics.ssim(est, field), rel=1e-6)


def test_effective_resolution_of_a_low_pass_estimate():
    x = np.arange(512)
    rng = np.random.default_rng(0)
    # truth: sum of sines at wavelengths 256 .. 4 cells; estimate: keeps only wavelengths ≥ 32 cells
    wls = [256, 128, 64, 32, 16, 8, 4]
    phases = rng.uniform(0, 6, len(wls))
    truth = sum(np.sin(2 * np.pi * x / w + p) for w, p in zip(wls, phases))
    est = sum(np.sin(2 * np.pi * x / w + p) for w, p in zip(wls, phases) if w >= 32)
    t2, e2 = np.tile(truth, (8, 1)), np.tile(est, (8, 1))
    res = metrics.effective_resolution(e2, t2, dx_km=2.0)
    assert 2 * 16 < res < 2 * 32  # between the last kept and the first lost wavelength, in km
    assert metrics.effective_resolution(t2, t2, dx_km=2.0) == pytest.approx(4.0)  # perfect: Nyquist


def test_spread_skill_and_correlation_known_answers(rng):
    truth = np.zeros((50, 50))
    std = rng.uniform(0.1, 1.0, truth.shape)
    est = rng.normal(0, std)  # errors drawn with exactly that std: calibrated
    assert metrics.spread_skill(std, est, truth) == pytest.approx(1.0, abs=0.05)
    assert metrics.error_std_correlation(std, est, truth) > 0.4
    assert metrics.spread_skill(0.5 * std, est, truth) == pytest.approx(0.5, abs=0.03)
    assert np.isnan(metrics.error_std_correlation(np.ones_like(std), est, truth))


def test_crps_of_a_point_ensemble_is_the_mae(rng):
    truth = rng.normal(size=(10, 10))
    one = (truth + 0.3)[None]
    assert metrics.crps_ensemble(one, truth) == pytest.approx(0.3)
    members = np.stack([truth - 1, truth + 1])
    # E|X − y| = 1, ½E|X − X'| = ½·(2·½·2) = 0.5 → CRPS = 0.5
    assert metrics.crps_ensemble(members, truth) == pytest.approx(0.5)


def test_spread_error_bins_are_monotone_for_calibrated_errors(rng):
    truth = np.zeros((100, 100))
    std = rng.uniform(0.1, 2.0, truth.shape)
    est = rng.normal(0, std)
    s, e = metrics.spread_error_bins(std, est, truth, bins=5)
    assert len(s) == len(e) == 5 and np.all(np.diff(s) > 0) and np.all(np.diff(e) > 0)
    np.testing.assert_allclose(e, s, rtol=0.15)


def test_scores_dict(field):
    out = metrics.scores(field, field, dx_km=5.0)
    assert set(out) == {"rmse", "nrmse", "ssim", "eff_res_km"} and out["rmse"] == 0
