"""The fit loop: events, loss going down, batched members equal independent fits, stopping, devices."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
import torch

from dipcore import metrics
from dipcore.degrade import Degradation
from dipcore.errors import SSHDipError
from dipcore.fitting.tracking import holdout_cells
from dipcore.solver import RECIPES, Progress, fit, get_recipe, resolve_device, run
from dipcore.twin import make_twin


@pytest.fixture(scope="module")
def twin(request):
    from dipcore.samples import load_sample

    return make_twin(load_sample("gulfstream", index_crop=(32, 96, 0, 64)), 4, 0.0)


def test_paper_recipe_is_the_appendix():
    p = RECIPES["paper"]
    assert (p.iters, p.lr, p.betas, p.plateau_factor, p.plateau_patience) == (1500, 1e-3, (0.5, 0.999), 0.95, 10)
    assert (p.latent_mu, p.residual, p.ema, p.arch) == (0.0, False, 0.0, "paper")
    assert p.latent_fixed and RECIPES["paper_redraw"].latent_sigma == 1.0 and not RECIPES["paper_redraw"].latent_fixed


def test_events_are_typed_and_spaced(twin):
    events = list(fit(twin.observation, twin.degradation, "paper", iters=7, every=3, truth=twin.truth,
                      device="cpu"))
    assert [e.step for e in events] == [3, 6, 7]
    assert all(isinstance(e, Progress) for e in events) and events[-1].done and not events[0].done
    e = events[-1]
    assert e.estimate.shape == twin.truth.shape and e.estimate.dtype == np.float32
    assert np.isnan(e.estimate[~twin.mask]).all() and np.isfinite(e.estimate[twin.mask]).all()
    assert set(e.metrics) >= {"rmse", "ssim", "nrmse"} and e.elapsed > 0 and e.params_per_member == 1_778_785  # 2×2 first kernel at 64×64
    assert e.member_std is None and e.device == "cpu"


@pytest.mark.parametrize("recipe, factor", [("paper", 0.6), ("default", 0.9)])
def test_a_short_fit_lowers_the_loss(twin, recipe, factor):
    # z is redrawn every step, so the loss is noisy: compare averages of the first and last steps
    losses = [e.loss[0] for e in fit(twin.observation, twin.degradation, recipe, iters=80, every=1,
                                     device="cpu", seed=1)]
    assert np.mean(losses[-10:]) < factor * np.mean(losses[:5])


def test_the_estimate_is_in_metres_around_the_field(twin):
    e = run(twin.observation, twin.degradation, iters=20, device="cpu")
    truth = twin.truth[twin.mask]
    # normalisation is undone: the estimate's ocean mean and spread are those of the field, not O(1)
    assert abs(np.nanmean(e.estimate) - truth.mean()) < 0.05 * truth.std()
    assert 0.8 < np.nanstd(e.estimate) / truth.std() < 1.2


@pytest.mark.parametrize("iters, atol, recipe", [(1, 2e-5, "paper"), (2, 2e-3, "paper_redraw")])
def test_batched_members_equal_independent_fits(twin, iters, atol, recipe):
    # Grouped and plain convolutions sum in different orders; Adam's first steps are ~lr·sign(grad), so
    # float-level differences grow step by step (measured: 2e-6 m after 1 step, 2e-4 m after 2, 2e-2 m
    # after 6). Equality is therefore checked over the first two steps, to float tolerance (measured with the
    # redrawn latent; the fixed one learns faster and the differences grow faster after step 1).
    kw = dict(iters=iters, every=iters, device="cpu", keep_members=True)
    batched = run(twin.observation, twin.degradation, recipe=recipe, members=3, seed=10, **kw)
    assert batched.members.shape == (3, *twin.truth.shape) and batched.loss.shape == (3,)
    for k in range(3):
        alone = run(twin.observation, twin.degradation, recipe=recipe, members=1, seed=10 + k, **kw)
        np.testing.assert_allclose(batched.members[k], alone.members[0], rtol=0, atol=atol)
        assert batched.loss[k] == pytest.approx(alone.loss[0], rel=1e-4)
    m = twin.mask
    np.testing.assert_allclose(batched.estimate[m], batched.members[:, m].mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(batched.member_std[m], batched.members[:, m].std(axis=0, ddof=1), rtol=1e-4)


def test_an_event_is_built_once_and_never_changed(twin):
    events = list(fit(twin.observation, twin.degradation, "paper", iters=2, every=1, device="cpu", members=2))
    last = events[-1]
    assert last.lr.shape == (2,) and last.selected is None and last.holdout_loss is None
    with pytest.raises(FrozenInstanceError):
        last.lr = None
    # keyword construction, as stand-ins for the fit build their events
    e = Progress(step=1, iters=2, loss=np.zeros(1, np.float32), estimate=last.estimate, member_std=None, elapsed=0.1)
    assert e.metrics == {} and not e.done and e.iters_per_s == 10.0


def test_same_seed_same_result(twin):
    a = run(twin.observation, twin.degradation, iters=5, seed=3, device="cpu")
    b = run(twin.observation, twin.degradation, iters=5, seed=3, device="cpu")
    c = run(twin.observation, twin.degradation, iters=5, seed=4, device="cpu")
    np.testing.assert_array_equal(a.estimate, b.estimate)
    assert not np.array_equal(a.estimate, c.estimate)


def test_latent_samples_give_a_latent_std_map(twin):
    e = run(twin.observation, twin.degradation, recipe="paper", members=2, latent_samples=3, iters=5,
            device="cpu")
    m = twin.mask
    assert e.latent_std.shape == twin.truth.shape and (e.latent_std[m] > 0).all()
    assert np.isnan(e.latent_std[~m]).all() and e.latent_mean.shape == twin.truth.shape


def test_closing_the_generator_stops_the_work(twin):
    gen = fit(twin.observation, twin.degradation, iters=10_000, every=1, device="cpu")
    first = next(gen)
    gen.close()
    assert first.step == 1
    with pytest.raises(StopIteration):
        next(gen)


def test_residual_zero_init_starts_at_bicubic(twin):
    rec = replace(get_recipe("residual"), lr=0.0, ema=0.0)
    e = run(twin.observation, twin.degradation, recipe=rec, iters=1, device="cpu")
    np.testing.assert_allclose(e.estimate[twin.mask], twin.bicubic[twin.mask], rtol=1e-5, atol=1e-5)


def test_noisy_observation_noise_known_to_the_fit():
    x = np.zeros((32, 32), np.float32)
    deg = Degradation(2, sigma=0.1, seed=0)
    obs = deg.forward(x)
    e = run(obs, deg, iters=3, device="cpu")
    assert e.estimate.shape == (32, 32)


@pytest.mark.parametrize("kwargs, words", [
    (dict(iters=0), "iterations"), (dict(members=0), "members"), (dict(latent_samples=-1), "latent"),
    (dict(recipe="magic"), "unknown recipe"), (dict(device="tpu"), "unknown device"),
])
def test_bad_arguments_are_user_errors(twin, kwargs, words):
    with pytest.raises(SSHDipError, match=words):
        run(twin.observation, twin.degradation, **kwargs)


def test_all_land_observation_is_refused(twin):
    with pytest.raises(SSHDipError, match="all land"):
        run(np.full_like(twin.observation, np.nan), twin.degradation, iters=1, device="cpu",
            fine_mask=twin.mask)


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(SSHDipError, match="CUDA"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_matches_cpu_loosely(twin):
    a = run(twin.observation, twin.degradation, recipe="paper", iters=20, device="cpu", seed=2)
    b = run(twin.observation, twin.degradation, recipe="paper", iters=20, device="cuda", seed=2)
    assert b.device.startswith("cuda") and np.isfinite(b.estimate[twin.mask]).all()
    assert abs(a.metrics.get("rmse", 0) - b.metrics.get("rmse", 0)) < 1e-2


# On CUDA the fit keeps PyTorch's default: cuDNN convolutions in TF32 (10-bit mantissa). The stated tolerance: the
# default recipe's estimate within 1 % of the fp32 fit's RMSE against the truth (benchmarks/gpu_check.sh runs this).
TF32_RMSE_TOLERANCE = 0.01


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tf32_convolutions_stay_within_the_stated_tolerance(twin):
    old = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = True
        tf32 = run(twin.observation, twin.degradation, iters=60, members=2, device="cuda", seed=3,
                   truth=twin.truth)
        torch.backends.cudnn.allow_tf32 = False
        fp32 = run(twin.observation, twin.degradation, iters=60, members=2, device="cuda", seed=3,
                   truth=twin.truth)
    finally:
        torch.backends.cudnn.allow_tf32 = old
    a, b = tf32.metrics["rmse"], fp32.metrics["rmse"]
    assert abs(a - b) <= TF32_RMSE_TOLERANCE * b, (a, b)


def test_discrepancy_principle_stops_at_the_noise_level(twin):
    # With a known noise far above the misfit of the bicubic start, nothing is left to fit: the estimate stays
    # at the bicubic field; without the principle the same fit moves away from it.
    loud = Degradation(twin.degradation.ratio, sigma=10.0, mask=twin.degradation.mask)
    base = replace(get_recipe("residual"), ema=0.0, discrepancy=True)
    kept = run(twin.observation, loud, recipe=base, iters=5, device="cpu")
    np.testing.assert_allclose(kept.estimate[twin.mask], twin.bicubic[twin.mask], rtol=1e-5, atol=1e-5)
    moved = run(twin.observation, loud, recipe=replace(base, discrepancy=False), iters=5, device="cpu")
    assert np.abs(moved.estimate - twin.bicubic)[twin.mask].max() > 1e-4


@pytest.mark.parametrize("upsample", [2, -1, -2])
def test_generator_on_a_coarser_grid_gives_fine_estimates(twin, upsample):
    rec = replace(get_recipe("paper"), upsample=upsample)
    e = run(twin.observation, twin.degradation, recipe=rec, members=2, latent_samples=2, iters=3,
            device="cpu", keep_members=True)
    assert e.estimate.shape == e.latent_std.shape == e.members.shape[1:] == twin.truth.shape
    assert np.isfinite(e.estimate[twin.mask]).all()


def test_projected_estimates_pool_back_to_the_data(twin):
    rec = replace(get_recipe("residual"), project=True)
    e = run(twin.observation, twin.degradation, recipe=rec, members=2, iters=3, device="cpu", keep_members=True)
    for x in (e.estimate, *e.members):
        pooled = twin.degradation.forward(np.where(twin.mask, x, np.nan), noise=False)
        assert np.nanmax(np.abs(pooled - twin.observation)) < 1e-3 * np.nanstd(twin.observation)
    plain = run(twin.observation, twin.degradation, recipe=replace(rec, project=False), iters=3, device="cpu")
    pooled = twin.degradation.forward(plain.estimate, noise=False)
    assert np.nanmax(np.abs(pooled - twin.observation)) > 1e-2 * np.nanstd(twin.observation)


def test_holdout_cells_are_a_seeded_fraction_of_the_ocean():
    ocean = np.ones((20, 30), bool)
    ocean[:5] = False
    held = holdout_cells(ocean, 0.1, seed=0)
    assert held.sum() == 45 and not (held & ~ocean).any()
    np.testing.assert_array_equal(held, holdout_cells(ocean, 0.1, seed=0))
    assert not np.array_equal(held, holdout_cells(ocean, 0.1, seed=1))
    assert not holdout_cells(np.ones((3, 3), bool), 0.1, 0).any()   # too few cells: no holdout
    assert not holdout_cells(ocean, 0.0, 0).any()


def test_holdout_keeps_the_best_step_and_stops_after_patience(twin):
    # With lr = 0 the output never changes: the first step stays the best, so the fit ends after `patience`.
    rec = replace(get_recipe("residual"), holdout=0.2, patience=4, lr=0.0, ema=0.0)
    events = list(fit(twin.observation, twin.degradation, rec, members=2, iters=50, every=1, device="cpu"))
    assert events[-1].done and events[-1].step == 5
    assert events[-1].selected.tolist() == [1, 1] and np.all(events[-1].holdout_loss >= 0)
    # A moving fit reports, per member, the step whose held-out misfit was lowest so far
    rec = replace(get_recipe("residual"), holdout=0.2, patience=100)
    events = list(fit(twin.observation, twin.degradation, rec, members=2, iters=8, every=1, device="cpu"))
    sel = np.array([e.selected for e in events])
    ho = np.array([e.holdout_loss for e in events])
    assert (sel <= np.arange(1, 9)[:, None]).all() and (np.diff(ho, axis=0) <= 0).all()
    # events during the fit show it evolving (a live view must move); the final one reports the selected outputs
    assert not np.array_equal(events[0].estimate, events[-2].estimate, equal_nan=True)


def test_the_default_is_a_network_the_user_watches_learn(twin):
    # The default's events show the networks' own output while they learn (the page's curves move), and its answer
    # is made consistent with the data: pooled, the final estimate gives back the observation.
    rec = get_recipe("default")
    assert rec.arch in ("skip", "decoder", "paper") and rec.project and not rec.zero_init
    events = list(fit(twin.observation, twin.degradation, iters=100, every=10, device="cpu", truth=twin.truth,
                      members=2))
    early, late, final = events[0].metrics["rmse"], events[-2].metrics["rmse"], events[-1]
    assert abs(late - early) > 0.05 * early
    pooled = twin.degradation.forward(final.estimate, noise=False)
    ok = np.isfinite(twin.observation)
    assert np.sqrt(np.mean((pooled[ok] - twin.observation[ok]) ** 2)) < 1e-3 * np.nanstd(twin.observation)
    assert final.metrics["rmse"] < metrics.rmse(twin.bicubic, twin.truth)
    # the members differ (each its own initialisation and input): the ensemble std is not numerical noise
    assert np.nanmean(final.member_std) > 1e-3 * np.nanstd(twin.truth)


@pytest.mark.parametrize("arch", ["skip", "decoder"])
def test_fixed_input_recipes_run_any_architecture(twin, arch):
    e = run(twin.observation, twin.degradation, recipe=arch, iters=5, members=2, latent_samples=2, device="cpu",
            truth=twin.truth)
    assert e.estimate.shape == twin.truth.shape and np.isfinite(e.estimate[twin.mask]).all()
    # latent draws perturb the fixed input by the recipe's input noise: none for the decoder, so no spread
    assert e.latent_std is not None and (np.nanmean(e.latent_std) > 0) == (arch == "skip")
    assert e.params_per_member < 200_000


def test_residual_on_ibp_starts_from_the_consistent_field(twin):
    rec = replace(get_recipe("residual"), base="ibp", iters=1)
    e = run(twin.observation, twin.degradation, recipe=rec, device="cpu", every=1)
    # zero-initialised correction: the first estimate is the base itself, IBP
    np.testing.assert_allclose(e.estimate[twin.mask], twin.ibp[twin.mask], atol=2e-3 * np.nanstd(twin.truth))


def test_a_fixed_latent_is_drawn_once(twin):
    rec = replace(get_recipe("paper"), latent_fixed=True, latent_sigma=0.0, lr=0.0)
    events = list(fit(twin.observation, twin.degradation, rec, iters=3, every=1, device="cpu"))
    # nothing learns (lr 0) and z never changes: every step gives the same output
    np.testing.assert_array_equal(events[0].estimate, events[-1].estimate)
    redraw = list(fit(twin.observation, twin.degradation, replace(rec, latent_fixed=False, latent_sigma=1.0),
                      iters=2, every=1, device="cpu"))
    assert not np.array_equal(redraw[0].estimate, redraw[1].estimate, equal_nan=True)
