"""The fit loop: argmin_θ ‖d(g_θ(z)) − X_lr‖² on ocean cells, for K members at once, as a Python generator.

``fit(...)`` yields :class:`Progress` events every ``every`` steps and a last one with ``done=True``. Closing
the generator (``.close()``), or simply not pulling the next event, stops the work: nothing runs between two
events except the steps that lead to the next one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from dipcore import memory, metrics
from dipcore.degrade import IBP_ROUNDS, Degradation, Projector, bicubic_up, fill_nearest
from dipcore.errors import SSHDipError
from dipcore.recipes import DEFAULT_RECIPE, RECIPES, Recipe, get_recipe
from dipcore.generators import build_ensemble, count_parameters


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; an unavailable CUDA request is a user error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SSHDipError("CUDA was requested but no CUDA GPU is available here; use --device cpu or auto")
    if not (name == "cpu" or name.startswith("cuda")):
        raise SSHDipError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)


@dataclass
class Progress:
    """One progress event of a fit (arrays are float32 NumPy on the fine grid, metres, NaN on land)."""

    step: int
    iters: int
    loss: np.ndarray                 # per member, normalised units
    estimate: np.ndarray             # ensemble mean
    member_std: np.ndarray | None    # std across members (K > 1)
    elapsed: float                   # seconds since the fit started
    metrics: dict[str, float] = field(default_factory=dict)  # vs truth, when the truth is known
    members: np.ndarray | None = None  # (K, H, W) when asked for
    latent_std: np.ndarray | None = None  # final event, when latent samples were drawn
    latent_mean: np.ndarray | None = None
    done: bool = False
    device: str = "cpu"
    params_per_member: int = 0
    selected: np.ndarray | None = None  # holdout recipes: per member, the best step so far (the final event
                                        # reports those outputs; earlier events the current ones)
    holdout_loss: np.ndarray | None = None  # per member, the held-out misfit of the reported output
    lr: np.ndarray | None = None     # per member, the learning rate after this step (the plateau schedule's)

    @property
    def iters_per_s(self) -> float:
        return self.step / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        """Seconds left at the current speed."""
        rate = self.iters_per_s
        return (self.iters - self.step) / rate if rate > 0 else float("nan")


class _Plateau:
    """ReduceLROnPlateau (mode min, rel. threshold 1e-4) per param group: each member has its own schedule,
    exactly as if it were fitted alone."""

    def __init__(self, opt: torch.optim.Optimizer, factor: float, patience: int):
        self.opt, self.factor, self.patience = opt, factor, patience
        n = len(opt.param_groups)
        self.best = [float("inf")] * n
        self.bad = [0] * n

    def step(self, losses: list[float]) -> None:
        for i, (g, loss) in enumerate(zip(self.opt.param_groups, losses)):
            if loss < self.best[i] * (1 - 1e-4):
                self.best[i], self.bad[i] = loss, 0
            else:
                self.bad[i] += 1
            if self.bad[i] > self.patience:
                new = g["lr"] * self.factor
                if g["lr"] - new > 1e-8:
                    g["lr"] = new
                self.bad[i] = 0


def member_seeds(seed: int, members: int) -> list[int]:
    """Member k of a fit with seed s is initialised exactly like a single fit with seed s + k."""
    return [int(seed) + k for k in range(members)]


def fit(observation: np.ndarray, degradation: Degradation, recipe: str | Recipe = "default", *,
        members: int = 1, latent_samples: int = 0, iters: int | None = None, seed: int = 0,
        device: str | torch.device = "auto", every: int = 10, truth: np.ndarray | None = None,
        fine_mask: np.ndarray | None = None, dx_km: float | None = None, keep_members: bool = False,
        ) -> Iterator[Progress]:
    """Fit K generators to one coarse observation; yield :class:`Progress` every ``every`` steps.

    Parameters
    ----------
    observation : np.ndarray
        Coarse field X_lr (h, w), metres, NaN on land.
    degradation : Degradation
        The forward operator (its ratio maps the fine grid to ``observation``).
    recipe : str or Recipe
        ``"paper"``, ``"residual"``, ``"consistent"`` (the default) or a custom :class:`Recipe`.
    members : int
        Ensemble size K, trained together in one grouped forward/backward per step.
    latent_samples : int
        M draws of z through the fitted members at the end; gives ``latent_std`` in the last event.
    iters : int, optional
        Overrides the recipe's iteration count.
    seed : int
        Member k is initialised (and draws its latents) from seed ``seed + k``.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    every : int
        Yield an event every ``every`` steps (the last step always yields).
    truth : np.ndarray, optional
        Fine truth (H, W); when given, events carry RMSE/SSIM/nRMSE.
    fine_mask : np.ndarray, optional
        Fine ocean mask; defaults to ``degradation.mask`` or the observation's mask blown up.
    dx_km : float, optional
        Fine grid spacing, for the effective resolution in the final metrics.
    keep_members : bool
        Put each member's field in every event (for per-pixel inspection).

    Yields
    ------
    Progress
    """
    rec = get_recipe(recipe)
    n_iter = int(rec.iters if iters is None else iters)
    if n_iter < 1:
        raise SSHDipError(f"iterations must be ≥ 1; got {n_iter}")
    if members < 1 or latent_samples < 0:
        raise SSHDipError(f"members must be ≥ 1 and latent samples ≥ 0; got {members} and {latent_samples}")
    dev = resolve_device(device)
    obs = np.asarray(observation, dtype=np.float32)
    r = degradation.ratio
    shape = (obs.shape[0] * r, obs.shape[1] * r)
    memory.check_fit(rec, members, shape, r, dev, latent_samples)  # refuse what would not fit, before allocating
    if fine_mask is None:
        fine_mask = degradation.crop(degradation.mask) if degradation.mask is not None else \
            np.kron(np.isfinite(obs), np.ones((r, r), dtype=bool))
    fine_mask = np.asarray(fine_mask, dtype=bool)
    if fine_mask.shape != shape:
        raise SSHDipError(f"the mask is {fine_mask.shape} but the observation ×{r} is {shape}")
    coarse_ok = np.isfinite(obs)
    if not coarse_ok.any():
        raise SSHDipError("the observation has no ocean cell (all land)")

    # Normalise by the observation's ocean statistics: the fit sees O(1) numbers whatever the units/slope.
    mean = float(obs[coarse_ok].mean())
    std = float(obs[coarse_ok].std()) or 1.0
    t = time.perf_counter()
    try:
        y = torch.from_numpy(np.where(coarse_ok, (obs - mean) / std, 0.0).astype(np.float32)).to(dev)
        held = holdout_cells(coarse_ok, rec.holdout, seed)
        train = coarse_ok & ~held
        w_lr = torch.from_numpy(train.astype(np.float32)).to(dev)
        w_ho = torch.from_numpy(held.astype(np.float32)).to(dev)
        m_hr = torch.from_numpy(fine_mask.astype(np.float32)).to(dev)
        base = None
        shift = 0.0  # added to reported estimates: the base of all cells, once the held-out ones were scored
        if rec.residual:  # from the training cells only, or the held-out cells would not be held out

            def bicubic_base(cells: np.ndarray) -> torch.Tensor:
                o = np.where(cells, (obs - mean) / std, np.nan).astype(np.float32)
                up = torch.from_numpy(bicubic_up(fill_nearest(o), r)).to(dev)
                if rec.base == "ibp":  # down to the noise level (in the fit's normalised units)
                    scaled = replace(degradation, sigma=degradation.sigma / std, mask=None)
                    up = Projector(scaled, o, fine_mask, rounds=IBP_ROUNDS, device=dev)(up * m_hr)
                return up

            base = bicubic_base(train)
            if held.any():
                shift = bicubic_base(coarse_ok) - base

        seeds = member_seeds(seed, members)
        up = r // -rec.upsample if rec.upsample < 0 else rec.upsample
        up = max(1, min(up, r))  # both powers of two: ``up`` divides the fine grid's sides
        net = build_ensemble((shape[0] // up, shape[1] // up), seeds, rec.arch, **dict(rec.arch_opts)).to(dev)
        if rec.zero_init:
            with torch.no_grad():
                for layer in net.last_layers():
                    layer.weight.zero_()
                    if layer.bias is not None:
                        layer.bias.zero_()
        n_params = count_parameters(net.members[0])
        opt = torch.optim.Adam([{"params": list(m.parameters())} for m in net.members], lr=rec.lr,
                               betas=rec.betas)
        sched = _Plateau(opt, rec.plateau_factor, rec.plateau_patience)
        plateau = rec.plateau_patience < n_iter  # a schedule that can act within this fit reads every step's loss
        gens = [torch.Generator(device=dev).manual_seed(s) for s in seeds]

        centre = net.draw(1, gens, rec.latent_mu, 1.0) if rec.latent_fixed else None  # drawn once

        def draw(n: int = 1) -> torch.Tensor:
            if centre is None:
                return net.draw(n, gens, rec.latent_mu, rec.latent_sigma)
            z = centre.expand(n, *centre.shape[1:])
            return z + net.draw(n, gens, 0.0, rec.latent_sigma) if rec.latent_sigma > 0 else z

        def render(out: torch.Tensor) -> torch.Tensor:
            if up > 1:  # (K, h, w) during the fit, (M, K, h, w) for latent draws
                four = out if out.dim() == 4 else out[None]
                four = F.interpolate(four, scale_factor=up, mode="bicubic", align_corners=False)
                out = four if out.dim() == 4 else four[0]
            return out * rec.residual_scale + base if base is not None else out

        project = Projector(degradation, obs, fine_mask, scale=std, offset=mean, device=dev) if rec.project \
            else (lambda x: x)

        ema = None
        n_ocean = w_lr.sum()
        n_held = int(held.sum())
        best = best_loss = best_step = None  # early stopping on the held-out cells
        noise_var = (degradation.sigma / std) ** 2             # the data misfit a perfect estimate would keep
        for step in range(1, n_iter + 1):
            opt.zero_grad(set_to_none=True)
            out = render(net(draw())[0])                      # (K, H, W)
            res = (degradation.forward_torch(out, m_hr) - y) * w_lr
            per_member = (res ** 2).sum(dim=(-2, -1)) / n_ocean
            objective = (per_member - noise_var).clamp_min(0) if rec.discrepancy else per_member
            objective.sum().backward()                        # members share no parameter: independent grads
            opt.step()
            losses = None  # read on the host only when needed: each read waits for the GPU to finish the step
            if plateau:
                losses = per_member.detach().cpu().tolist()
                sched.step(losses)
            cur = out.detach()
            if rec.ema > 0:
                ema = cur if ema is None else rec.ema * ema + (1 - rec.ema) * cur
                cur = ema
            last = step == n_iter
            if n_held:
                ho = (((degradation.forward_torch(cur, m_hr) - y) * w_ho) ** 2).sum(dim=(-2, -1)) / n_held
                if best is None:
                    best, best_loss = cur.clone(), ho.clone()
                    best_step = torch.full_like(ho, step)
                better = ho < best_loss
                best = torch.where(better[:, None, None], cur, best)
                best_loss = torch.where(better, ho, best_loss)
                best_step = torch.where(better, torch.full_like(ho, step), best_step)
                last = last or bool((step - best_step >= rec.patience).all())
                if last:  # the fit's answer; events before it show the fit as it evolves
                    cur = best
            if step % every and not last:
                continue
            if losses is None:
                losses = per_member.detach().cpu().tolist()
            # the user watches the network learn: events during the fit show its own output; only the answer (the
            # last event) is made consistent with the data, which would otherwise hide what the network adds
            fields = ((project(cur + shift) if last else cur + shift) * std + mean).cpu().numpy().astype(np.float32)
            lat_std = lat_mean = None
            if last and latent_samples > 0:
                lat_mean, lat_std = _latent(net, draw, lambda o: project(render(o) + shift), latent_samples, std,
                                             mean)
                if rec.ema == 0:  # latent averaging is the member's estimate when no EMA is kept
                    fields = lat_mean
            ev = _event(step, n_iter, losses, fields, fine_mask, t, truth, dx_km if last else None,
                        keep_members, lat_std, lat_mean, last, dev, n_params)
            ev.lr = np.array([g["lr"] for g in opt.param_groups], dtype=np.float64)
            if n_held:
                ev.selected = best_step.cpu().numpy().astype(int)
                ev.holdout_loss = best_loss.cpu().numpy().astype(np.float32)
            yield ev
            if last:
                return
    except torch.cuda.OutOfMemoryError as exc:
        raise SSHDipError(f"out of GPU memory for {members} member(s) on a {shape[0]}×{shape[1]} grid; "
                          "use fewer members, a smaller region or --device cpu") from exc


def holdout_cells(ocean: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A seeded random set of ``fraction`` of the ocean coarse cells (none when fewer than 10 would stay)."""
    held = np.zeros_like(ocean, dtype=bool)
    idx = np.flatnonzero(ocean)
    n = int(round(fraction * idx.size))
    if fraction <= 0 or n < 1 or idx.size - n < 10:
        return held
    held.flat[np.random.default_rng(10_000 + seed).choice(idx, n, replace=False)] = True
    return held


