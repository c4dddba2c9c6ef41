"""``ssh-dip downscale``: downscale real coarse SSH (no truth): one time step in this process, several on Dask
(:mod:`dipcore.downscale.batch`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dipcore.cli.validators import at_least, option
from dipcore.constants import PRIORS, RATIOS
from dipcore.errors import SSHDipError
from dipcore.cli.fit import add_guide_options
from dipcore.recipes import DEFAULT_MEMBERS, DEFAULT_RECIPE, GUIDED_RECIPES, RECIPES
from dipcore.samples import SAMPLES


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``downscale`` subcommand to the ``ssh-dip`` subparsers ``sub``."""
    d = sub.add_parser("downscale", help="downscale a real coarse SSH map (no truth), or a time series on Dask")
    d.add_argument("input", help="NetCDF path or sample name (" + ", ".join(SAMPLES) + "), taken as the coarse field")
    d.add_argument("--factor", type=int, required=True, choices=RATIOS, help="refinement factor of each axis")
    d.add_argument("--var", help="SSH variable name (default: detected by CF standard_name, then name)")
    when = d.add_mutually_exclusive_group()
    when.add_argument("--time", type=int, default=None, help="one time index of a 3-D variable (default 0)")
    when.add_argument("--times", metavar="START:STOP|all",
                      help="several time steps (Python slice, STOP excluded, or 'all'): run on Dask")
    d.add_argument("--level", type=int, default=None, metavar="N",
                   help="index along a variable's extra non-time dimension, e.g. depth (default: the shallowest)")
    d.add_argument("--crop", type=float, nargs=4, metavar=("LAT0", "LAT1", "LON0", "LON1"), help="geographic box")
    d.add_argument("--index-crop", type=int, nargs=4, metavar=("Y0", "Y1", "X0", "X1"), help="index box")
    d.add_argument("--members", type=option("members"), default=DEFAULT_MEMBERS,
                   help=f"ensemble size K (default {DEFAULT_MEMBERS}; K > 1 gives the ensemble std)")
    d.add_argument("--recipe", choices=sorted({**RECIPES, **GUIDED_RECIPES}), default=DEFAULT_RECIPE,
                   help="fit recipe")
    add_guide_options(d)
    d.add_argument("--iters", type=option("iters"), default=None, help="iterations (default: the recipe's)")
    d.add_argument("--seed", type=int, default=0, help="seed of the members' initialisation (every snapshot)")
    d.add_argument("--noise-sigma", type=option("noise_sigma"), default=0.0,
                   help="known noise std of the input in metres (default 0)")
    d.add_argument("--keep-members", action="store_true", help="also write every member's field")
    d.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    d.add_argument("--uncertainty-prior", default="auto", choices=("auto", *PRIORS),
                   help="what lies below the coarse cell, for the 'uncertainty' map: auto (by the fine grid "
                        "spacing: 8 km or coarser is a mapped field), mapped (gridded altimetry, smooth below its "
                        "mapping scale) or dynamic (model or turbulence fields, energetic down to the grid)")
    where = d.add_mutually_exclusive_group()
    where.add_argument("--workers", type=at_least(int, 1), default=None,
                       help="Dask local cluster of N worker processes, 1 thread each (default: CPU cores)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler (tcp://host:8786)")
    d.add_argument("--retries", type=at_least(int, 0), default=2, help="retries of a snapshot that raised")
    d.add_argument("--out", required=True, help="result NetCDF path (a time series keeps its parts in OUT.parts/)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_downscale)
    return d


def cmd_downscale(args: argparse.Namespace) -> int:
    """Downscale real coarse SSH: one time step in this process, several on Dask (dipcore.downscale.batch)."""
    import os

    from dipcore.downscale import open_coarse
    from dipcore.samples import get_sample
    from dipcore.solver import resolve_device

    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise SSHDipError(f"cannot write the result to {out}: the folder {out.parent} does not exist" if not
                          out.is_dir() else f"--out {out} is a folder; give a file name like result.nc")
    source = args.input if Path(args.input).exists() or args.input not in SAMPLES else get_sample(args.input).path
    if not Path(source).exists():
        raise SSHDipError(f"{args.input!r} is neither an existing file nor a sample (samples: {', '.join(SAMPLES)})")
    # a remote cluster may have GPUs this machine lacks: its workers check the device
    device = args.device if args.scheduler else str(resolve_device(args.device))
    times = args.times if args.times is not None else (args.time if args.time is not None else 0)
    if args.guide and args.times is not None:
        raise SSHDipError("--guide takes one map: downscale one time step (--time N) with it, not --times")
    da, prov = open_coarse(source, var=args.var, times=times, crop=args.crop, index_crop=args.index_crop,
                           level=args.level)
    prov["input"] = args.input
    opts = dict(members=args.members, recipe=args.recipe, seed=args.seed, device=device, iters=args.iters,
                keep_members=args.keep_members, noise_sigma=args.noise_sigma, provenance=prov,
                history=args.command_line, uncertainty_prior=args.uncertainty_prior)
    nt, h, w = da.shape
    f = args.factor
    if nt == 1 and args.times is None:
        from tqdm import tqdm

        from dipcore.downscale import downscale
        from dipcore.export import write_netcdf

        with tqdm(total=None, disable=args.quiet, unit="it", file=sys.stderr, desc=f"downscale ×{f}") as bar:
            def progress(ev):
                bar.total = ev.iters
                bar.update(ev.step - bar.n)
                bar.set_postfix(loss=f"{ev.loss.mean():.2e}")

            snap = da.isel({da.dims[0]: 0})
            ds = downscale(snap, f, progress=progress, guide=_guide_source(args, snap), **opts)
        try:
            write_netcdf(ds, out)
        except OSError as exc:
            raise SSHDipError(f"cannot write {out}: {exc}") from exc
        a = ds.attrs
        print(f"×{f} {h}×{w} → {h * f}×{w * f}, K={args.members}, {a['iters']} iters, {a['seconds']:.1f} s on "
              f"{a['device']}" + (f", time {a['input_time']}" if "input_time" in a else ""))
        if "expected_rmse_m" in a:
            print(f"uncertainty: expected RMSE ≈ {100 * a['expected_rmse_m']:.2f} cm (calibrated on the input alone, "
                  f"prior '{a['uncertainty_prior']}'; the per-cell map is 'uncertainty')")
        if "guide_message" in a:
            print(f"guide: {a['guide_file']}:{a['guide_variable']} ({100 * a['guide_coverage']:.0f} % coverage): "
                  f"{a['guide_message']}")
        print(f"misfit of the estimate's block means to the input: RMS {100 * a['misfit_rms_m']:.3g} cm, "
              f"max {100 * a['misfit_max_abs_m']:.3g} cm (the answer is made consistent with the input)")
        print(f"wrote {out}")
        return 0

    from dipcore.downscale import downscale_batch, parts_folder

    workers = args.workers or max(1, min(nt, os.cpu_count() or 1))
    res = downscale_batch(da, f, out, workers=workers, scheduler=args.scheduler, retries=args.retries,
                          progress=not args.quiet, **opts)
    print(f"×{f} {h}×{w} → {h * f}×{w * f}, K={args.members}: {nt} snapshots, {len(res.computed)} computed, "
          f"{len(res.reused)} reused, {len(res.skipped)} skipped, {len(res.failed)} failed, {res.seconds:.1f} s")
    if res.path is not None:
        print(f"wrote {res.path} (parts in {parts_folder(out)})")
        if res.expected_rmse_m is not None:
            print(f"uncertainty: expected RMSE ≈ {100 * res.expected_rmse_m:.2f} cm over the series (the per-cell "
                  "map is 'uncertainty')")
    if res.failed:
        print(f"ssh-dip: {len(res.failed)} snapshot(s) failed; run the same command again to retry only them",
              file=sys.stderr)
        return 1
    return 0


def _guide_source(args: argparse.Namespace, snap):
    """The ``--guide`` map as read (its time step the nearest the snapshot's), None without one."""
    if not args.guide:
        return None
    from dipcore.guide import load_guide, parse_guide_spec
    from dipcore.guide.reading import time_of

    path, var = parse_guide_spec(args.guide)
    return load_guide(path, var=var, time=args.guide_time, when=time_of(snap))


__all__ = ["add_parser", "cmd_downscale"]
