"""Recipe levers: what each change to the fit does to RMSE/SSIM against bicubic, on the embedded real samples.

    python scripts/levers.py [--iters 1500] [--members 1] [--cases gulfstream kuroshio] [--ratios 8 16]
                             [--noise 0 0.05] [--variants ibp paper residual dip ...] [--csv out.csv]

Each variant is a :class:`dipcore.recipes.Recipe`: a recipe of ``dipcore.recipes.RECIPES`` by name, or the residual
recipe with one lever changed; ``ibp`` and ``ibp_morozov`` are non-DIP references: bicubic made consistent with the
observation by iterative back-projection, exactly or down to the noise level. Cases are ``sample[:time]``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace

import numpy as np

from dipcore import metrics
from dipcore.recipes import DEFAULT_RECIPE, RECIPES
from dipcore.samples import load_sample, parse_spec
from dipcore.solver import run
from dipcore.twin import make_twin


def ibp(twin, tau: float = 0.0) -> np.ndarray:
    """Iterative back-projection of the bicubic field (x ← x + bicubic(obs − pool(x))), land kept NaN; ``tau`` > 0
    stops at the noise level (Morozov), 0 fits the data exactly (50 rounds at most)."""
    return twin.degradation.backproject(twin.bicubic, twin.observation, tau=tau, rounds=50)


REFERENCES = ("ibp", "ibp_morozov")  # classical estimates, no network
_R = RECIPES["residual"]
VARIANTS = {  # the shipped recipes, and the residual recipe with one lever changed at a time
    **RECIPES,
    "residual_no_zero_init": replace(_R, name="residual_no_zero_init", zero_init=False),
    "residual_no_ema": replace(_R, name="residual_no_ema", ema=0.0),
    "residual_discrepancy": replace(_R, name="residual_discrepancy", discrepancy=True),
    "residual_up2": replace(_R, name="residual_up2", upsample=2),
    "residual_up4": replace(_R, name="residual_up4", upsample=4),
    "residual_uphalf": replace(_R, name="residual_uphalf", upsample=-2),
    "residual_upfull": replace(_R, name="residual_upfull", upsample=-1),
    "residual_project": replace(_R, name="residual_project", project=True),
    "residual_project_holdout": replace(_R, name="residual_project_holdout", project=True, holdout=0.1),
}


def case(spec: str):
    """A sample ``name[:time]`` (:func:`dipcore.samples.parse_spec`)."""
    name, t = parse_spec(spec)
    return load_sample(name, time=t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=1500)
    p.add_argument("--members", type=int, default=1)
    p.add_argument("--cases", nargs="+", default=["gulfstream", "kuroshio"])
    p.add_argument("--ratios", type=int, nargs="+", default=[8, 16])
    p.add_argument("--noise", type=float, nargs="+", default=[0.0])
    p.add_argument("--variants", nargs="+", choices=[*REFERENCES, *VARIANTS], metavar="VARIANT",
                   default=["ibp", "residual", DEFAULT_RECIPE],
                   help=f"among {', '.join([*REFERENCES, *VARIANTS])} (default: ibp residual {DEFAULT_RECIPE})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--csv")
    a = p.parse_args()
    rows = []
    print(f"{'case':>16} {'×':>3} {'noise':>5} {'variant':>22} {'RMSE cm':>8} {'bic cm':>8} {'SSIM':>7} "
          f"{'bic':>7} {'spr/sk':>6} {'corr':>5} {'s':>6}", flush=True)
    for c in a.cases:
        field = case(c)
        for r in a.ratios:
            for nz in a.noise:
                tw = make_twin(field, r, nz, seed=a.seed)
                b_rmse, b_ssim = metrics.rmse(tw.bicubic, tw.truth), metrics.ssim(tw.bicubic, tw.truth)
                for v in a.variants:
                    t = time.perf_counter()
                    std = None
                    if v in REFERENCES:
                        est = ibp(tw, tau=1.0 if v == "ibp_morozov" else 0.0)
                    else:
                        ev = run(tw.observation, tw.degradation, recipe=VARIANTS[v], members=a.members,
                                 iters=a.iters, seed=a.seed, device="cpu", every=a.iters)
                        est, std = ev.estimate, ev.member_std
                    row = dict(case=c, ratio=r, noise=nz, variant=v, rmse=metrics.rmse(est, tw.truth),
                               bicubic_rmse=b_rmse, ssim=metrics.ssim(est, tw.truth), bicubic_ssim=b_ssim,
                               spread_skill=metrics.spread_skill(std, est, tw.truth) if std is not None else None,
                               corr=metrics.error_std_correlation(std, est, tw.truth) if std is not None else None,
                               seconds=time.perf_counter() - t)
                    rows.append(row)
                    print(f"{c:>16} {r:>3} {nz:>5} {v:>22} {100 * row['rmse']:8.3f} {100 * b_rmse:8.3f} "
                          f"{row['ssim']:7.4f} {b_ssim:7.4f} {row['spread_skill'] or float('nan'):6.2f} "
                          f"{row['corr'] or float('nan'):5.2f} {row['seconds']:6.1f}", flush=True)
    if a.csv:
        with open(a.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