@torch.no_grad()
def _latent(net, draw, render, m: int, std: float, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over M latent draws, per member; the std map is the RMS over members of their std."""
    outs = []
    for start in range(0, m, 8):  # chunks keep memory bounded at large grids
        outs.append(render(net(draw(min(8, m - start)))))
    s = torch.cat(outs) * std + mean                          # (M, K, H, W)
    per_member_std = s.std(dim=0, unbiased=m > 1)
    lat_std = per_member_std.pow(2).mean(dim=0).sqrt()
    return s.mean(dim=0).cpu().numpy().astype(np.float32), lat_std.cpu().numpy().astype(np.float32)


def _event(step, n_iter, losses, fields, fine_mask, t0, truth, dx_km, keep_members, lat_std, lat_mean, last,
           dev, n_params) -> Progress:
    fields[:, ~fine_mask] = np.nan
    est = fields.mean(axis=0)
    member_std = fields.std(axis=0, ddof=1) if fields.shape[0] > 1 else None
    if lat_std is not None:
        lat_std[~fine_mask] = np.nan
    scores = metrics.scores(est, truth, dx_km) if truth is not None else {}
    return Progress(step=step, iters=n_iter, loss=np.asarray(losses, dtype=np.float32), estimate=est,
                    member_std=member_std, elapsed=time.perf_counter() - t0, metrics=scores,
                    members=fields if keep_members else None, latent_std=lat_std,
                    latent_mean=lat_mean.mean(axis=0) if lat_mean is not None else None, done=last,
                    device=str(dev), params_per_member=n_params)


def run(observation: np.ndarray, degradation: Degradation, **kwargs) -> Progress:
    """Run a fit to the end and return its last event (convenience for scripts and tests)."""
    last = None
    for last in fit(observation, degradation, **kwargs):
        pass
    return last  # type: ignore[return-value]


__all__ = ["DEFAULT_RECIPE", "Progress", "RECIPES", "Recipe", "fit", "get_recipe", "replace", "resolve_device",
           "run"]
