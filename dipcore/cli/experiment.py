"""``ssh-dip experiment NAME --out DIR``: run a sweep of :mod:`dipcore.experiments` reproducing a paper figure,
in this process or (``--workers N`` / ``--scheduler ADDRESS``) one fit per task on a Dask cluster."""

from __future__ import annotations

import argparse
import sys
import time

from dipcore.cli.validators import at_least, non_negative, option
from dipcore.constants import RATIOS
from dipcore.experiments.settings import EXPERIMENTS

_CLUSTER_HELP = """\
On a cluster each case × ratio × noise is one Dask task, with the same seeds and numbers as
in this process: --workers N starts a local cluster of N single-threaded worker processes,
--scheduler uses a running one. The dashboard address is printed. To start a cluster by
hand (ssh-dip installed on every machine, the case files at the same paths):

  dask scheduler                       # prints tcp://HOST:8786; dashboard on :8787
  dask worker tcp://HOST:8786 --nworkers 8 --nthreads 1        # on each machine
  ssh-dip experiment ratios --cases mediterranean:0:7 --scheduler tcp://HOST:8786 \\
      --out results/ratios

On GPUs: `dask cuda worker tcp://HOST:8786` (dask-cuda: one worker per GPU), --device cuda."""


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``experiment`` subcommand to the ``ssh-dip`` subparsers ``sub``."""
    e = sub.add_parser("experiment", help="run a sweep reproducing a paper figure (CSV, PNG, NetCDF)",
                       description="Experiments: ratios (paper Fig. 3), ensemble-size (Fig. 5/9), uncertainty\n"
                                   "(Fig. 6). Options left out take the experiment's full defaults (or the\n"
                                   "--quick ones).",
                       epilog=_CLUSTER_HELP,  # its commands must keep their lines
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("name", choices=list(EXPERIMENTS), help="experiment")
    e.add_argument("--out", required=True, help="output folder (created)")
    e.add_argument("--cases", nargs="+", metavar="CASE",
                   help="sample[:time][@y0:y1,x0:x1] or a NetCDF path[:time][@y0:y1,x0:x1], e.g. mediterranean:3 "
                        "gulfstream; ...:START:STOP is one case per time index (mediterranean:0:7)")
    e.add_argument("--ratios", nargs="+", type=int, choices=RATIOS, metavar="R", help="ratios among 1 2 4 8 16 32")
    e.add_argument("--noise", nargs="+", type=non_negative, metavar="F",
                   help="noise std as fractions of the field std (e.g. 0 0.05)")
    e.add_argument("--members", type=option("members"), help="ensemble size K")
    e.add_argument("--latent-samples", type=at_least(int, 2), help="latent draws M (uncertainty)")
    e.add_argument("--iters", type=option("iters"), help="iterations per fit (default: the recipe's)")
    e.add_argument("--recipe", help="fit recipe (default: the current default recipe; 'paper' for the paper's)")
    e.add_argument("--seed", type=int, default=0, help="seed of noise and initialisation")
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="compute device")
    e.add_argument("--quick", action="store_true", help="tiny smoke settings (CI)")
    where = e.add_mutually_exclusive_group()
    where.add_argument("--workers", type=at_least(int, 1), metavar="N",
                       help="run the fits on a local Dask cluster of N worker processes, 1 thread each")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the fits on a running Dask cluster (tcp://host:8786; see below)")
    e.set_defaults(func=cmd_experiment)
    return e


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run the experiment of ``args``; print the summary table; one progress line per fit on stderr (on a
    cluster, above a progress bar: done/total and ETA)."""
    from dipcore.experiments.run import run_experiment
    from dipcore.experiments.runner import STEP_MARKER

    on_cluster = args.workers is not None or args.scheduler is not None
    if on_cluster:
        from tqdm import tqdm

        say = tqdm.write  # above the bar, not through it
    else:
        say = print

    def progress(message: str, fraction: float) -> None:
        if STEP_MARKER not in message:
            say(message, file=sys.stderr)
            sys.stderr.flush()

    t0 = time.perf_counter()
    res = run_experiment(args.name, quick=args.quick, cases=args.cases, ratios=args.ratios, noises=args.noise,
                         members=args.members, latent_samples=args.latent_samples, iters=args.iters,
                         recipe=args.recipe, seed=args.seed, device=args.device, out=args.out,
                         on_progress=progress, workers=args.workers, scheduler=args.scheduler,
                         progress_bar=on_cluster)
    print(res.text())
    print(f"{args.name}: {len(res.table)} rows, {len(res.files)} files in {res.out} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


__all__ = ["add_parser", "cmd_experiment"]
