"""The degradation operator: pooling, the ladder, noise, cropping rules and the bicubic back-projection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dipcore.degrade import RATIOS, Degradation, Projector, bicubic_up, cubic_matrix, fill_nearest, ladder, pool
from dipcore.errors import SSHDipError


def test_pool_known_array():
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(pool(x, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(pool(x, 4), [[7.5]])
    np.testing.assert_array_equal(pool(x, 1), x)


def test_pool_is_nan_aware():
    x = np.array([[1, np.nan, 5, 7], [3, np.nan, np.nan, np.nan]], dtype=np.float32)
    x = np.vstack([x, np.full((2, 4), np.nan, np.float32)])
    out = pool(x, 2)
    assert out[0, 0] == pytest.approx(2.0)          # mean of the three ocean children, not of four
    assert out[0, 1] == pytest.approx(6.0)
    assert np.isnan(out[1]).all()                   # all-land blocks stay land


def test_pool_refuses_non_multiple():
    with pytest.raises(SSHDipError, match="multiples of 4"):
        pool(np.zeros((6, 8), np.float32), 4)


def test_ladder_is_recursive_two_by_two_pooling(rng):
    x = rng.standard_normal((64, 96)).astype(np.float32)
    lad = ladder(x)
    assert sorted(lad) == list(RATIOS)
    assert lad[1].shape == (64, 96) and lad[32].shape == (2, 3)
    for r in RATIOS[1:]:  # the paper's R03 → R06 → … → R96: each level is the 2×2 pooling of the one before
        np.testing.assert_allclose(pool(lad[r // 2], 2), lad[r], rtol=1e-5, atol=1e-6)


def test_ladder_skips_levels_the_grid_is_too_small_for(blacksea):
    assert sorted(ladder(blacksea.values)) == [1, 2, 4, 8, 16, 32]  # 56×120 → 1×3 at ×32
    assert sorted(ladder(np.zeros((20, 20), np.float32))) == [1, 2, 4, 8, 16]


@pytest.mark.parametrize("ratio", [0, 3, 64])
def test_bad_ratio_is_refused(ratio):
    with pytest.raises(SSHDipError, match="ratio must be one of"):
        Degradation(ratio)


def test_grid_too_small_for_ratio_is_refused():
    with pytest.raises(SSHDipError, match="too small for ×32"):
        Degradation(32).forward(np.zeros((40, 200), np.float32))


def test_non_multiple_grid_is_cropped_at_far_edges(rng):
    x = rng.standard_normal((37, 50)).astype(np.float32)
    deg = Degradation(8)
    assert deg.crop_shape(x.shape) == (32, 48)
    np.testing.assert_allclose(deg.forward(x), pool(x[:32, :48], 8), rtol=1e-6)


def test_noise_has_the_requested_sigma_and_is_seeded(rng):
    x = np.zeros((512, 512), np.float32)
    deg = Degradation(2, sigma=0.3, seed=5)
    y = deg.forward(x)
    assert y.std() == pytest.approx(0.3, rel=0.02) and abs(y.mean()) < 0.01
    np.testing.assert_array_equal(y, Degradation(2, sigma=0.3, seed=5).forward(x))
    assert not np.array_equal(y, Degradation(2, sigma=0.3, seed=6).forward(x))
    np.testing.assert_array_equal(deg.forward(x, noise=False), 0.0)


def test_relative_noise_is_a_fraction_of_the_ocean_std(blacksea):
    deg = Degradation.relative(4, 0.05, blacksea.values)
    assert deg.sigma == pytest.approx(0.05 * np.nanstd(blacksea.values))
    with pytest.raises(SSHDipError):
        Degradation(2, sigma=-1.0)


def test_noise_stays_off_land(blacksea):
    deg = Degradation.relative(2, 0.5, blacksea.values, seed=1)
    y = deg.forward(blacksea.values)
    assert np.array_equal(np.isnan(y), np.isnan(pool(deg.crop(blacksea.values), 2)))


def test_all_land_observation_is_refused():
    with pytest.raises(SSHDipError, match="all land"):
        Degradation(2).forward(np.full((16, 16), np.nan, np.float32))


def test_bicubic_is_exact_at_ratio_one(gulf_small):
    x = gulf_small.values
    deg = Degradation(1, mask=gulf_small.mask)
    np.testing.assert_array_equal(deg.bicubic(deg.forward(x)), x)


def test_bicubic_matches_pytorch_bicubic(rng):
    x = rng.standard_normal((6, 9)).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(x)[None, None], scale_factor=8, mode="bicubic", align_corners=False)
    np.testing.assert_allclose(bicubic_up(x, 8), ref[0, 0].numpy(), rtol=1e-5, atol=1e-5)


def test_bicubic_keeps_a_constant_field():
    np.testing.assert_allclose(Degradation(16).bicubic(np.full((3, 4), 0.7, np.float32)), 0.7, rtol=1e-6)


def test_cubic_matrix_rows_sum_to_one():
    for n, r in [(5, 2), (8, 16), (3, 32)]:
        np.testing.assert_allclose(cubic_matrix(n, r).sum(axis=1), 1.0, atol=1e-12)


def test_bicubic_keeps_land_and_fills_near_coast(blacksea):
    deg = Degradation(4, mask=blacksea.mask)
    up = deg.bicubic(deg.forward(blacksea.values))
    m = deg.crop(blacksea.mask)
    assert np.isfinite(up[m]).all() and np.isnan(up[~m]).all()


def test_forward_torch_matches_numpy_pooling(blacksea):
    deg = Degradation(4, mask=blacksea.mask)
    x = deg.crop(blacksea.values)
    m = np.isfinite(x)
    t = deg.forward_torch(torch.from_numpy(np.where(m, x, 0.0)), torch.from_numpy(m.astype(np.float32))).numpy()
    ref = pool(x, 4)
    ok = np.isfinite(ref)
    np.testing.assert_allclose(t[ok], ref[ok], rtol=1e-5, atol=1e-6)


def test_fill_nearest():
    x = np.array([[1.0, np.nan, np.nan, 4.0]], np.float32)
    np.testing.assert_array_equal(fill_nearest(x), [[1.0, 1.0, 4.0, 4.0]])
    with pytest.raises(SSHDipError):
        fill_nearest(np.full((2, 2), np.nan))


def _misfit(deg: Degradation, x: np.ndarray, obs: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean((pool(x, deg.ratio) - obs) ** 2)))


def test_backprojection_makes_bicubic_consistent_and_closer(blacksea):
    # Real field with a coast: the bicubic field does not pool back to the data; the back-projected one does,
    # is closer to the truth (what IBP is known for on smooth fields), and land stays land.
    truth = blacksea.values[:48, :112]
    deg = Degradation(8, mask=np.isfinite(truth))
    obs = deg.forward(truth)
    bic = deg.bicubic(obs)
    ibp = deg.backproject(bic, obs)
    spread = np.nanstd(obs)
    assert _misfit(deg, bic, obs) > 1e-2 * spread
    assert _misfit(deg, ibp, obs) < 1e-3 * spread
    rmse = lambda x: np.sqrt(np.nanmean((x - truth) ** 2))  # noqa: E731
    assert rmse(ibp) < 0.95 * rmse(bic)
    np.testing.assert_array_equal(np.isnan(ibp), np.isnan(bic))


def test_backprojection_keeps_a_consistent_field_and_batches(gulf_small, rng):
    truth = gulf_small.values
    deg = Degradation(4, mask=gulf_small.mask)
    obs = deg.forward(truth)
    np.testing.assert_allclose(deg.backproject(truth, obs), truth, atol=1e-6, equal_nan=True)  # nothing to do
    members = np.stack([deg.bicubic(obs), deg.bicubic(obs) + 0.01 * rng.standard_normal(truth.shape)])
    both = deg.backproject(members, obs)
    assert both.shape == members.shape
    np.testing.assert_allclose(both[0], deg.backproject(members[0], obs), atol=1e-6, equal_nan=True)
    # what the data cannot see (structure inside a coarse cell) is kept: the members still differ
    assert np.nanstd(both[1] - both[0]) > 0.5 * 0.01


def test_backprojection_stops_at_the_noise_level(gulf_small):
    truth = gulf_small.values
    deg = Degradation(4, sigma=0.02, mask=gulf_small.mask, seed=3)
    obs = deg.forward(truth)
    bic = deg.bicubic(obs)
    x = deg.backproject(bic, obs)
    full = deg.backproject(bic, obs, tau=0.0)
    assert _misfit(deg, bic, obs) > 0.02            # the bicubic field is further than the noise from the data,
    assert _misfit(deg, x, obs) <= 0.02             # the rounds stop once within σ (Morozov) ...
    assert _misfit(deg, full, obs) < 0.2 * _misfit(deg, x, obs)  # ... well before fitting the noise too


def test_projector_refuses_an_all_land_observation(gulf_small):
    with pytest.raises(SSHDipError, match="all land"):
        Projector(Degradation(4), np.full((16, 16), np.nan, np.float32), np.ones((64, 64), bool))


def test_degradation_is_immutable():
    """The physics object cannot change after construction: its fields are frozen and its mask read-only."""
    import dataclasses

    mask = np.ones((16, 16), bool)
    deg = Degradation(2, sigma=0.1, mask=mask)
    with pytest.raises(dataclasses.FrozenInstanceError):
        deg.mask = np.zeros((16, 16), bool)
    with pytest.raises(ValueError):
        deg.mask[0, 0] = False
    mask[0, 0] = False  # the caller's array is not the operator's
    assert deg.mask.all()
