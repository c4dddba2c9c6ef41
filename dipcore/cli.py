"""``ssh-dip``: inspect SSH files and run deep-image-prior fits from the shell.

Bad input exits with code 2 and one line on stderr (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Sequence

from dipcore.constants import RATIOS
from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors on one line (exit 2) instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"ssh-dip: error: {message} (see {self.prog} --help)\n")


def _positive(kind: type, minimum: float):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not value >= minimum:  # also refuses NaN
            raise argparse.ArgumentTypeError(f"{text!r} must be ≥ {minimum}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The ``ssh-dip`` argument parser (subcommands ``samples``, ``inspect``, ``fit``, ``experiment``)."""
    from dipcore.recipes import DEFAULT_MEMBERS, DEFAULT_RECIPE, RECIPES
    from dipcore.generators import ARCHITECTURES

    p = _Parser(prog="ssh-dip", description="Downscale sea surface height with a deep image prior.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("samples", help="list the embedded sample fields")
    s.set_defaults(func=cmd_samples)

    i = sub.add_parser("inspect", help="describe the SSH variable of a NetCDF file or sample")
    i.add_argument("file", help="NetCDF path or sample name")
    i.add_argument("--var", help="variable name (default: detected)")
    i.add_argument("--json", action="store_true", help="print JSON instead of text")
    i.set_defaults(func=cmd_inspect)

    f = sub.add_parser("fit", help="degrade a field, fit the deep image prior, write a NetCDF result")
    f.add_argument("input", help="NetCDF path or sample name (" + ", ".join(SAMPLES) + ")")
    f.add_argument("--ratio", type=int, required=True, choices=RATIOS, help="downscaling ratio")
    f.add_argument("--var", help="SSH variable name (default: detected by CF standard_name, then name)")
    f.add_argument("--time", type=int, default=0, help="time index of a 3-D variable (default 0)")
    f.add_argument("--crop", type=float, nargs=4, metavar=("LAT0", "LAT1", "LON0", "LON1"),
                   help="geographic box")
    f.add_argument("--index-crop", type=int, nargs=4, metavar=("Y0", "Y1", "X0", "X1"), help="index box")
    f.add_argument("--noise", type=_positive(float, 0.0), default=0.0,
                   help="noise std as a fraction of the field's std (0.05 = 5%%)")
    f.add_argument("--members", type=_positive(int, 1), default=DEFAULT_MEMBERS,
                   help=f"ensemble size K (default {DEFAULT_MEMBERS}; K > 1 gives the ensemble std)")
    f.add_argument("--latent-samples", type=_positive(int, 0), default=0, help="latent draws M at the end")
    f.add_argument("--iters", type=_positive(int, 1), default=None, help="iterations (default: the recipe's)")
    f.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                   help=f"fit recipe (default {DEFAULT_RECIPE}: " + RECIPES[DEFAULT_RECIPE].description + ")")
    f.add_argument("--arch", choices=ARCHITECTURES, default=None,
                   help="generator architecture (default: the recipe's, "
                        f"{RECIPES[DEFAULT_RECIPE].arch} for {DEFAULT_RECIPE}); the recipe's optimiser is kept")
    f.add_argument("--seed", type=int, default=0, help="seed of noise, initialisation and latents")
    f.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    f.add_argument("--out", required=True, help="result NetCDF path")
    f.add_argument("--summary", help="also write scores and run facts as JSON here")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_fit)

    d = sub.add_parser("downscale", help="downscale a real coarse SSH map (no truth), or a time series on Dask")
    d.add_argument("input", help="NetCDF path or sample name (" + ", ".join(SAMPLES) + "), taken as the coarse field")
    d.add_argument("--factor", type=int, required=True, choices=RATIOS, help="refinement factor of each axis")
    d.add_argument("--var", help="SSH variable name (default: detected by CF standard_name, then name)")
    when = d.add_mutually_exclusive_group()
    when.add_argument("--time", type=int, default=None, help="one time index of a 3-D variable (default 0)")
    when.add_argument("--times", metavar="START:STOP|all",
                      help="several time steps (Python slice, STOP excluded, or 'all'): run on Dask")
    d.add_argument("--crop", type=float, nargs=4, metavar=("LAT0", "LAT1", "LON0", "LON1"), help="geographic box")
    d.add_argument("--index-crop", type=int, nargs=4, metavar=("Y0", "Y1", "X0", "X1"), help="index box")
    d.add_argument("--members", type=_positive(int, 1), default=DEFAULT_MEMBERS,
                   help=f"ensemble size K (default {DEFAULT_MEMBERS}; K > 1 gives the ensemble std)")
    d.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE, help="fit recipe")
    d.add_argument("--iters", type=_positive(int, 1), default=None, help="iterations (default: the recipe's)")
    d.add_argument("--seed", type=int, default=0, help="seed of the members' initialisation (every snapshot)")
    d.add_argument("--noise-sigma", type=_positive(float, 0.0), default=0.0,
                   help="known noise std of the input in metres (default 0)")
    d.add_argument("--keep-members", action="store_true", help="also write every member's field")
    d.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    where = d.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive(int, 1), default=None,
                       help="Dask local cluster of N worker processes, 1 thread each (default: CPU cores)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler (tcp://host:8786)")
    d.add_argument("--retries", type=_positive(int, 0), default=2, help="retries of a snapshot that raised")
    d.add_argument("--out", required=True, help="result NetCDF path (a time series keeps its parts in OUT.parts/)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_downscale)

    try:
        from dipcore import experiments
    except ImportError:  # the experiments module is optional to the rest of the CLI
        experiments = None
    if experiments is not None and hasattr(experiments, "add_parser"):
        experiments.add_parser(sub)
    return p


def _load(source: str, **kwargs):
    from dipcore.io import load_field
    from dipcore.samples import load_sample

    if Path(source).exists() or source not in SAMPLES:
        if not Path(source).exists() and not source.endswith((".nc", ".nc4", ".cdf", ".netcdf")) and \
                "/" not in source:
            raise SSHDipError(f"{source!r} is neither an existing file nor a sample "
                              f"(samples: {', '.join(SAMPLES)})")
        return load_field(source, **kwargs)
    return load_sample(source, **kwargs)


def cmd_samples(args: argparse.Namespace) -> int:
    for s in SAMPLES.values():
        print(f"{s.name:14s} {s.title}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from dipcore.io import inspect_file
    from dipcore.samples import get_sample

    path = args.file if Path(args.file).exists() or args.file not in SAMPLES else get_sample(args.file).path
    if not Path(path).exists():
        raise SSHDipError(f"{args.file!r} is neither an existing file nor a sample "
                          f"(samples: {', '.join(SAMPLES)})")
    info = inspect_file(path, var=args.var)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    sp = info["spacing_km"]
    print(f"file:          {info['file']}")
    print(f"variable:      {info['variable']}" + (f"  ({info['standard_name']})" if info["standard_name"] else ""))
    print(f"dims:          {' × '.join(f'{d}={n}' for d, n in zip(info['dims'], info['shape']))}")
    print(f"grid:          {info['grid'][0]} × {info['grid'][1]}")
    print(f"resolution:    " + (f"dy {sp[0]:.2f} km, dx {sp[1]:.2f} km" if sp else "unknown (no lat/lon)"))
    print(f"units:         {info['units']} (loaded as metres)")
    print(f"land fraction: {info['land_fraction']:.1%}")
    print(f"time steps:    {info['time_steps']}")
    if len(info["candidates"]) > 1:
        print(f"other grids:   {', '.join(c for c in info['candidates'] if c != info['variable'])}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from dipcore.export import result_dataset, summary, write_netcdf
    from dataclasses import replace

    from dipcore.solver import fit, get_recipe, resolve_device
    from dipcore.twin import make_twin

    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise SSHDipError(f"cannot write the result to {out}: the folder {out.parent} does not exist" if not
                          out.is_dir() else f"--out {out} is a folder; give a file name like result.nc")
    device = resolve_device(args.device)
    field = _load(args.input, var=args.var, time=args.time, crop=args.crop, index_crop=args.index_crop)
    twin = make_twin(field, args.ratio, args.noise, seed=args.seed)
    config = {"input": args.input, "variable": field.name, "time": args.time, "crop": args.crop,
              "index_crop": args.index_crop, "ratio": args.ratio, "noise": args.noise, "members": args.members,
              "latent_samples": args.latent_samples, "iters": args.iters, "recipe": args.recipe,
              "seed": args.seed, "device": str(device)}
    recipe = get_recipe(args.recipe)
    if args.arch and args.arch != recipe.arch:
        recipe = replace(recipe, arch=args.arch, arch_opts=())
    config["arch"] = recipe.arch
    events = fit(twin.observation, twin.degradation, recipe, members=args.members,
                 latent_samples=args.latent_samples, iters=args.iters, seed=args.seed, device=device,
                 every=10, truth=twin.truth, dx_km=twin.dx_km, keep_members=args.members > 1)
    final = None
    seen = []
    with tqdm(total=None, disable=args.quiet, unit="it", file=sys.stderr, desc=f"fit ×{args.ratio}") as bar:
        for final in events:
            seen.append(final)
            bar.total = final.iters
            bar.update(final.step - bar.n)
            bar.set_postfix(loss=f"{final.loss.mean():.2e}", rmse_cm=f"{100 * final.metrics['rmse']:.2f}")
    config["iters"] = final.step
    try:
        write_netcdf(result_dataset(twin, final, config, history=args.command_line), out)
    except OSError as exc:
        raise SSHDipError(f"cannot write {out}: {exc}") from exc
    facts = summary(twin, final, config, events=seen)
    if args.summary:
        try:
            Path(args.summary).write_text(json.dumps(facts, indent=2))
        except OSError as exc:
            raise SSHDipError(f"cannot write {args.summary}: {exc}") from exc
    r, s = facts["rmse"], facts["ssim"]
    print(f"×{args.ratio} {field.shape[0]}×{field.shape[1]} K={args.members} {final.step} iters "
          f"{facts['seconds']:.1f} s on {facts['device']}")
    print(f"RMSE  DIP {100 * r['estimate']:.2f} cm   IBP {100 * r['ibp']:.2f} cm   bicubic {100 * r['bicubic']:.2f} cm")
    print(f"SSIM  DIP {s['estimate']:.4f}     IBP {s['ibp']:.4f}     bicubic {s['bicubic']:.4f}")
    print(verdict(facts))
    if "uncertainty" in facts:
        u = facts["uncertainty"]["ensemble"]
        print(f"std   members' spread/skill {u['spread_skill']:.2f}, corr(|error|, std) {u['corr']:.2f} ('std')")
    if "total_std_spread_skill" in facts:
        print(f"      total std spread/skill {facts['total_std_spread_skill']:.2f}, corr(|error|, std) "
              f"{facts['total_std_corr_abs_error']:.2f} (members and calibrated sub-grid std, 'total_std')")
    print(f"wrote {out}" + (f" and {args.summary}" if args.summary else ""))
    return 0


def cmd_downscale(args: argparse.Namespace) -> int:
    """Downscale real coarse SSH: one time step in this process, several on Dask (dipcore.batch)."""
    import os

    from dipcore.downscale import open_coarse
    from dipcore.solver import resolve_device
    from dipcore.samples import get_sample

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
    da, prov = open_coarse(source, var=args.var, times=times, crop=args.crop, index_crop=args.index_crop)
    prov["input"] = args.input
    opts = dict(members=args.members, recipe=args.recipe, seed=args.seed, device=device, iters=args.iters,
                keep_members=args.keep_members, noise_sigma=args.noise_sigma, provenance=prov,
                history=args.command_line)
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

            ds = downscale(da.isel({da.dims[0]: 0}), f, progress=progress, **opts)
        try:
            write_netcdf(ds, out)
        except OSError as exc:
            raise SSHDipError(f"cannot write {out}: {exc}") from exc
        a = ds.attrs
        print(f"×{f} {h}×{w} → {h * f}×{w * f}, K={args.members}, {a['iters']} iters, {a['seconds']:.1f} s on "
              f"{a['device']}" + (f", time {a['input_time']}" if "input_time" in a else ""))
        print(f"misfit of the estimate's block means to the input: RMS {100 * a['misfit_rms_m']:.3g} cm, "
              f"max {100 * a['misfit_max_abs_m']:.3g} cm")
        print(f"wrote {out}")
        return 0

    from dipcore.batch import downscale_batch, parts_folder

    workers = args.workers or max(1, min(nt, os.cpu_count() or 1))
    res = downscale_batch(da, f, out, workers=workers, scheduler=args.scheduler, retries=args.retries,
                          progress=not args.quiet, **opts)
    print(f"×{f} {h}×{w} → {h * f}×{w * f}, K={args.members}: {nt} snapshots, {len(res.computed)} computed, "
          f"{len(res.reused)} reused, {len(res.skipped)} skipped, {len(res.failed)} failed, {res.seconds:.1f} s")
    if res.path is not None:
        print(f"wrote {res.path} (parts in {parts_folder(out)})")
    if res.failed:
        print(f"ssh-dip: {len(res.failed)} snapshot(s) failed; run the same command again to retry only them",
              file=sys.stderr)
        return 1
    return 0


def verdict(facts: dict) -> str:
    """One plain sentence: did the network beat the classical estimates on this run (RMSE and SSIM)?"""
    r, s = facts["rmse"], facts["ssim"]
    if r["estimate"] <= r["ibp"] and s["estimate"] >= s["ibp"]:
        return "the network's estimate beats IBP (and bicubic) in RMSE and SSIM on this run"
    best = "IBP" if facts.get("best") == "ibp" else "bicubic" if facts.get("best") == "bicubic" else "the network"
    return (f"IBP (no network) is {'better' if r['ibp'] < r['estimate'] else 'not worse'} than the network here "
            f"in RMSE ({100 * r['ibp']:.2f} vs {100 * r['estimate']:.2f} cm) "
            f"and {'better' if s['ibp'] > s['estimate'] else 'worse'} in SSIM; lowest RMSE: {best}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ssh-dip`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = "ssh-dip " + " ".join(sys.argv[1:] if argv is None else argv)  # the files' history
    try:
        return int(args.func(args) or 0)
    except SSHDipError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ssh-dip: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("ssh-dip: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so briefly, traceback on request
        if args.debug:
            traceback.print_exc()
        print(f"ssh-dip: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
