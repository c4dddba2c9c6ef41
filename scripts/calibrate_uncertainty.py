"""Fit the transfer of dipcore.uncertainty.predictive on a design set of twins, and score it on fields it never saw.

The design set holds no field the project scores itself on (docs/results.md §0 and the validation fields below):

- ``mapped``: 128×128 crops of the global DUACS L4 map of 2019-02-23 (``../shared/data``, see SOURCES.md) on a
  16°×24° lattice, at most 30 % land, away from the Gulf Stream, Kuroshio and Agulhas samples and from the
  validation crops;
- ``dynamic``: synthetic decaying turbulence (dipcore.synthetic.turbulence, seeds 11-16, several initial scales)
  and Gaussian random fields of known spectra (slopes 3-6, some steepening below a knee), weighted as two families
  of equal say.

For each field, ratio (×2…×32) and noise (0, 2, 5, 10 % of the field's std) the twin's IBP estimate is the
reconstruction (the default network's estimate is within ~1 % of it: docs/results.md §0), ``E2`` is measured on
its observation exactly as the product does (dipcore.uncertainty.self_error) and the true error is known. Per prior
and ratio, ``T_r`` is the family-weighted geometric mean of √(true MSE / E2) on noise-free twins and ``G_r`` the
family-weighted median of (true MSE − T_r² E2) / σ² on noisy ones (floored at 0). Then the pattern (which maps,
how much of the variance): among the candidates whose family-weighted mean ±2σ coverage is within 0.90-0.98 and
whose family-weighted mean log(CRPS / CRPS of a flat σ equal to the true RMSE) is within 0.5 % of the lowest, the
one whose coverage is nearest 95 %, on the design twins at ×4, ×8, ×16 (noise 0 and 5 %).

Usage (about ten minutes on 2 cores): ``python scripts/calibrate_uncertainty.py [--data ../shared/data] [--write]``
prints the fitted constants and the validation table; ``--write`` stores them in ``dipcore/uncertainty/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from dipcore import metrics
from dipcore.errors import SSHDipError
from dipcore.io import Field, load_field
from dipcore.uncertainty.predictive import CALIBRATION, Prior, choose_prior, pattern, predictive_std, self_error
from dipcore.samples import load_sample
from dipcore.synthetic import gaussian_field, turbulence
from dipcore.twin import make_twin

RATIOS = (2, 4, 8, 16, 32)
NOISES = (0.0, 0.02, 0.05, 0.1)
PATTERN_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # candidate shares of the pattern in the variance (the rest flat)
PATTERN_CHOICES = (("gradient",), ("degrade-again",), ("gradient", "degrade-again"))
GLOBAL = "nrt_global_allsat_phy_l4_20190223_20190226.nc"
SAMPLE_BOXES = [(25, 57, 280, 344), (22, 54, 130, 194), (-50, -18, 5, 69)]  # gulfstream, kuroshio, agulhas
VALID_BOXES = {"natl_east": (30, 62, 320, 352), "kuro_128": (26, 58, 140, 172), "sopac": (-62, -30, 180, 212),
               "somali": (-10, 22, 45, 77), "capeverde": (5, 37, 320, 352)}


def _overlaps(a, b) -> bool:
    return not (a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2])


def mapped_design(data: Path) -> dict[str, Field]:
    """128×128 crops of the global map away from the samples and the validation boxes, ≤ 30 % land."""
    whole = load_field(data / GLOBAL)
    out = {}
    for lat0 in range(-64, 40, 16):
        for lon0 in range(0, 336, 24):
            box = (lat0, lat0 + 32, lon0, lon0 + 32)
            if any(_overlaps(box, b) for b in [*SAMPLE_BOXES, *VALID_BOXES.values()]):
                continue
            try:
                f = whole.crop_box(*box)
            except SSHDipError:  # all land
                continue
            if min(f.shape) >= 128:
                f = f.crop_index(0, 128, 0, 128)
                if np.isnan(f.values).mean() <= 0.3:
                    out[f"global{lat0:+d}N{lon0}E"] = f
    return out


def dynamic_design() -> dict[str, tuple[str, Field]]:
    """Synthetic turbulence and Gaussian random fields (family, field), 256×256 at 2 km."""
    out = {}
    for seed, k0 in ((11, 12.0), (12, 8.0), (13, 16.0), (14, 24.0), (15, 6.0), (16, 12.0)):
        out[f"turbulence_s{seed}_k{k0:g}"] = ("turbulence", Field.from_array(turbulence(256, seed, k0=k0), dx_km=2.0))
    for i, (slope, knee, below) in enumerate([(3, None, None), (3.5, None, None), (4, None, None), (4.5, None, None),
                                              (5, None, None), (6, None, None), (2.5, 12, 5.5), (3, 24, 7),
                                              (4, 10, 6), (3, 16, 6)]):
        f = gaussian_field((256, 256), slope, 100 + i, knee=knee, slope_below=below)
        out[f"gaussian_{slope}_{knee}_{below}"] = ("gaussian", Field.from_array(f, dx_km=2.0))
    return out


def validation(data: Path) -> dict[str, Field]:
    """Fields neither the design set nor docs/results.md §0 holds: other crops, other products, other seeds."""
    whole = load_field(data / GLOBAL)
    out = {n: whole.crop_box(*b).crop_index(0, 128, 0, 128) for n, b in VALID_BOXES.items()}
    out["blacksea"] = load_sample("blacksea")
    out["roms_txla"] = load_sample("roms_txla")
    out["turbulence_s5"] = Field.from_array(turbulence(256, 5), dx_km=2.0)
    out["turbulence_s7_k20"] = Field.from_array(turbulence(256, 7, k0=20.0), dx_km=2.0)
    out["gaussian_knee8"] = Field.from_array(gaussian_field((256, 256), 3.5, 21, knee=8, slope_below=6.5), dx_km=2.0)
    return out


def measure(field: Field, ratio: int, noise: float) -> dict | None:
    """E2 and the true MSE of IBP for one twin (None when the grid is too small for the ratio)."""
    try:
        twin = make_twin(field, ratio, noise, seed=0)
        e2, _ = self_error(twin.observation, twin.degradation.sigma)
    except Exception:  # too small for the ratio, or for pooling once more: not part of the fit
        return None
    err = metrics.rmse(twin.ibp, twin.truth) ** 2
    return {"ratio": ratio, "noise": noise, "e2": e2, "s2": twin.degradation.sigma ** 2, "true": err}


def fit(rows: list[dict]) -> tuple[dict[int, float], dict[int, float]]:
    """T_r and G_r from (family, measurement) rows, each family of equal say."""
    transfer, leak = {}, {}
    for r in RATIOS:
        clean = [x for x in rows if x["ratio"] == r and x["noise"] == 0]
        fam = Counter(x["family"] for x in clean)
        w = np.array([1 / fam[x["family"]] for x in clean])
        lr = np.array([0.5 * np.log(x["true"] / x["e2"]) for x in clean])
        transfer[r] = float(np.exp(np.sum(w * lr) / w.sum()))
        noisy = [x for x in rows if x["ratio"] == r and x["noise"] > 0]
        fam = Counter(x["family"] for x in noisy)
        w = np.array([1 / fam[x["family"]] for x in noisy])
        g = np.array([(x["true"] - transfer[r] ** 2 * x["e2"]) / x["s2"] for x in noisy])
        order = np.argsort(g)
        median = g[order][np.searchsorted(np.cumsum(w[order]) / w.sum(), 0.5)]
        leak[r] = float(max(median, 0.0))
    return transfer, leak


def choose_pattern(fields: dict[str, tuple[str, Field]], prior: Prior) -> tuple[tuple[str, ...], float, list[str]]:
    """The pattern parts and weight (see the module docstring for the rule) on the design twins (×4, ×8, ×16; noise 0
    and 5 %), given the prior's fitted transfer; and a line per candidate."""
    scores: dict[tuple, list[tuple[str, float]]] = defaultdict(list)
    for _, (family, f) in fields.items():
        for r in (4, 8, 16):
            for noise in (0.0, 0.05):
                try:
                    twin = make_twin(f, r, noise, seed=0)
                    e2, smap = self_error(twin.observation, twin.degradation.sigma)
                except Exception:  # too small: not part of the choice
                    continue
                t, g = prior.at(r)
                level2 = t ** 2 * e2 + g * twin.degradation.sigma ** 2
                flat = metrics.gaussian_crps(twin.ibp, np.full_like(twin.truth, metrics.rmse(twin.ibp, twin.truth)),
                                             twin.truth)
                err = np.abs(twin.ibp - twin.truth)[twin.mask]
                for parts in PATTERN_CHOICES:
                    p2 = pattern(twin.ibp, smap, r, twin.mask, parts) ** 2
                    for w in PATTERN_WEIGHTS:
                        std = np.sqrt(level2 * (w * p2 + 1 - w))
                        crps = np.log(metrics.gaussian_crps(twin.ibp, std, twin.truth) / flat)
                        scores[(parts, w)].append((family, crps, float(np.mean(err <= 2 * std[twin.mask]))))
    mean, cover = {}, {}
    for key, vals in scores.items():
        fam = Counter(f for f, _, _ in vals)
        mean[key] = sum(v / fam[f] for f, v, _ in vals) / len(fam)
        cover[key] = sum(c / fam[f] for f, _, c in vals) / len(fam)
    # issue 23 asks for ±2σ coverage 0.90-0.98 as well as a low CRPS: among the candidates whose mean coverage is in
    # that range (all of them when none is) and whose CRPS is within 0.5 % of the lowest (closer is design-set noise),
    # the one whose coverage is nearest a Gaussian's 95 %
    ok = [k for k in mean if 0.90 <= cover[k] <= 0.98] or list(mean)
    low = min(mean[k] for k in ok)
    near = [k for k in ok if mean[k] <= low + np.log(1.005)]
    best = min(near, key=lambda k: (abs(cover[k] - 0.95), mean[k]))
    lines = [f"  {'+'.join(k[0])} @ {k[1]:g}: CRPS/flat {np.exp(v):.3f}, ±2σ coverage {cover[k]:.3f}"
             for k, v in sorted(mean.items())]
    return best[0], best[1], lines


