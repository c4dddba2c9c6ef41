"""SST-guided downscaling against bicubic, IBP, eSQG from SST alone and the unguided default: one row per case,
ratio, noise, guide and method (docs/results.md, "SST-guided downscaling").

    python scripts/guided.py --cases sqg roms blacksea --ratios 4 8 16 --noise 0 0.05 \\
        --methods bicubic ibp esqg regression default:4 guided:4 --guides matched white other-region \\
        --csv docs/results/guided/twins.csv

Cases (twins with truth, SSH and its guide on one fine grid):
``sqg[:seed[:coupling_noise]][@y0:y1,x0:x1]`` the synthetic SQG pair of :func:`dipcore.synthetic.sqg_pair` (256²,
seed 1, its default coupling noise 0.5, crop 0:128,0:128 by default: the SSH is §0's ``turbulence:1@0:128,0:128``);
``roms[:time]`` ROMS TXLA ``zeta`` with its surface ``temp`` (``assets/roms_txla_sst.nc``); ``blacksea`` the DUACS
Black Sea ADT at 1/8° with the Copernicus L4 SST at 1/24° of the same day regridded onto it (``../shared/data``; a
weak twin: the L4 ADT is smoother than its grid).

Guides: ``matched`` the case's own; ``white`` white noise; ``other-region`` the case's guide rolled by half the field
both ways (another region's SST, same statistics); ``other-day`` (``sqg`` only) the SST of the same run two eddy
turnovers later. Methods: ``bicubic``, ``ibp``; ``esqg`` SSH from the guide alone through eSQG, amplitude and mean
fitted to the coarse data; ``oracle`` (not a method: it knows the truth) IBP plus the truth-fitted scalar times the
guide's eSQG sub-cell detail, with that detail's correlation to IBP's error; ``regression`` the gate's guided IBP
(IBP plus the guide's scaled sub-cell detail, back-projected; IBP when the gate refuses the guide); ``default:K`` the
unguided default; ``guided:K`` the default given the guide (gated); any guided recipe ``NAME:K`` (``guided_skip``,
``guided_pix``) forced past the gate.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from dipcore import metrics
from dipcore.degrade import fill_nearest
from dipcore.errors import SSHDipWarning
from dipcore.guide import GATE_R2, Guide, detail, esqg_alone, guide_on_grid, load_guide, plan_guide, transform
from dipcore.io import Field, load_field
from dipcore.recipes import GUIDED_RECIPES
from dipcore.solver import run
from dipcore.synthetic import sqg_pair
from dipcore.twin import make_twin

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BLACKSEA_ADT = "dt_blacksea_allsat_phy_l4_20160707_20200801.nc"
BLACKSEA_SST = "20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc"


def _box(text: str, default: str) -> tuple[slice, slice]:
    (y0, y1), (x0, x1) = (map(int, part.split(":")) for part in (text or default).split(","))
    return slice(y0, y1), slice(x0, x1)


def load_case(spec: str) -> tuple[Field, np.ndarray, dict]:
    """(SSH field, its guide on the same grid (NaN off the ocean), other guides by name) of a case spec."""
    name, _, box = spec.partition("@")
    kind, _, arg = name.partition(":")
    if kind == "sqg":
        seed, _, coupling = arg.partition(":")
        seed, opts = int(seed or 1), ({"coupling_noise": float(coupling)} if coupling else {})
        ys, xs = _box(box, "0:128,0:128")
        ssh, sst = sqg_pair(256, seed, **opts)
        _, later = sqg_pair(256, seed, turnovers=8.0, **opts)
        field = Field.from_array(ssh[ys, xs], name="sqg_ssh", dx_km=2.0)
        return field, sst[ys, xs], {"other-day": later[ys, xs]}
    if kind == "roms":
        path = ROOT / "assets" / "roms_txla_sst.nc"
        field = load_field(path, var="zeta", time=int(arg or 0))
        src = load_guide(path, var="temp", when=field.attrs.get("time"))
    elif kind == "blacksea":
        field = load_field(DATA / BLACKSEA_ADT, var="adt")
        src = load_guide(DATA / BLACKSEA_SST, when=field.attrs.get("time"))
    else:
        raise SystemExit(f"unknown case {spec!r}: sqg, roms or blacksea")
    return field, guide_on_grid(src, field.data, field.mask).values, {}


def guide_for(which: str, twin, own: np.ndarray, others: dict) -> np.ndarray | None:
    """The guide of a row on the twin's (cropped) grid, NaN off the ocean; None when the case has none such."""
    ny, nx = twin.truth.shape
    if which == "matched":
        g = own[:ny, :nx]
    elif which == "white":
        g = np.random.default_rng(5).standard_normal((ny, nx)).astype(np.float32)
    elif which == "other-region":
        g = np.roll(own[:ny, :nx], (ny // 2, nx // 2), axis=(0, 1))
    elif which in others:
        g = others[which][:ny, :nx]
    else:
        return None
    g = np.where(twin.mask, g, np.nan)
    return np.where(twin.mask, fill_nearest(g), np.nan).astype(np.float32)  # a rolled map's land is a gap here


def scores(twin, est: np.ndarray, unc: np.ndarray | None = None) -> dict:
    truth = twin.truth
    out = {"rmse_cm": 100 * metrics.rmse(est, truth), "ssim": metrics.ssim(est, truth)}
    if unc is not None:
        cal = metrics.calibration(unc, est, truth)
        out.update(unc_spread_skill=cal["spread_skill"], unc_coverage_2sigma=cal["coverage_2sigma"],
                   unc_crps_cm=cal["crps_cm"], unc_crps_flat_cm=cal["crps_flat_cm"])
    return out


def method_rows(method: str, twin, guide: np.ndarray | None, dx: float | None, cache: dict) -> dict:
    """One method's scores (and what the gate said) on one twin and guide. A guided fit whose guide the gate
    refuses *is* the unguided default (tests/test_guided_fit.py checks it bit for bit): its row is the default's
    from ``cache`` (run once per twin and K), marked ``dip (gate)``."""
    name, _, k = method.partition(":")
    k = int(k or 1)
    obs, deg, mask = twin.observation, twin.degradation, twin.mask
    t0 = time.perf_counter()
    if name in ("bicubic", "ibp"):
        return scores(twin, twin.bicubic if name == "bicubic" else twin.ibp)
    if name == "esqg":
        return scores(twin, esqg_alone(guide, obs, deg.ratio, mask))
    if name == "oracle":
        return oracle(twin, guide)
    plan = plan_guide(Guide.from_array(guide), obs, deg, mask, list(range(k)), gate=GATE_R2) \
        if guide is not None and name != "default" else None
    gate = {"skill_cv": plan.report.coherence.r2_cv, "used": plan.report.used} if plan is not None else {}
    if name == "regression":
        est = plan.report.baseline if plan.report.used else twin.ibp
        return {**scores(twin, est), **gate}
    if name in GUIDED_RECIPES and name != "guided":  # forced past the gate: what the architecture does
        plan = plan_guide(Guide.from_array(guide), obs, deg, mask, list(range(k)), recipe=name, gate=-np.inf)
    if name == "guided" and not plan.report.used:
        return {**default_row(twin, k, dx, cache), **gate, "recipe_run": "dip (gate)"}
    if name == "default":
        return default_row(twin, k, dx, cache)
    ev = run(obs, deg, recipe=name, members=k, seed=0, truth=twin.truth, dx_km=dx, device="cpu", guide=plan,
             keep_members=k > 1)
    return {**scores(twin, ev.estimate, ev.uncertainty), **gate, "steps": ev.step,
            "seconds": round(time.perf_counter() - t0, 1), "recipe_run": ev.guide.recipe}


def oracle(twin, guide: np.ndarray) -> dict:
    """Not a method (it knows the truth): IBP plus the scalar times the guide's eSQG sub-cell detail that fits IBP's
    error best, and the correlation of that detail with IBP's error (what the guide could give, linearly)."""
    mask = twin.mask
    d = detail(np.where(mask, transform(guide, mask), 0.0), twin.degradation.ratio, mask)
    err = np.where(mask, twin.truth - twin.ibp, 0.0)
    a = float(np.sum(err * d) / np.sum(d * d)) if np.any(d) else 0.0
    corr = float(np.corrcoef(err[mask], d[mask])[0, 1]) if np.std(d[mask]) > 0 else 0.0
    return {**scores(twin, twin.ibp + a * d), "oracle_corr": corr}


def default_row(twin, k: int, dx: float | None, cache: dict) -> dict:
    """The unguided default's scores on ``twin`` with K = ``k`` (run once, then from ``cache``)."""
    key = (id(twin), k)
    if key not in cache:
        t0 = time.perf_counter()
        ev = run(twin.observation, twin.degradation, recipe="default", members=k, seed=0, truth=twin.truth,
                 dx_km=dx, device="cpu", keep_members=k > 1)
        cache[key] = {**scores(twin, ev.estimate, ev.uncertainty), "steps": ev.step,
                      "seconds": round(time.perf_counter() - t0, 1), "recipe_run": "dip"}
    return dict(cache[key])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", default=["sqg"])
    p.add_argument("--ratios", nargs="+", type=int, default=[8])
    p.add_argument("--noise", nargs="+", type=float, default=[0.0])
    p.add_argument("--methods", nargs="+", default=["bicubic", "ibp", "esqg", "regression", "default:4", "guided:4"])
    p.add_argument("--guides", nargs="+", default=["matched"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--csv", help="append the rows to this CSV")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    warnings.simplefilter("ignore", SSHDipWarning)
    rows = []
    for case in a.cases:
        field, own, others = load_case(case)
        for r in a.ratios:
            for noise in a.noise:
                twin = make_twin(field, r, noise, seed=0)
                cache: dict = {}
                for which in a.guides:
                    guide = guide_for(which, twin, own, others)
                    if guide is None:
                        continue
                    for m in a.methods:
                        if which != "matched" and m.partition(":")[0] in ("bicubic", "ibp", "default"):
                            continue  # they do not read the guide: their rows are the matched guide's
                        res = method_rows(m, twin, guide, twin.dx_km, cache)
                        rows.append({"case": case, "ratio": r, "noise": noise, "guide": which, "method": m, **res})
                        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in rows[-1].items()), flush=True)
                        if a.csv:
                            write(a.csv, rows[-1:])
    return 0


def write(path: str, rows: list[dict]) -> None:
    """Append ``rows`` to the CSV at ``path`` (header on a new file; the union of keys, in a fixed order)."""
    keys = ["case", "ratio", "noise", "guide", "method", "rmse_cm", "ssim", "skill_cv", "used", "oracle_corr",
            "unc_spread_skill",
            "unc_coverage_2sigma", "unc_crps_cm", "unc_crps_flat_cm", "steps", "seconds", "recipe_run"]
    new = not Path(path).exists()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, keys, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
