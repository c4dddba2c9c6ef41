"""The sweeps' PNG figures (matplotlib with the Agg backend: no display needed, no UI library in dipcore)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dipcore import metrics
from dipcore.constants import RATIOS
from dipcore.style import CM, ERROR_CMAP, SSH_CMAP, STD_CMAP, cmap
from dipcore.experiments.tables import ENSEMBLE_METHODS, ratios_summary

if TYPE_CHECKING:
    from dipcore.io import Field

_SCORES = (("rmse_cm", "RMSE (cm)"), ("ssim", "SSIM"), ("nrmse", "nRMSE score µ (1 = perfect)"),
           ("eff_res_km", "effective resolution (km)"))


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _origin(fld: Field) -> str:
    """``lower`` when latitude grows with the row index (so north is up), else ``upper``."""
    da = fld.data
    for name in ("latitude", "lat", "nav_lat", "lat_rho", da.dims[0]):
        if name in da.coords:
            v = np.asarray(da.coords[name].values, dtype=np.float64)
            col = v[:, 0] if v.ndim == 2 else v
            if col.ndim == 1 and col.size > 1 and np.isfinite(col[[0, -1]]).all():
                return "lower" if col[-1] > col[0] else "upper"
    return "lower"


def _map(ax, values: np.ndarray, fld: Field, name: str, vmin: float, vmax: float, title: str):
    """One map panel in the cmocean map ``name`` (:mod:`dipcore.style`), land (NaN) grey; returns the image."""
    _plt()
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap(name), vmin=vmin, vmax=vmax, origin=_origin(fld),
                   interpolation="nearest", aspect="auto")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _robust_max(*arrays: np.ndarray, q: float = 99.0) -> float:
    vals = np.concatenate([np.abs(a[np.isfinite(a)]).ravel() for a in arrays])
    return float(np.percentile(vals, q)) if vals.size else 1.0


def plot_ratios(table: pd.DataFrame, path: Path, recipe: str) -> Path:
    """Four panels (RMSE, SSIM, nRMSE, effective resolution) against the ratio; DIP vs bicubic, one line style
    per noise level; means over the cases that fit each ratio."""
    plt = _plt()
    summ = ratios_summary(table)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    colors = {"dip": "C0", "bicubic": "C1", "ibp": "C3"}
    names = {"dip": "DIP", "bicubic": "bicubic", "ibp": "IBP"}
    for ax, (key, label) in zip(axes.ravel(), _SCORES):
        for ni, noise in enumerate(sorted(summ["noise"].unique())):
            for method in ("dip", "ibp", "bicubic"):
                d = summ[(summ["noise"] == noise) & (summ["method"] == method)].sort_values("ratio")
                if d.empty or not np.isfinite(d[key]).any():
                    continue
                ax.plot(d["ratio"], d[key], styles[ni % 4], marker="o", color=colors[method],
                        label=f"{names[method]}, noise {noise:g}·std")
        ax.set_xscale("log", base=2)
        ticks = sorted(summ["ratio"].unique()) if not summ.empty else list(RATIOS)
        ax.set_xticks(ticks, [f"×{t}" for t in ticks])
        ax.set_xlabel("downscaling ratio")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    n = table["case"].nunique()
    fig.suptitle(f"Scores vs downscaling ratio, mean of {n} case(s), recipe '{recipe}' (cf. paper Fig. 3)")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_ratio_maps(maps: dict[int, dict], path: Path, case: str, noise: float) -> Path:
    """Per ratio: the DIP estimate and the DIP and bicubic errors, for the first case (cf. paper Fig. 4 and 7)."""
    plt = _plt()
    ratios = sorted(maps)
    fig, axes = plt.subplots(3, len(ratios), figsize=(max(6.5, 2.6 * len(ratios) + 1.2), 6.6), squeeze=False,
                             constrained_layout=True)
    truth = maps[ratios[0]]["truth"]
    lo, hi = CM * float(np.nanmin(truth)), CM * float(np.nanmax(truth))
    errs = [m[k] - m["truth"] for m in maps.values() for k in ("dip", "bicubic")]
    emax = CM * _robust_max(*errs)
    ims = []
    for j, r in enumerate(ratios):
        m = maps[r]
        ims.append(_map(axes[0, j], CM * m["dip"], m["field"], SSH_CMAP, lo, hi, f"DIP estimate ×{r}"))
        ims.append(_map(axes[1, j], CM * (m["dip"] - m["truth"]), m["field"], ERROR_CMAP, -emax, emax,
                        f"DIP error ×{r}"))
        ims.append(_map(axes[2, j], CM * (m["bicubic"] - m["truth"]), m["field"], ERROR_CMAP, -emax, emax,
                        f"bicubic error ×{r}"))
    fig.colorbar(ims[0], ax=list(axes[0]), label="SSH (cm)", shrink=0.9)
    fig.colorbar(ims[1], ax=list(axes[1:].ravel()), label="estimate − truth (cm)", shrink=0.9)
    fig.suptitle(f"{case}, noise {noise:g}·std: estimates and errors per ratio (land grey)",
                 fontsize=10 if len(ratios) > 2 else 9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_ensemble_size(table: pd.DataFrame, path: Path, recipe: str) -> Path:
    """RMSE and SSIM against k: mean of the first k members vs the mean and best member, bicubic as a line."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    labels = {"ensemble_mean": "mean of first k members", "mean_member": "average single-member score",
              "best_member": "best of the k members", "bicubic": "bicubic", "ibp": "IBP (no network)"}
    styles = {"ensemble_mean": ("C0", "-o"), "mean_member": ("C2", "--s"), "best_member": ("C4", ":^"),
              "bicubic": ("C1", "-"), "ibp": ("C3", "-")}
    groups = table.groupby(["ratio", "noise"])
    for (r, noise), d in groups:
        mean = d.groupby(["k", "method"])[["rmse_cm", "ssim"]].mean().reset_index()
        for ax, key, lab in ((axes[0], "rmse_cm", "RMSE (cm)"), (axes[1], "ssim", "SSIM")):
            for method in ENSEMBLE_METHODS:
                e = mean[mean["method"] == method]
                if e.empty:  # tables written before IBP was a baseline
                    continue
                color, style = styles[method]
                tag = f" (×{r}, noise {noise:g})" if len(groups) > 1 else ""
                ax.plot(e["k"], e[key], style, color=color, label=labels[method] + tag, markersize=4)
            ax.set_xticks(sorted(int(k) for k in table["k"].unique()))  # members are whole numbers
            ax.set_xlabel("number of members k")
            ax.set_ylabel(lab)
            ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    desc = ", ".join(f"×{r} noise {n:g}" for r, n in groups.groups)
    fig.suptitle(f"Ensemble size, {table['case'].nunique()} case(s), {desc}, recipe '{recipe}' "
                 "(cf. paper Fig. 5)")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_uncertainty_maps(twin, final, path: Path, title: str, total: np.ndarray | None = None) -> Path:
    """Truth, estimate, |errors|, ensemble and latent std (one colour scale) and the calibrated ``total`` std
    (:func:`dipcore.uncertainty.fit_stds`; its panel stays blank without it)."""
    plt = _plt()
    fld = twin.field
    err = np.abs(final.estimate - twin.truth)
    fig, axes = plt.subplots(2, 4, figsize=(17, 6.5), constrained_layout=True)
    lo, hi = CM * float(np.nanmin(twin.truth)), CM * float(np.nanmax(twin.truth))
    im = _map(axes[0, 0], CM * twin.truth, fld, SSH_CMAP, lo, hi, "truth")
    fig.colorbar(im, ax=axes[0, 0], label="SSH (cm)")
    im = _map(axes[0, 1], CM * final.estimate, fld, SSH_CMAP, lo, hi, "DIP estimate (ensemble mean)")
    fig.colorbar(im, ax=axes[0, 1], label="SSH (cm)")
    emax = CM * _robust_max(err)
    im = _map(axes[0, 2], CM * np.abs(twin.bicubic - twin.truth), fld, STD_CMAP, 0, emax, "|bicubic error|")
    fig.colorbar(im, ax=axes[0, 2], label="cm")
    im = _map(axes[0, 3], CM * err, fld, STD_CMAP, 0, emax, "|DIP error|")
    fig.colorbar(im, ax=axes[0, 3], label="cm")
    smax = CM * _robust_max(final.member_std, final.latent_std)
    for ax, std, name in ((axes[1, 0], final.member_std, "ensemble std"),
                          (axes[1, 1], final.latent_std, "latent-sample std")):
        c = metrics.error_std_correlation(std, final.estimate, twin.truth)
        im = _map(ax, CM * std, fld, STD_CMAP, 0, smax, f"{name} (corr. with |error| {c:.2f})")
        fig.colorbar(im, ax=ax, label="cm")
    if total is not None:
        c = metrics.error_std_correlation(total, final.estimate, twin.truth)
        ss = metrics.spread_skill(total, final.estimate, twin.truth)
        im = _map(axes[1, 2], CM * total, fld, STD_CMAP, 0, emax,
                  f"total std, |error| scale (corr. {c:.2f}, spread/skill {ss:.2f})")
        fig.colorbar(im, ax=axes[1, 2], label="cm")
    else:
        axes[1, 2].set_axis_off()
    axes[1, 3].set_axis_off()
    fig.suptitle(f"Uncertainty, {title} (land grey; cf. paper Fig. 6). Total std = ensemble std and the "
                 "calibrated sub-grid std in quadrature")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_spread_error(twin, final, path: Path, title: str) -> Path:
    """Binned spread vs RMS error for both spreads, with the 1:1 line of a calibrated spread."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5), constrained_layout=True)
    top = 0.0
    for std, label, color in ((final.member_std, "ensemble std", "C0"), (final.latent_std, "latent std", "C3")):
        s, e = metrics.spread_error_bins(std, final.estimate, twin.truth)
        ax.plot(100 * s, 100 * e, "o-", color=color, label=label)
        top = max(top, float(np.nanmax(100 * s, initial=0)), float(np.nanmax(100 * e, initial=0)))
    ax.plot([0, top], [0, top], "k--", lw=1, label="1:1 (calibrated)")
    ax.set_xlabel("mean std in bin (cm)")
    ax.set_ylabel("RMS error in bin (cm)")
    ax.set_title(f"Spread vs error (10 std quantile bins)\n{title}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["plot_ensemble_size", "plot_ratio_maps", "plot_ratios", "plot_spread_error", "plot_uncertainty_maps"]
