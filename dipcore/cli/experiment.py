"""``ssh-dip experiment NAME --out DIR``: run a sweep of :mod:`dipcore.experiments` reproducing a paper figure."""

from __future__ import annotations

import argparse
import sys
import time

from dipcore.cli.validators import at_least, non_negative
from dipcore.constants import RATIOS
from dipcore.experiments.settings import EXPERIMENTS


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``experiment`` subcommand to the ``ssh-dip`` subparsers ``sub``."""
    e = sub.add_parser("experiment", help="run a sweep reproducing a paper figure (CSV, PNG, NetCDF)",
                       description="Experiments: ratios (paper Fig. 3), ensemble-size (Fig. 5/9), "
                                   "uncertainty (Fig. 6). Options left out take the experiment's full defaults "
                                   "(or the --quick ones).")
    e.add_argument("name", choices=list(EXPERIMENTS), help="experiment")
    e.add_argument("--out", required=True, help="output folder (created)")
    e.add_argument("--cases", nargs="+", metavar="CASE",
                   help="sample[:time][@y0:y1,x0:x1] or a NetCDF path, e.g. mediterranean:3 gulfstream")
    e.add_argument("--ratios", nargs="+", type=int, choices=RATIOS, metavar="R", help="ratios among 1 2 4 8 16 32")
    e.add_argument("--noise", nargs="+", type=non_negative, metavar="F",
                   help="noise std as fractions of the field std (e.g. 0 0.05)")
    e.add_argument("--members", type=at_least(int, 1), help="ensemble size K")
    e.add_argument("--latent-samples", type=at_least(int, 2), help="latent draws M (uncertainty)")
    e.add_argument("--iters", type=at_least(int, 1), help="iterations per fit (default: the recipe's)")
    e.add_argument("--recipe", help="fit recipe (default: the current default recipe; 'paper' for the paper's)")
    e.add_argument("--seed", type=int, default=0, help="seed of noise and initialisation")
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    e.add_argument("--quick", action="store_true", help="tiny smoke settings (CI)")
    e.set_defaults(func=cmd_experiment)
    return e


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run the experiment of ``args``; print the summary table; one progress line per fit on stderr."""
    from dipcore.experiments.run import run_experiment
    from dipcore.experiments.runner import STEP_MARKER

    def progress(message: str, fraction: float) -> None:
        if STEP_MARKER not in message:
            print(message, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    res = run_experiment(args.name, quick=args.quick, cases=args.cases, ratios=args.ratios, noises=args.noise,
                         members=args.members, latent_samples=args.latent_samples, iters=args.iters,
                         recipe=args.recipe, seed=args.seed, device=args.device, out=args.out,
                         on_progress=progress)
    print(res.text())
    print(f"{args.name}: {len(res.table)} rows, {len(res.files)} files in {res.out} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


__all__ = ["add_parser", "cmd_experiment"]
