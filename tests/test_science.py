"""Slow science checks (``pytest -m slow``): full-length fits on real samples against the bicubic baseline.

Left out of CI (minutes each on 2 CPU cores); docs/results.md holds the measured tables they guard.
"""

from __future__ import annotations

import pytest

from dipcore import metrics
from dipcore.fit import run
from dipcore.samples import load_sample
from dipcore.twin import make_twin

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("case, ratio, noise", [("gulfstream", 8, 0.0), ("kuroshio", 8, 0.05),
                                                 ("gulfstream", 16, 0.0)])
def test_default_recipe_beats_bicubic_in_rmse(case, ratio, noise):
    twin = make_twin(load_sample(case), ratio, noise, seed=0)
    final = run(twin.observation, twin.degradation, members=2, seed=0, truth=twin.truth, every=500)
    assert final.metrics["rmse"] < metrics.rmse(twin.bicubic, twin.truth)

