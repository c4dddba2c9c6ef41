"""Where the deep image prior stands against bicubic and IBP: one markdown table row per field, ratio, noise and method.

    python scripts/standing.py [--cases gulfstream kuroshio mediterranean agulhas roms_txla turbulence]
                               [--ratios 8 16] [--noise 0 0.05] [--methods bicubic ibp paper skip decoder default:1
                               default:4] [--csv out.csv]

Methods: ``bicubic`` and ``ibp`` (classical, no network); a recipe name (``paper``, ``skip``, ``decoder``,
``consistent``, …, or ``default``) with ``:K`` for a K-member ensemble (K=1 when left out). Each fit runs the
recipe's own iteration count unless ``--iters`` is given. A case is a sample name (``name[:time][@y0:y1,x0:x1]``
as in ``ssh-dip experiment``) or ``turbulence[:seed][@y0:y1,x0:x1]``: a 256×256 synthetic decaying-turbulence field
(dipcore.synthetic) that no sample resembles. RMSE in cm and in units of the truth's std (nRMSE), SSIM with the
truth's range; for K > 1 the members' spread/skill and corr(|error|, std); for every fit, in the CSV, how the
calibrated ``uncertainty``, the members' spread and the earlier total std describe the error (spread/skill, corr,
±1σ/±2σ coverage, Gaussian CRPS, and the CRPS of a flat σ equal to the true RMSE), the truth-free expected RMSE,
the stop step and its reason. Seeds: noise and member k from 0 and k.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time

import numpy as np
import torch

from dipcore import metrics
from dipcore.experiments import parse_case
from dipcore.solver import get_recipe, run
from dipcore.io import Field
from dipcore.synthetic import turbulence
from dipcore.twin import make_twin


def load(spec: str) -> Field:
    """A sample case, or ``turbulence[:seed][@y0:y1,x0:x1]`` (2 km grid spacing, nominal)."""
    if spec.startswith("turbulence"):
        text, _, box = spec.partition("@")
        fld = Field.from_array(turbulence(256, seed=int(text.partition(":")[2] or 0)), name="turbulence", dx_km=2.0)
        if box:
            (y0, y1), (x0, x1) = (map(int, part.split(":")) for part in box.split(","))
            fld = fld.crop_index(y0, y1, x0, x1)
        return fld
    return parse_case(spec).load()


def row(case: str, twin, method: str, est: np.ndarray, std: np.ndarray | None, seconds: float, k: int) -> dict:
    truth = twin.truth
    sd = float(np.nanstd(truth))
    r = metrics.rmse(est, truth)
    return dict(case=case, ratio=twin.degradation.ratio, noise=twin.noise_fraction, method=method, members=k,
                rmse_cm=100 * r, nrmse=r / sd, ssim=metrics.ssim(est, truth),
                spread_skill=metrics.spread_skill(std, est, truth) if std is not None else float("nan"),
                corr=metrics.error_std_correlation(std, est, truth) if std is not None else float("nan"),
                seconds=seconds)


def calibration(twin, ev) -> dict:
    """How each per-pixel std of a fit describes its error: the calibrated ``uncertainty`` (``unc_``), the members'
    spread (``std_``), the earlier gradient-based total std (``tot_``), and the CRPS of a flat σ equal to the true
    RMSE (an oracle); the truth-free expected RMSE and the prior; the stop step and reason."""
    from dipcore.uncertainty import fit_stds

    out = {"iters": ev.step, "stop_reason": ev.stop_reason, "expected_rmse_cm": 100 * (ev.expected_rmse or np.nan),
           "prior": ev.uncertainty_prior}
    stds = fit_stds(twin, ev)
    for tag, std in (("unc", ev.uncertainty), ("std", ev.member_std), ("tot", stds[1] if stds else None)):
        if std is None:
            continue
        c = metrics.calibration(std, ev.estimate, twin.truth)
        out.update({f"{tag}_spread_skill": c["spread_skill"], f"{tag}_corr": c["corr"],
                    f"{tag}_cov1": c["coverage_1sigma"], f"{tag}_cov2": c["coverage_2sigma"],
                    f"{tag}_crps_cm": c["crps_cm"]})
        out["flat_crps_cm"] = c["crps_flat_cm"]
    if ev.uncertainty is not None:  # the reliability diagram: RMS error per decile of the predicted σ (cm)
        sig, err = metrics.spread_error_bins(ev.uncertainty, ev.estimate, twin.truth, bins=10)
        out["unc_bins_sigma_cm"] = json.dumps([round(100 * float(v), 4) for v in sig])
        out["unc_bins_rmse_cm"] = json.dumps([round(100 * float(v), 4) for v in err])
    return out


def write_csv(path: str, rows: list[dict]) -> None:
    """All rows so far, one column per key seen (fits add ``iters``)."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=["gulfstream", "kuroshio", "mediterranean", "agulhas",
                                                  "roms_txla", "turbulence"])
    p.add_argument("--ratios", type=int, nargs="+", default=[8, 16])
    p.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.05])
    p.add_argument("--methods", nargs="+", default=["bicubic", "ibp", "paper", "skip", "decoder", "default:1",
                                                    "default:4"])
    p.add_argument("--iters", type=int, default=None, help="override every recipe's iteration count")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--csv")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    rows = []
    print("| case | × | noise | method | K | RMSE cm | nRMSE | SSIM | spread/skill | corr | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for c in a.cases:
        fld = load(c)
        for r in a.ratios:
            for nz in a.noise:
                tw = make_twin(fld, r, nz, seed=0)
                for m in a.methods:
                    t = time.perf_counter()
                    if m in ("bicubic", "ibp"):
                        res = row(c, tw, m, tw.bicubic if m == "bicubic" else tw.ibp, None, 0.0, 0)
                    else:
                        name, _, k = m.partition(":")
                        k = int(k or 1)
                        rec = get_recipe(name)
                        ev = run(tw.observation, tw.degradation, recipe=rec, members=k, iters=a.iters, seed=0,
                                 device="cpu", every=10 ** 6, dx_km=tw.dx_km)
                        label = f"{name} ({rec.name}, {rec.arch})" if name == "default" else name
                        res = row(c, tw, label, ev.estimate, ev.member_std, time.perf_counter() - t, k)
                        res.update(calibration(tw, ev))
                    rows.append(res)
                    if a.csv:  # after every row: a run stopped half-way keeps what it measured
                        write_csv(a.csv, rows)
                    print(f"| {c} | {r} | {nz:g} | {res['method']} | {res['members'] or ''} | {res['rmse_cm']:.3f} "
                          f"| {res['nrmse']:.4f} | {res['ssim']:.4f} | {res['spread_skill']:.2f} | "
                          f"{res['corr']:.2f} | {res['seconds']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
