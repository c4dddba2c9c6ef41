"""What a fit sets up before its first step: the observation in the network's units (:class:`FitData`), the base
field a residual recipe corrects (:func:`base_field`), the K networks with their inputs (:class:`Networks`) and the
optimiser with its plateau schedule (:class:`Optimiser`).

Everything here is built once per fit, in this order, on the fit's device; the loop in :func:`dipcore.solver.fit`
only calls it. The operations (and their order) are the fit's numbers: ``tests/test_schema.py`` holds them fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from dipcore.constants import IBP_ROUNDS
from dipcore.degrade import Degradation, Projector, bicubic_up, fill_nearest
from dipcore.errors import SSHDipError
from dipcore.generators import build_ensemble, count_parameters
from dipcore.recipes import Recipe


def fine_ocean(observation: np.ndarray, degradation: Degradation, fine_mask: np.ndarray | None) -> np.ndarray:
    """The fine ocean mask of a fit: ``fine_mask``, else the operator's own (cropped), else the observation's
    ocean blown up by the ratio.

    Raises
    ------
    SSHDipError
        When the mask does not match the observation's fine grid, or the observation has no ocean cell.
    """
    r = degradation.ratio
    shape = (observation.shape[0] * r, observation.shape[1] * r)
    if fine_mask is None:
        fine_mask = degradation.crop(degradation.mask) if degradation.mask is not None else \
            np.kron(np.isfinite(observation), np.ones((r, r), dtype=bool))
    fine_mask = np.asarray(fine_mask, dtype=bool)
    if fine_mask.shape != shape:
        raise SSHDipError(f"the mask is {fine_mask.shape} but the observation ×{r} is {shape}")
    if not np.isfinite(observation).any():
        raise SSHDipError("the observation has no ocean cell (all land)")
    return fine_mask


@dataclass(frozen=True, eq=False)
class FitData:
    """The observation on the fit's device, normalised by its ocean mean and std so the fit sees O(1) numbers
    whatever the units or the slope, with the coarse cells the loss sees and those it holds out.

    Build it with :meth:`build`. Tensors: ``y`` (h, w) the normalised observation, 0 on land; ``train`` and
    ``held`` (h, w) 0/1 weights of the cells in the loss and of the held-out ones; ``fine`` (H, W) the 0/1 fine
    ocean mask.
    """

    observation: np.ndarray  # (h, w) float32 metres, NaN on land
    degradation: Degradation
    fine_ocean: np.ndarray   # (H, W) bool
    held_out: np.ndarray     # (h, w) bool
    device: torch.device
    mean: float
    std: float
    y: torch.Tensor
    train: torch.Tensor
    held: torch.Tensor
    fine: torch.Tensor
    n_train: torch.Tensor    # number of training cells (a device scalar: the loss divides by it every step)
    n_held: int

    @classmethod
    def build(cls, observation: np.ndarray, degradation: Degradation, fine_ocean: np.ndarray,
              held_out: np.ndarray, device: torch.device) -> FitData:
        """Normalise ``observation`` (float32, NaN on land) and move it, with its masks, to ``device``."""
        ocean = np.isfinite(observation)
        mean = float(observation[ocean].mean())
        std = float(observation[ocean].std()) or 1.0
        train = _tensor(ocean & ~held_out, device)
        return cls(observation, degradation, fine_ocean, held_out, device, mean, std,
                   y=_tensor(np.where(ocean, (observation - mean) / std, 0.0), device), train=train,
                   held=_tensor(held_out, device), fine=_tensor(fine_ocean, device), n_train=train.sum(),
                   n_held=int(held_out.sum()))

    @property
    def ocean(self) -> np.ndarray:
        """(h, w) bool: the observation's ocean cells."""
        return np.isfinite(self.observation)

    def normalised(self, cells: np.ndarray) -> np.ndarray:
        """The observation on ``cells`` in the fit's units, NaN elsewhere."""
        return np.where(cells, (self.observation - self.mean) / self.std, np.nan).astype(np.float32)

    def misfit(self, fields: torch.Tensor) -> torch.Tensor:
        """Per member, the mean squared misfit of (K, H, W) ``fields``' block means to the training cells."""
        res = (self.degradation.forward_torch(fields, self.fine) - self.y) * self.train
        return (res ** 2).sum(dim=(-2, -1)) / self.n_train

    def held_misfit(self, fields: torch.Tensor) -> torch.Tensor:
        """Per member, the mean squared misfit of (K, H, W) ``fields``' block means to the held-out cells."""
        return (((self.degradation.forward_torch(fields, self.fine) - self.y) * self.held) ** 2).sum(dim=(-2, -1)) \
            / self.n_held

    def objective(self, misfit: torch.Tensor, discrepancy: bool) -> torch.Tensor:
        """What the optimiser minimises: the misfit, or with the discrepancy principle only what lies above the
        misfit a perfect estimate keeps (the noise variance, in the fit's units)."""
        return (misfit - (self.degradation.sigma / self.std) ** 2).clamp_min(0) if discrepancy else misfit

    def metres(self, fields: torch.Tensor) -> np.ndarray:
        """Fields in the fit's units back to float32 NumPy metres."""
        return (fields * self.std + self.mean).cpu().numpy().astype(np.float32)


