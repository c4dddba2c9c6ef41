"""Slow science checks (``pytest -m slow``): full-length fits on real samples against the bicubic baseline.

Left out of CI (minutes each on 2 CPU cores); docs/results.md holds the measured tables they guard (§3, §4, §6).
"""

from __future__ import annotations

import pytest

from dipcore import metrics
from dipcore.fit import run
from dipcore.samples import load_sample
from dipcore.twin import make_twin
from dipcore.uncertainty import subgrid_std, total_std

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("case, time, ratio, noise", [("gulfstream", 0, 8, 0.0), ("gulfstream", 0, 16, 0.0),
                                                       ("mediterranean", 3, 8, 0.05), ("agulhas", 0, 16, 0.0)])
def test_default_recipe_beats_bicubic_in_rmse_and_ssim(case, time, ratio, noise):
    twin = make_twin(load_sample(case, time=time), ratio, noise, seed=0)
    final = run(twin.observation, twin.degradation, seed=0, truth=twin.truth, every=500)
    assert final.metrics["rmse"] < metrics.rmse(twin.bicubic, twin.truth)
    assert final.metrics["ssim"] > metrics.ssim(twin.bicubic, twin.truth)


def test_total_std_is_calibrated_on_the_gulf_stream():
    twin = make_twin(load_sample("gulfstream"), 8, 0.0, seed=0)
    final = run(twin.observation, twin.degradation, members=2, seed=0, truth=twin.truth, every=500)
    sub = subgrid_std(final.estimate, twin.observation, twin.degradation, twin.mask)
    tot = total_std(final.member_std, sub.std)
    assert 0.7 < metrics.spread_skill(tot, final.estimate, twin.truth) < 1.3
    assert metrics.error_std_correlation(tot, final.estimate, twin.truth) > 0.45
