"""Slow science checks (``pytest -m slow``): full-length fits against the classical baselines, bicubic and IBP.

Left out of CI (minutes each on 2 CPU cores). docs/results.md §0 holds the measured tables they guard; the bounds
below are those measurements with a margin for seed-to-seed variation, not hopes.
"""

from __future__ import annotations

import numpy as np
import pytest

from dipcore import metrics
from dipcore.solver import run
from dipcore.io import Field
from dipcore.samples import load_sample
from dipcore.synthetic import turbulence
from dipcore.twin import make_twin
from dipcore.uncertainty import subgrid_std, total_std

pytestmark = pytest.mark.slow


def _turbulence() -> Field:
    return Field.from_array(turbulence(256, seed=1)[:128, :128], dx_km=2.0)


@pytest.mark.parametrize("case, ratio", [("gulfstream", 8), ("gulfstream", 16), ("turbulence", 8)])
def test_default_ensemble_against_bicubic_and_ibp(case, ratio):
    # Measured (docs/results.md §0): the default's 4-member mean beats bicubic in both scores and lands within
    # ~1 % of IBP's RMSE, on either side of it. The bound keeps it there: a network that falls back far behind the
    # classical estimate fails, so does one that stops learning anything beyond bicubic.
    fld = _turbulence() if case == "turbulence" else load_sample(case)
    twin = make_twin(fld, ratio, 0.0, seed=0)
    final = run(twin.observation, twin.degradation, members=4, seed=0, truth=twin.truth, every=500)
    bic, ibp = metrics.rmse(twin.bicubic, twin.truth), metrics.rmse(twin.ibp, twin.truth)
    assert final.metrics["rmse"] < bic and final.metrics["ssim"] > metrics.ssim(twin.bicubic, twin.truth)
    assert final.metrics["rmse"] < 1.03 * ibp


def test_paper_recipe_is_near_bicubic_at_x8_and_better_at_x16():
    # The paper's Fig. 3 on a turbulent field: ~1.3x bicubic's RMSE at x8, below it at x16 (measured 0.128 vs
    # 0.099 and 0.285 vs 0.290 in units of the field's std). Redrawing z every step gave 4.6x at x8.
    fld = _turbulence()
    for ratio, bound in ((8, 1.5), (16, 1.02)):
        twin = make_twin(fld, ratio, 0.0, seed=0)
        final = run(twin.observation, twin.degradation, recipe="paper", seed=0, truth=twin.truth, every=1500)
        assert final.metrics["rmse"] < bound * metrics.rmse(twin.bicubic, twin.truth)


def test_total_std_is_calibrated_on_the_gulf_stream():
    twin = make_twin(load_sample("gulfstream"), 8, 0.0, seed=0)
    final = run(twin.observation, twin.degradation, members=2, seed=0, truth=twin.truth, every=500)
    sub = subgrid_std(final.estimate, twin.observation, twin.degradation, twin.mask)
    tot = total_std(final.member_std, sub.std)
    assert 0.7 < metrics.spread_skill(tot, final.estimate, twin.truth) < 1.3
    assert metrics.error_std_correlation(tot, final.estimate, twin.truth) > 0.45
    assert np.nanmean(final.member_std) > 0  # the members differ