def _tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(a.astype(np.float32)).to(device)


def _base_from(data: FitData, cells: np.ndarray, kind: str) -> torch.Tensor:
    """The bicubic field of the observation on ``cells`` (``kind`` ``"ibp"``: made consistent with them by
    back-projection down to the noise level, in the fit's units)."""
    o = data.normalised(cells)
    r = data.degradation.ratio
    up = torch.from_numpy(bicubic_up(fill_nearest(o), r)).to(data.device)
    if kind == "ibp":
        scaled = replace(data.degradation, sigma=data.degradation.sigma / data.std, mask=None)
        up = Projector(scaled, o, data.fine_ocean, rounds=IBP_ROUNDS, device=data.device)(up * data.fine)
    return up


def base_field(data: FitData, recipe: Recipe, detail: np.ndarray | None = None
               ) -> tuple[torch.Tensor | None, torch.Tensor | float]:
    """The field a residual recipe's networks correct, and the shift added to reported estimates.

    The base comes from the training cells only, or the held-out cells would not be held out; the shift turns it
    into the base of all cells once they were scored (0 without held-out cells). ``(None, 0.0)`` for a recipe
    that fits the field directly. A guided recipe (``base="guided"``) adds each member's sub-cell ``detail``
    (K, H, W metres, :func:`dipcore.guide.plan_guide`) to the bicubic field: its base is (K, H, W).
    """
    if not recipe.residual:
        return None, 0.0
    base = _base_from(data, data.ocean & ~data.held_out, recipe.base)
    shift = _base_from(data, data.ocean, recipe.base) - base if data.held_out.any() else 0.0
    if recipe.base == "guided":
        if detail is None:
            raise SSHDipError(f"recipe {recipe.name!r} needs a guide (guide=…, --guide FILE)")
        base = base + torch.from_numpy(np.asarray(detail, dtype=np.float32) / data.std).to(data.device) * data.fine
    return base, shift


