"""``ssh-dip fit``: degrade a field (twin experiment), fit the deep image prior, write a NetCDF result and a JSON
summary, and say in one line whether the network beat IBP and bicubic (:func:`dipcore.verdict.verdict`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dipcore.cli.validators import option
from dipcore.constants import ARCHITECTURES, PRIORS, RATIOS  # without torch: --help stays instant
from dipcore.errors import SSHDipError
from dipcore.recipes import DEFAULT_MEMBERS, DEFAULT_RECIPE, GUIDED_RECIPES, RECIPES, with_arch
from dipcore.samples import SAMPLES


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``fit`` subcommand to the ``ssh-dip`` subparsers ``sub``."""
    f = sub.add_parser("fit", help="degrade a field, fit the deep image prior, write a NetCDF result")
    f.add_argument("input", help="NetCDF path or sample name (" + ", ".join(SAMPLES) + ")")
    f.add_argument("--ratio", type=int, required=True, choices=RATIOS, help="downscaling ratio")
    f.add_argument("--var", help="SSH variable name (default: detected by CF standard_name, then name)")
    f.add_argument("--time", type=int, default=0, help="time index of a 3-D variable (default 0)")
    f.add_argument("--level", type=int, default=None, metavar="N",
                   help="index along a variable's extra non-time dimension, e.g. depth (default: the shallowest)")
    f.add_argument("--crop", type=float, nargs=4, metavar=("LAT0", "LAT1", "LON0", "LON1"),
                   help="geographic box")
    f.add_argument("--index-crop", type=int, nargs=4, metavar=("Y0", "Y1", "X0", "X1"), help="index box")
    f.add_argument("--noise", type=option("noise_fraction"), default=0.0,
                   help="noise std as a fraction of the field's std (0.05 = 5%%)")
    f.add_argument("--members", type=option("members"), default=DEFAULT_MEMBERS,
                   help=f"ensemble size K (default {DEFAULT_MEMBERS}; K > 1 gives the ensemble std)")
    f.add_argument("--latent-samples", type=option("latent_samples"), default=0, help="latent draws M at the end")
    f.add_argument("--iters", type=option("iters"), default=None, help="iterations (default: the recipe's)")
    f.add_argument("--recipe", choices=sorted({**RECIPES, **GUIDED_RECIPES}), default=DEFAULT_RECIPE,
                   help=f"fit recipe (default {DEFAULT_RECIPE}: " + RECIPES[DEFAULT_RECIPE].description.replace("%", "%%") + ")")
    f.add_argument("--arch", choices=ARCHITECTURES, default=None,
                   help="generator architecture (default: the recipe's, "
                        f"{RECIPES[DEFAULT_RECIPE].arch} for {DEFAULT_RECIPE}); the recipe's optimiser is kept")
    add_guide_options(f)
    f.add_argument("--seed", type=int, default=0, help="seed of noise, initialisation and latents")
    f.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    f.add_argument("--uncertainty-prior", default="auto", choices=("auto", *PRIORS),
                   help="what lies below the coarse cell, for the 'uncertainty' map: auto (by the fine grid "
                        "spacing: 8 km or coarser is a mapped field), mapped (gridded altimetry, smooth below its "
                        "mapping scale) or dynamic (model or turbulence fields, energetic down to the grid)")
    f.add_argument("--out", required=True, help="result NetCDF path")
    f.add_argument("--summary", help="also write scores and run facts as JSON here")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_fit)
    return f


def add_guide_options(p: argparse.ArgumentParser) -> None:
    """``--guide FILE[:VAR]`` and ``--guide-time N`` (shared by ``fit`` and ``downscale``)."""
    p.add_argument("--guide", metavar="FILE[:VAR]",
                   help="a fine guide map, e.g. SST (variable found by CF standard name when VAR is left out), put "
                        "onto the fine grid; used when it predicts the coarse data's finest scale (coherence gate), "
                        "else the fit is the unguided default; recipe: the default's guided one")
    p.add_argument("--guide-time", type=int, default=None, metavar="N",
                   help="time index of the guide (default: the step nearest the SSH's time, else 0)")


def _load(source: str, **kwargs):
    """A sample by name or a file by path (a name that is neither is a user error)."""
    from dipcore.io import load_field
    from dipcore.samples import load_sample

    if Path(source).exists() or source not in SAMPLES:
        if not Path(source).exists() and not source.endswith((".nc", ".nc4", ".cdf", ".netcdf")) and \
                "/" not in source:
            raise SSHDipError(f"{source!r} is neither an existing file nor a sample "
                              f"(samples: {', '.join(SAMPLES)})")
        return load_field(source, **kwargs)
    return load_sample(source, **kwargs)


