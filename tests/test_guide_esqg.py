"""The guide's transforms (dipcore.guide.esqg): eSQG inverts the SQG coupling, the sub-cell detail has zero block
means, and eSQG alone is the classical guided baseline."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.degrade import Degradation, pool
from dipcore.guide import detail, esqg, esqg_alone, transform
from dipcore.guide.esqg import plane_removed
from dipcore.synthetic import sqg_pair


@pytest.fixture(scope="module")
def pair():
    """A small SQG pair (128², seed 2) with no coupling noise, no white noise and no gradient: SST is |k|ψ."""
    return sqg_pair(128, seed=2, coupling_noise=0.0, white_noise=0.0, gradient_c=0.0, turnovers=3.0)


def test_esqg_of_sqg_sst_gives_back_the_streamfunction(pair):
    ssh, sst = pair
    mask = np.ones(ssh.shape, bool)
    psi = esqg(sst, mask)
    r_psi = np.corrcoef(psi.ravel(), ssh.ravel())[0, 1]
    assert r_psi > 0.9                                              # the DCT's even extension is not periodic: not 1
    assert abs(float(psi.std()) - 1.0) < 1e-6
    raw = transform(sst, mask, "raw")
    assert np.corrcoef(raw.ravel(), ssh.ravel())[0, 1] < r_psi - 0.1  # SST itself is |k| times sharper
    below = detail(ssh, 8, mask)                                    # below the ×8 cell, eSQG beats raw SST
    r_esqg = np.corrcoef(detail(psi, 8, mask).ravel(), below.ravel())[0, 1]
    r_raw = np.corrcoef(detail(raw, 8, mask).ravel(), below.ravel())[0, 1]
    assert r_esqg > 0.97 and r_esqg > r_raw + 0.02


def test_the_plane_goes_and_land_stays_out(pair):
    ssh, sst = pair
    mask = np.ones(ssh.shape, bool)
    mask[:20, :30] = False
    ramp = sst + 3.0 * np.linspace(-1, 1, 128)[:, None]
    a = plane_removed(ramp, mask)
    b = plane_removed(sst, mask)
    assert np.std(a[mask] - b[mask]) < 0.05 * np.std(b[mask])
    assert np.isnan(esqg(np.where(mask, sst, np.nan), mask)[~mask]).all()


@pytest.mark.parametrize("ratio", [4, 8])
def test_the_sub_cell_detail_has_zero_block_means_over_the_ocean(pair, ratio):
    ssh, sst = pair
    mask = np.ones(ssh.shape, bool)
    mask[40:70, 10:50] = False
    d = detail(np.where(mask, sst, np.nan), ratio, mask)
    means = pool(np.where(mask, d, np.nan).astype(np.float32), ratio)
    coarse = pool(np.where(mask, sst, np.nan), ratio)
    assert np.nanmax(np.abs(means)) < 1e-3 * float(np.nanstd(coarse))  # IBP stops at a relative misfit of 1e-4
    assert (d[~mask] == 0).all() and float(np.std(d[mask])) > 0


def test_esqg_alone_fits_the_coarse_data_but_stays_far_from_ibp(pair):
    ssh, sst = pair
    mask = np.ones(ssh.shape, bool)
    deg = Degradation(8)
    obs = deg.forward(ssh)
    alone = esqg_alone(sst, obs, 8, mask)
    rmse_alone = float(np.sqrt(np.mean((alone - ssh) ** 2)))
    flat = float(np.std(ssh))
    assert rmse_alone < 0.5 * flat                                     # it knows the eddies…
    assert np.isfinite(alone).all() and alone.dtype == np.float32


def test_an_unknown_transform_is_a_programming_error(pair):
    with pytest.raises(ValueError, match="unknown guide transform"):
        transform(pair[1], np.ones(pair[1].shape, bool), "laplacian")