class Networks:
    """The K generators as the loop sees them: their inputs (:meth:`draw`), and their outputs brought to the fine
    grid and added to the base field (:meth:`render`); calling it gives one step's (K, H, W) fields.

    A recipe may run the networks on a grid ``up`` times coarser than the fine one (bicubic up-sampling after
    them), start a residual fit at its base (last layers zeroed) and keep a fixed latent centre per member.
    """

    def __init__(self, recipe: Recipe, data: FitData, seeds: list[int], base: torch.Tensor | None,
                 guide: np.ndarray | None = None):
        r = data.degradation.ratio
        shape = data.fine_ocean.shape
        self.up = recipe.network_factor(r)  # both powers of two: ``up`` divides the fine grid's sides
        self.recipe, self.base = recipe, base
        self.net = build_ensemble((shape[0] // self.up, shape[1] // self.up), seeds, recipe.arch,
                                  **dict(recipe.arch_opts)).to(data.device)
        if recipe.zero_init:
            with torch.no_grad():
                for layer in self.net.last_layers():
                    layer.weight.zero_()
                    if layer.bias is not None:
                        layer.bias.zero_()
        if hasattr(self.net, "set_guide"):  # a guided architecture: its guide channels (C, H, W), on its grid
            if guide is None:
                raise SSHDipError(f"architecture {recipe.arch!r} needs a guide (guide=…, --guide FILE)")
            g = torch.from_numpy(np.asarray(guide, dtype=np.float32)).to(data.device)
            self.net.set_guide(F.avg_pool2d(g[None], self.up)[0] if self.up > 1 else g)
        self.params_per_member = count_parameters(self.net.members[0])
        self.gens = [torch.Generator(device=data.device).manual_seed(s) for s in seeds]
        # a fixed latent (recipe.latent_fixed) is drawn once, from the members' generators, before any step
        self.centre = self.net.draw(1, self.gens, recipe.latent_mu, 1.0) if recipe.latent_fixed else None

    def draw(self, n: int = 1) -> torch.Tensor:
        """The networks' input for ``n`` images: fresh latents, or the fixed centre perturbed by the input noise."""
        rec = self.recipe
        if self.centre is None:
            return self.net.draw(n, self.gens, rec.latent_mu, rec.latent_sigma)
        z = self.centre.expand(n, *self.centre.shape[1:])
        return z + self.net.draw(n, self.gens, 0.0, rec.latent_sigma) if rec.latent_sigma > 0 else z

    def render(self, out: torch.Tensor) -> torch.Tensor:
        """(K, h, w) outputs during the fit, (M, K, h, w) for latent draws → the same on the fine grid, base added."""
        if self.up > 1:
            four = out if out.dim() == 4 else out[None]
            four = F.interpolate(four, scale_factor=self.up, mode="bicubic", align_corners=False)
            out = four if out.dim() == 4 else four[0]
        return out * self.recipe.residual_scale + self.base if self.base is not None else out

    def __call__(self) -> torch.Tensor:
        """One step's fields (K, H, W), on a fresh draw of the input."""
        return self.render(self.net(self.draw())[0])


class Plateau:
    """ReduceLROnPlateau (mode min, relative threshold 1e-4) per parameter group: each member has its own schedule,
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


class Optimiser:
    """Adam with one parameter group per member, and the recipe's plateau schedule when it can act within a fit of
    ``iters`` steps (only then are the losses read on the host every step: each read waits for the device)."""

    def __init__(self, networks: Networks, recipe: Recipe, iters: int):
        self.adam = torch.optim.Adam([{"params": list(m.parameters())} for m in networks.net.members], lr=recipe.lr,
                                     betas=recipe.betas)
        self.plateau = Plateau(self.adam, recipe.plateau_factor, recipe.plateau_patience) \
            if recipe.plateau_patience < iters else None

    def zero_grad(self) -> None:
        self.adam.zero_grad(set_to_none=True)

    def step(self, misfit: torch.Tensor) -> list[float] | None:
        """One Adam step, then the schedule on the members' ``misfit``; returns the misfit read on the host when
        the schedule needed it (None otherwise)."""
        self.adam.step()
        if self.plateau is None:
            return None
        losses = misfit.detach().cpu().tolist()
        self.plateau.step(losses)
        return losses

    @property
    def lr(self) -> np.ndarray:
        """Per member, the learning rate now."""
        return np.array([g["lr"] for g in self.adam.param_groups], dtype=np.float64)


__all__ = ["FitData", "Networks", "Optimiser", "Plateau", "base_field", "fine_ocean"]
