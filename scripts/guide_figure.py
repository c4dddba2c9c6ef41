"""The README's figure of a real SST-guided downscaling (no truth): the Black Sea ADT of 2016-07-07 at 1/8°, the
Copernicus L4 SST of the same day at 1/24° as its guide, and the ×4 estimate with its uncertainty.

    python scripts/guide_figure.py [--factor 4] [--members 4] [--out docs/guided_blacksea.png] [--nc OUT.nc]

Runs :func:`dipcore.downscale.downscale` with the guide read from ``../shared/data`` (the same as
``ssh-dip downscale ADT --var adt --factor 4 --guide SST``) and draws the four maps with the gate's decision in the
title; the printed lines give the numbers quoted in the README.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
ADT = DATA / "dt_blacksea_allsat_phy_l4_20160707_20200801.nc"
SST = DATA / "20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc"


def draw(ds, guide_src, out: Path) -> None:
    """Four maps: the coarse ADT, the SST guide on its own grid, the estimate and its uncertainty (cm)."""
    import cmocean
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 6.4), constrained_layout=True)
    obs = ds["observation"]
    lon_lr, lat_lr = ds["longitude_lr"].values, ds["latitude_lr"].values
    lon, lat = ds["longitude"].values, ds["latitude"].values
    est = 100 * ds["estimate"].values
    lim = (np.nanmin(est), np.nanmax(est))
    g = guide_src.data
    panels = [
        (axes[0, 0], lon_lr, lat_lr, 100 * obs.values, cmocean.cm.balance, lim, "cm",
         "ADT (observation), DUACS L4 1/8°"),
        (axes[0, 1], g["lon"].values, g["lat"].values, g.values, cmocean.cm.thermal, None, "°C",
         "guide: L4 foundation SST, 1/24° (CNR ISAC GOS)"),
        (axes[1, 0], lon, lat, est, cmocean.cm.balance, lim, "cm",
         f"estimate ×{ds.attrs['factor']} (1/{8 * ds.attrs['factor']}°), recipe {ds.attrs['recipe']}"),
        (axes[1, 1], lon, lat, 100 * ds["uncertainty"].values, cmocean.cm.amp,
         (0, float(np.nanpercentile(100 * ds["uncertainty"].values, 99))), "cm",  # a few coastal cells saturate
         f"uncertainty (1σ; expected RMSE {100 * ds.attrs['expected_rmse_m']:.2f} cm)"),
    ]
    for ax, x, y, v, cmap, clim, unit, title in panels:
        kw = {} if clim is None else {"vmin": clim[0], "vmax": clim[1]}
        im = ax.pcolormesh(x, y, v, cmap=cmap, shading="nearest", **kw)
        ax.set_facecolor("0.8")
        ax.set_xlim(lon.min(), lon.max())
        ax.set_ylim(lat.min(), lat.max())
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("longitude (°E)")
        ax.set_ylabel("latitude (°N)")
        fig.colorbar(im, ax=ax, label=unit, shrink=0.9)
    fig.suptitle(f"Black Sea, 2016-07-07: SST-guided downscaling ×{ds.attrs['factor']} (no truth)\n"
                 f"{ds.attrs['guide_message']}\nGenerated using E.U. Copernicus Marine Service Information",
                 fontsize=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--factor", type=int, default=4)
    p.add_argument("--members", type=int, default=4)
    p.add_argument("--iters", type=int, default=None, help="iterations (default: the recipe's)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(ROOT / "docs" / "guided_blacksea.png"))
    p.add_argument("--nc", help="also write the downscaled result here")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from dipcore.downscale import downscale, open_coarse
    from dipcore.export import write_netcdf
    from dipcore.guide import load_guide

    da, prov = open_coarse(ADT, var="adt")
    snap = da.isel({da.dims[0]: 0})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        src = load_guide(SST, when=str(snap["time"].values)[:19])
        ds = downscale(snap, a.factor, members=a.members, device="cpu", guide=src, provenance=prov, iters=a.iters,
                       history="python scripts/guide_figure.py")
    for w in said:
        print(f"warning: {w.message}")
    print(f"x{a.factor} K={a.members}: {ds.attrs['guide_message']} (coverage {ds.attrs['guide_coverage']:.3f}, "
          f"time offset {ds.attrs.get('guide_time_offset_days')} d); recipe run {ds.attrs['recipe']}, "
          f"{ds.attrs['iters']} steps, {ds.attrs['seconds']:.0f} s; expected RMSE "
          f"{100 * ds.attrs['expected_rmse_m']:.2f} cm; misfit RMS {100 * ds.attrs['misfit_rms_m']:.2g} cm")
    if a.nc:
        write_netcdf(ds, a.nc)
    draw(ds, src, Path(a.out))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