def cmd_fit(args: argparse.Namespace) -> int:
    """Run the fit of ``args``: a progress bar on stderr, the scores and the verdict on stdout."""
    from tqdm import tqdm

    from dipcore.export import result_dataset, summary, write_netcdf
    from dipcore.uncertainty import fit_stds
    from dipcore.solver import STOP_REASONS, fit, get_recipe, resolve_device
    from dipcore.twin import make_twin
    from dipcore.verdict import verdict

    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise SSHDipError(f"cannot write the result to {out}: the folder {out.parent} does not exist" if not
                          out.is_dir() else f"--out {out} is a folder; give a file name like result.nc")
    device = resolve_device(args.device)
    field = _load(args.input, var=args.var, time=args.time, crop=args.crop, index_crop=args.index_crop,
                  level=args.level)
    twin = make_twin(field, args.ratio, args.noise, seed=args.seed)
    config = {"input": args.input, "variable": field.name, "time": args.time, "crop": args.crop,
              "index_crop": args.index_crop, "ratio": args.ratio, "noise": args.noise, "members": args.members,
              "latent_samples": args.latent_samples, "iters": args.iters, "recipe": args.recipe,
              "seed": args.seed, "device": str(device)}
    recipe = with_arch(args.recipe, args.arch)
    config["arch"] = recipe.arch
    guide = None
    if args.guide:
        from dipcore.guide import load_guide_on

        if args.arch is not None:
            raise SSHDipError("--arch does not go with --guide: the guided recipes name their networks (--recipe "
                              "guided, guided_skip or guided_pix)")
        config["guide"] = args.guide
        guide = load_guide_on(args.guide, twin.field.data, twin.mask, time=args.guide_time,
                              when=field.attrs.get("time"))
    events = fit(twin.observation, twin.degradation, recipe, members=args.members,
                 latent_samples=args.latent_samples, iters=args.iters, seed=args.seed, device=device,
                 every=10, truth=twin.truth, dx_km=twin.dx_km, keep_members=args.members > 1, guide=guide,
                 spacing_km=min(field.spacing_km) if field.spacing_km else None,
                 uncertainty_prior=args.uncertainty_prior)
    final = None
    seen = []
    with tqdm(total=None, disable=args.quiet, unit="it", file=sys.stderr, desc=f"fit ×{args.ratio}") as bar:
        for final in events:
            seen.append(final)
            bar.total = final.iters
            bar.update(final.step - bar.n)
            bar.set_postfix(loss=f"{final.loss.mean():.2e}", rmse_cm=f"{100 * final.metrics['rmse']:.2f}")
    config["iters"] = final.step
    if final.guide is not None:  # the recipe that ran: the guided one, or the default when the gate refused
        config["recipe"] = final.guide.recipe
        config["arch"] = get_recipe(final.guide.recipe).arch
    stds = fit_stds(twin, final)  # the summary scores the earlier total std (no longer in the file)
    try:
        write_netcdf(result_dataset(twin, final, config, history=args.command_line), out)
    except OSError as exc:
        raise SSHDipError(f"cannot write {out}: {exc}") from exc
    facts = summary(twin, final, config, events=seen, stds=stds)
    if args.summary:
        try:
            Path(args.summary).write_text(json.dumps(facts, indent=2))
        except OSError as exc:
            raise SSHDipError(f"cannot write {args.summary}: {exc}") from exc
    r, s = facts["rmse"], facts["ssim"]
    why = STOP_REASONS.get(final.stop_reason or "", "")
    print(f"×{args.ratio} {field.shape[0]}×{field.shape[1]} K={args.members} {final.step} iters "
          f"{facts['seconds']:.1f} s on {facts['device']}" + (f": stopped at step {final.step}, {why}" if why else ""))
    print(f"RMSE  DIP {100 * r['estimate']:.2f} cm   IBP {100 * r['ibp']:.2f} cm   bicubic {100 * r['bicubic']:.2f} cm")
    print(f"SSIM  DIP {s['estimate']:.4f}     IBP {s['ibp']:.4f}     bicubic {s['bicubic']:.4f}")
    print(verdict(100 * r["estimate"], 100 * r["ibp"], 100 * r["bicubic"], ssim=s))
    for line in uncertainty_lines(facts) + guide_lines(facts):
        print(line)
    print(f"wrote {out}" + (f" and {args.summary}" if args.summary else ""))
    return 0


def uncertainty_lines(facts: dict) -> list[str]:
    """The summary's uncertainty in words: the truth-free expected RMSE beside the real one, how well the
    'uncertainty' map is calibrated, and the members' spread (which is not the uncertainty)."""
    u = facts.get("uncertainty", {})
    lines = []
    if "predictive" in u:
        p = u["predictive"]
        lines.append(f"uncertainty  expected RMSE {u['expected_rmse_cm']:.2f} cm (without the truth, prior "
                     f"'{u['prior']}') vs the real {100 * facts['rmse']['estimate']:.2f} cm: spread/skill "
                     f"{p['spread_skill']:.2f}, {100 * p['coverage_2sigma']:.0f} % of the truth within ±2σ, CRPS "
                     f"{p['crps_cm']:.2f} cm vs {p['crps_flat_cm']:.2f} cm for a flat σ ('uncertainty')")
    if "ensemble" in u:
        e = u["ensemble"]
        lines.append(f"std          members' spread/skill {e['spread_skill']:.2f}, corr(|error|, std) {e['corr']:.2f} "
                     "('std': their spread, not the uncertainty)")
    return lines


def guide_lines(facts: dict) -> list[str]:
    """The guide's line of a summary: used or not and why, and the classical guided estimate's RMSE."""
    g = facts.get("guide")
    if not g:
        return []
    ibp = f"; IBP plus the guide's scaled detail alone: {100 * g['rmse_guided_ibp']:.2f} cm" \
        if "rmse_guided_ibp" in g else ""
    return [f"guide        {g['file']}:{g['variable']} ({100 * g['coverage']:.0f} % coverage): {g['message']}{ibp}"]


__all__ = ["add_guide_options", "add_parser", "cmd_fit", "guide_lines", "uncertainty_lines"]
