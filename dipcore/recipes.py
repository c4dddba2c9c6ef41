"""Recipes: how to fit, as data. A :class:`Recipe` names an architecture and its optimiser, schedule, input and
formulation; :data:`RECIPES` holds the named ones (the CLI's ``--recipe`` choices)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dipcore.constants import ARCHITECTURES
from dipcore.errors import SSHDipError


@dataclass(frozen=True)
class Recipe:
    """How to fit: optimiser, schedule, latent, formulation. Field names are the CLI/JSON vocabulary."""

    name: str
    description: str
    iters: int = 1500
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    plateau_factor: float = 0.95
    plateau_patience: int = 10
    latent_mu: float = 0.0      # paper: z ~ N(mu, sigma²), redrawn every step; fixed-input architectures
    latent_sigma: float = 1.0   # (skip, decoder): their fixed input is perturbed by N(0, sigma²) every step
    latent_fixed: bool = False  # paper: z = z0 + N(0, sigma²) every step around a centre z0 ~ N(mu, 1) drawn
                                # once per member (as a deep image prior keeps its input); latent draws at the
                                # end perturb the same centre
    residual: bool = False      # generator learns a correction added to the bicubic field
    residual_scale: float = 0.1  # initial output of a random generator is O(1): start the correction small
    ema: float = 0.0            # exponential average of each member's output (0 = off)
    zero_init: bool = False     # last layer starts at zero: a residual fit starts exactly at the bicubic field
    discrepancy: bool = False   # known noise σ: stop pulling a member closer to the data than σ² (Morozov)
    upsample: int = 1           # generator works on a grid this many times coarser (≤ ratio), output bicubic-
                                # interpolated: no nearest-neighbour blockiness at the finest scale, and faster;
                                # -1: the observation's grid, -2: twice as fine as it
    arch: str = "paper"         # a name of dipcore.generators.ARCHITECTURES
    arch_opts: tuple[tuple[str, object], ...] = ()  # keyword arguments of the architecture, e.g. (("channels", 64),)
    base: str = "bicubic"       # residual recipes: the field the network corrects, "bicubic" or "ibp"
                                # (bicubic made consistent with the data by back-projection); "guided": bicubic
                                # plus a guide's scaled sub-cell detail (GUIDED_RECIPES: needs a guide)
    holdout: float = 0.0        # fraction of ocean coarse cells kept out of the loss; the final estimate of each
                                # member is its output that predicted them best (early stopping), and the fit ends
                                # when no member improved for ``patience`` steps. 0 = off
    patience: int = 300
    project: bool = False       # the final estimate (each member, each latent draw) is made consistent with the
                                # data (back-projection down to the noise level, degrade.Projector); events during
                                # the fit show the network's own output; the training itself is unchanged
    settle: float = 0.0         # stop once the estimate has settled: its RMS motion over the last
                                # ``settle_window`` steps (the per-cell std of snapshots every 10 steps, in units of
                                # the observation's std) is below this. Sees only the fit, never the truth. 0 = off
    settle_window: int = 100
    min_iters: int = 0          # never stop on ``settle`` before this step
    upsample_cap: int = 0       # with a negative ``upsample``: the network grid is at most this many times
                                # coarser than the output (0 = no cap)

    def network_factor(self, ratio: int) -> int:
        """How many times coarser than the output the networks work at ``ratio`` (a power of two ≤ ratio)."""
        up = ratio // -self.upsample if self.upsample < 0 else self.upsample
        if self.upsample < 0 and self.upsample_cap > 0:
            up = min(up, self.upsample_cap)
        return max(1, min(up, ratio))


# The original deep image prior's optimiser (Ulyanov et al.): Adam lr 0.01, no schedule, noise on the fixed input
_DIP = dict(lr=0.01, betas=(0.9, 0.999), plateau_patience=10 ** 9, latent_sigma=0.03, ema=0.99)

RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("dip", "The deep image prior as users watch it learn: K 'skip' hourglass networks (the original DIP "
                  "architecture, fixed noise input perturbed at every step) each learn a correction to the "
                  "bicubic field, on a grid twice as fine as the observation but no coarser than a quarter of the "
                  "output (bicubic up to it); Adam lr "
                  "0.01, output averaged exponentially (0.99); the fit stops once the estimate has settled (it "
                  "moved less than 0.3 % of the field's std over 100 steps, after at least 200 steps, at most "
                  "1500); the answer of each member is made consistent with the data by back-projection down to "
                  "the noise level.",
           arch="skip", residual=True, residual_scale=0.1, upsample=-2, upsample_cap=4, project=True, settle=3e-3,
           settle_window=100, min_iters=200, **_DIP),
    Recipe("dip1500", "The previous default (until 2026-12-06): 'dip' on a grid half as fine as the output, for "
                      "1500 iterations with no stopping rule (6 minutes for the Gulf Stream at x8, K=4, on 2 CPU "
                      "cores; the benchmark's 'before').",
           arch="skip", residual=True, residual_scale=0.1, upsample=2, project=True, **_DIP),
    Recipe("paper", "The paper's appendix: DCGAN-like decoder fitted directly, Adam(0.5, 0.999) lr 1e-3, "
                    "ReduceLROnPlateau(0.95, 10), 1500 iterations; its latent z ~ N(mu, sigma²) of 100 channels read "
                    "as a deep image prior does: a centre drawn once per member, perturbed by N(0, 0.1²) every step "
                    "(redrawing z from N(0, 1) every step, 'paper_redraw', never fits the data: docs/results.md).",
           latent_fixed=True, latent_sigma=0.1),
    Recipe("paper_redraw", "The paper's appendix with z ~ N(0, 1) redrawn every step (the previous 'paper'): the "
                           "network must map every z to one image, the loss stays noisy and the plateau schedule "
                           "keeps cutting the learning rate (×0.28 by step 400).", latent_sigma=1.0),
    Recipe("skip", "The original deep image prior for super-resolution: the 'skip' hourglass fitted directly "
                   "(no base field), fixed noise input perturbed by N(0, 0.03²) every step, Adam lr 0.01, output "
                   "averaged exponentially (0.99), 1500 iterations.", arch="skip", **_DIP),
    Recipe("decoder", "An under-parameterised Deep Decoder fitted directly (fixed input, no noise), Adam lr 0.01, "
                      "output averaged exponentially (0.99), 1500 iterations.",
           arch="decoder", **{**_DIP, "latent_sigma": 0.0}),
    Recipe("residual", "Paper generator and optimiser, but it learns a correction on top of the bicubic field: "
                       "its last layer starts at zero (the fit starts exactly at bicubic) and its output is "
                       "averaged exponentially (0.99). Levers measured in docs/results.md.",
           residual=True, zero_init=True, ema=0.99),
    Recipe("consistent", "The previous default (its estimate equals IBP: the network adds nothing): the residual "
                         "recipe with 10 % of the coarse cells held out for early stopping (300 steps of "
                         "patience) and the answer back-projected onto all the data.",
           residual=True, zero_init=True, ema=0.99, holdout=0.1, patience=300, project=True),
]}
DEFAULT_RECIPE = "dip"
DEFAULT_MEMBERS = 4  # the CLI's, the app's and the README's ensemble size: K > 1 gives the ensemble std

# Recipes that need a guide map (SST): a fit given ``guide=`` runs one of them when the guide passes the coherence
# gate (dipcore.guide), the unguided default when it does not. Their base field ``"guided"`` is the bicubic field
# plus the guide's sub-cell detail times its amplitude measured at the coarse scale (block means zero: the data are
# untouched). Kept apart from RECIPES, whose every entry runs without a guide. Measured in docs/results.md.
_DIP_RECIPE = RECIPES[DEFAULT_RECIPE]
GUIDED_RECIPES: dict[str, Recipe] = {r.name: r for r in [
    replace(_DIP_RECIPE, name="guided", base="guided",
            description="The default with a guide (SST): 'dip' on the guided base field, the bicubic field plus "
                        "the guide's eSQG sub-cell detail times the amplitude the coarse data give it (an "
                        "eSQG-initialised residual; each member's amplitude drawn within its error); the 'skip' "
                        "networks correct it and each member's answer is back-projected onto the data."),
    replace(_DIP_RECIPE, name="guided_skip", arch="guided_skip", base="guided",
            description="'guided' whose 'skip' networks also take the guide (its eSQG streamfunction and sub-cell "
                        "detail, on their grid) beside their noise input, as a Guided Deep Decoder does."),
    replace(_DIP_RECIPE, name="guided_pix", arch="pix", base="guided", upsample=1,
            description="A PixTransform-style per-pixel map of the guide and of position, at full resolution, "
                        "correcting the guided base field; back-projected onto the data."),
]}
DEFAULT_GUIDED_RECIPE = "guided"


def get_recipe(recipe: str | Recipe) -> Recipe:
    """Resolve a recipe name (or pass a :class:`Recipe` through)."""
    if isinstance(recipe, Recipe):
        return recipe
    name = DEFAULT_RECIPE if recipe in (None, "default") else recipe
    if name in GUIDED_RECIPES:
        return GUIDED_RECIPES[name]
    if name not in RECIPES:
        raise SSHDipError(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
    return RECIPES[name]


def guided_recipe(recipe: str | Recipe) -> Recipe:
    """The recipe a fit given a guide runs: the guided default for the default, a guided recipe as it is.

    Raises
    ------
    SSHDipError
        For an unguided recipe other than the default (it has no use for the guide).
    """
    rec = get_recipe(recipe)
    if rec is RECIPES[DEFAULT_RECIPE]:
        return GUIDED_RECIPES[DEFAULT_GUIDED_RECIPE]
    if rec.base != "guided":
        raise SSHDipError(f"recipe {rec.name!r} takes no guide; leave --recipe out (the default) or choose a guided "
                          f"one: {', '.join(GUIDED_RECIPES)}")
    return rec


def with_arch(recipe: str | Recipe, arch: str | None = None) -> Recipe:
    """The recipe, or, when ``arch`` names another architecture than the recipe's own, a copy of it with that
    architecture (its ``arch_opts`` dropped: they are keyword arguments of the recipe's own architecture)."""
    rec = get_recipe(recipe)
    if arch is None or arch == rec.arch:
        return rec
    if arch not in ARCHITECTURES:
        raise SSHDipError(f"unknown architecture {arch!r}; choose one of: {', '.join(ARCHITECTURES)}")
    return replace(rec, arch=arch, arch_opts=())


__all__ = ["DEFAULT_GUIDED_RECIPE", "DEFAULT_MEMBERS", "DEFAULT_RECIPE", "GUIDED_RECIPES", "RECIPES", "Recipe",
           "get_recipe", "guided_recipe", "with_arch"]
