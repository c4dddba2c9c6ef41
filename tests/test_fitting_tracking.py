"""dipcore.fitting.tracking.Settle, the default's stopping rule: the fit stops once its estimate no longer moves."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dipcore.fitting.tracking import Settle
from dipcore.recipes import RECIPES, get_recipe
from dipcore.samples import load_sample
from dipcore.solver import STOP_REASONS, fit, run
from dipcore.twin import make_twin


def _data(shape=(16, 16)):
    """The part of FitData that Settle reads: the 0/1 fine ocean mask."""
    fine = torch.ones(shape)
    fine[:4, :4] = 0  # land does not count in the motion
    return SimpleNamespace(fine=fine)


def _feed(settle: Settle, frames) -> int | None:
    """Feed (K, H, W) frames one step each; the step at which it settled, or None."""
    for step, frame in enumerate(frames, start=1):
        if settle.update(step, frame):
            return step
    return None


def test_a_field_that_keeps_moving_never_settles():
    g = torch.Generator().manual_seed(0)
    frames = [torch.randn(2, 16, 16, generator=g) for _ in range(400)]
    assert _feed(Settle(_data(), 0.01, 100, 0), frames) is None


def test_a_plateau_settles_after_one_window_of_stillness():
    # moves fast for 150 steps, then stays put: the motion over the 100-step window falls under the threshold once
    # the window holds only still snapshots
    g = torch.Generator().manual_seed(1)
    still = torch.randn(2, 16, 16, generator=g)
    frames = [torch.randn(2, 16, 16, generator=g) for _ in range(150)] + [still] * 300
    s = Settle(_data(), 1e-3, 100, 0)
    step = _feed(s, frames)
    assert step is not None and 150 < step <= 260 and s.motion < 1e-3


def test_never_before_the_minimum_number_of_steps():
    frames = [torch.zeros(1, 16, 16)] * 400      # still from the start
    assert _feed(Settle(_data(), 1e-3, 100, 0), frames) == 100
    assert _feed(Settle(_data(), 1e-3, 100, 250), frames) == 250
    assert _feed(Settle(_data(), 0.0, 100, 0), frames) is None  # threshold 0: the rule is off


def test_the_motion_ignores_land_and_is_in_the_fields_units():
    a = torch.zeros(1, 16, 16)
    b = a.clone()
    b[0, :4, :4] = 100.0                          # moves only on land
    s = Settle(_data(), 1e-3, 20, 0)
    assert _feed(s, [a, b] * 20) == 20 and s.motion == 0.0


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_the_default_stops_by_itself_without_the_truth(noise):
    twin = make_twin(load_sample("blacksea"), 4, noise)
    rec = get_recipe("default")
    assert rec.settle > 0 and rec.min_iters > 0 and rec.iters > rec.min_iters
    quick = replace(rec, settle=0.05, min_iters=60)           # settles fast on a tiny field
    final = run(twin.observation, twin.degradation, recipe=quick, members=2, seed=0, device="cpu")
    assert final.stop_reason == "settled" and 60 <= final.step < rec.iters
    assert final.step % Settle.EVERY == 0 and final.motion < 0.05 and not final.metrics   # no truth given
    assert final.stop_reason in STOP_REASONS


def test_a_recipe_without_the_rule_runs_to_its_iterations_and_says_so():
    twin = make_twin(load_sample("blacksea"), 4, 0.0)
    events = list(fit(twin.observation, twin.degradation, "dip1500", members=1, iters=15, every=5, device="cpu"))
    assert [e.stop_reason for e in events] == [None, None, "iterations"]
    assert all(e.motion is None for e in events)
    assert RECIPES["dip1500"].settle == 0


def test_the_last_event_carries_the_calibrated_uncertainty():
    twin = make_twin(load_sample("blacksea"), 4, 0.0)
    final = run(twin.observation, twin.degradation, recipe="dip1500", members=2, iters=5, device="cpu",
                spacing_km=12.0)
    ocean = np.isfinite(final.estimate)
    assert final.uncertainty.shape == final.estimate.shape and final.uncertainty_prior == "mapped"
    assert np.isfinite(final.uncertainty[ocean]).all() and np.isnan(final.uncertainty[~ocean]).all()
    assert final.expected_rmse == pytest.approx(float(np.sqrt(np.mean(final.uncertainty[ocean] ** 2))), rel=1e-5)
    # the members' spread is in it, in quadrature
    assert (final.uncertainty[ocean] >= final.member_std[ocean] - 1e-7).all()