def score_table(fields: dict[str, Field]) -> list[str]:
    """Markdown rows: the predictive std of each twin's IBP estimate scored against the truth."""
    lines = ["| field | prior | × | noise | RMSE cm | expected cm | spread/skill | ±2σ | CRPS / flat | corr |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, f in fields.items():
        for r in (8, 16):
            for noise in (0.0, 0.05):
                try:
                    twin = make_twin(f, r, noise, seed=0)
                    u = predictive_std(twin.ibp, twin.observation, twin.degradation, mask=twin.mask,
                                       spacing_km=min(f.spacing_km) if f.spacing_km else None)
                except Exception as exc:
                    lines.append(f"| {name} | – | {r} | {noise} | skipped: {exc} |")
                    continue
                s = metrics.calibration(u.std, twin.ibp, twin.truth)
                lines.append(f"| {name} | {u.prior} | {r} | {noise} | {100 * s['rmse']:.3f} | "
                             f"{100 * u.expected_rmse:.3f} | {s['spread_skill']:.2f} | {s['coverage_2sigma']:.3f} | "
                             f"{s['crps_cm'] / s['crps_flat_cm']:.3f} | {s['corr']:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    ap.add_argument("--write", action="store_true", help=f"store the constants in {CALIBRATION}")
    args = ap.parse_args(argv)
    t0 = time.time()
    rows = defaultdict(list)
    designs = {"mapped": {n: ("altimetry", f) for n, f in mapped_design(args.data).items()},
               "dynamic": dynamic_design()}
    for prior, fields in designs.items():
        for name, (family, f) in fields.items():
            assert choose_prior(min(f.spacing_km)) == prior, (name, f.spacing_km)
            for r in RATIOS:
                for noise in NOISES:
                    m = measure(f, r, noise)
                    if m is not None:
                        rows[prior].append({**m, "family": family, "name": name})
        print(f"{prior}: {len(fields)} fields, {len(rows[prior])} twins ({time.time() - t0:.0f} s)", file=sys.stderr)
    out = {"priors": {}, "made_by": "python scripts/calibrate_uncertainty.py --write",
           "design": {p: sorted(f) for p, f in designs.items()}}
    for prior in designs:
        transfer, leak = fit(rows[prior])
        parts, weight, lines = choose_pattern(designs[prior], Prior(prior, transfer, leak, 0.0))
        out["priors"][prior] = {"transfer": transfer, "noise_leak": leak, "pattern_parts": list(parts),
                                "pattern_weight": weight}
        print(f"{prior}: T_r {({r: round(v, 3) for r, v in transfer.items()})}  "
              f"G_r {({r: round(v, 3) for r, v in leak.items()})}  pattern {'+'.join(parts)} @ {weight:g}")
        print("\n".join(lines))
    if args.write:
        CALIBRATION.write_text(json.dumps(out, indent=1) + "\n")
        from dipcore.uncertainty.predictive import priors
        priors.cache_clear()
        print(f"wrote {CALIBRATION}")
    print("\n".join(score_table(validation(args.data))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
