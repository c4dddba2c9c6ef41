"""Slow science checks (``pytest -m slow``): full-length fits against the classical baselines, bicubic and IBP.

Left out of CI (minutes each on 2 CPU cores). docs/results.md §0 holds the measured tables they guard; the bounds
below are those measurements with a margin for seed-to-seed variation, not hopes.
"""

from __future__ import annotations

import pytest

from dipcore import metrics
from dipcore.solver import run
from dipcore.io import Field
from dipcore.samples import load_sample
from dipcore.synthetic import turbulence
from dipcore.twin import make_twin

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


@pytest.mark.parametrize("case, ratio", [("gulfstream", 8), ("agulhas", 16)])
def test_the_uncertainty_is_calibrated_on_two_real_samples(case, ratio):
    # Measured (docs/results.md, the calibration table): the default's calibrated 'uncertainty' at these points has
    # spread/skill 0.9-1.0, about 95 % of the truth within ±2σ and a CRPS below that of a flat σ equal to the true
    # RMSE. The bounds keep it near calibrated; they do not hold on every field (the table says where not).
    twin = make_twin(load_sample(case), ratio, 0.0, seed=0)
    final = run(twin.observation, twin.degradation, members=4, seed=0, truth=twin.truth, dx_km=twin.dx_km,
                every=500)
    cal = metrics.calibration(final.uncertainty, final.estimate, twin.truth)
    assert 0.75 < cal["spread_skill"] < 1.33 and 0.88 < cal["coverage_2sigma"] < 0.99
    assert cal["crps_cm"] < cal["crps_flat_cm"] and cal["corr"] > 0.3
    assert final.expected_rmse == pytest.approx(final.metrics["rmse"], rel=0.33)
