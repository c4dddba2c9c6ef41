"""The default's time to its answer, before and after issue 25, in units of a plain reference measured in the same run.

For each field (the five of docs/results.md §0 by default, ×8, noise 0, K = 4 members, one process):

* **reference** — seconds per step of the plain PyTorch fit of the paper's network on the same field
  (``bench_fit.reference_fit``: eager fp32, one member), timed over ``--ref-steps`` steps after 5 warm-up steps,
  once before the field's runs and once after them; the table uses the faster of the two (a short reference is
  the first to suffer from another process waking up) and prints both.
  Times below are also given in *reference steps* (time / reference s/step): the unit of the issue's target.
* **before** — the previous default, recipe ``dip1500`` (network on a grid half as fine as the output, 1500 steps):
  its seconds per step over ``--before-steps`` steps, times 1500 (extrapolated: a full run costs 6 minutes a
  field on this machine; ``--before-steps 1500`` runs it whole), and its RMSE from a full run when
  ``--before-steps`` is 1500, else "–".
* **after** — the default ``dip`` run to its end (it stops when settled): wall time from the call to the last
  event (set-up, steps, the calibrated uncertainty), its steps, RMSE and stop reason.

IBP's RMSE is beside both, and the ratio after/before.

    python benchmarks/bench_default.py                      # five fields, ×8, K=4 (about 6 minutes, 2 cores)
    python benchmarks/bench_default.py --fields gulfstream --before-steps 1500
    python benchmarks/bench_default.py --fields turbulence256 --ratio 8   # the 256² turbulence of the issue

Time things on a quiet machine, one job at a time: the table prints ``uptime`` at the start and at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling bench_fit module
from bench_fit import reference_fit, uptime  # noqa: E402  (the benchmarks' one plain reference)

from dipcore import metrics  # noqa: E402
from dipcore.io import Field  # noqa: E402
from dipcore.samples import load_sample  # noqa: E402
from dipcore.solver import run  # noqa: E402
from dipcore.synthetic import turbulence  # noqa: E402
from dipcore.twin import make_twin  # noqa: E402

FIELDS = ("turbulence128", "gulfstream", "kuroshio", "mediterranean", "agulhas")


def load(name: str) -> Field:
    """A §0 field: an embedded sample, or the synthetic turbulence (128² crop of seed 1, or the 256² of seed 5)."""
    if name == "turbulence128":
        return Field.from_array(turbulence(256, seed=1)[:128, :128], dx_km=2.0)
    if name == "turbulence256":
        return Field.from_array(turbulence(256, seed=5), dx_km=2.0)
    return load_sample(name)


def reference_seconds(twin, steps: int) -> float:
    """Seconds per step of the plain reference fit on this twin (5 warm-up steps not counted)."""
    marks = {}
    reference_fit(twin.observation, twin.mask, twin.truth.shape, 0, 5 + steps, torch.device("cpu"), 1,
                  on_chunk=lambda s: marks.setdefault(s, time.perf_counter()), ratio=twin.degradation.ratio)
    return (marks[5 + steps] - marks[5]) / steps


def before(twin, members: int, steps: int) -> tuple[float, float]:
    """(seconds for 1500 steps of ``dip1500``, RMSE or NaN): timed over ``steps`` steps, extrapolated to 1500."""
    t = time.perf_counter()
    final = run(twin.observation, twin.degradation, recipe="dip1500", members=members, iters=steps, seed=0,
                device="cpu", every=10 ** 6, truth=twin.truth if steps == 1500 else None)
    seconds = (time.perf_counter() - t) * 1500 / steps
    return seconds, final.metrics.get("rmse", float("nan"))


def after(twin, members: int) -> tuple[float, int, float, str]:
    """(seconds, steps, RMSE, stop reason) of the default run to its end."""
    t = time.perf_counter()
    final = run(twin.observation, twin.degradation, members=members, seed=0, device="cpu", every=10 ** 6,
                truth=twin.truth, dx_km=twin.dx_km)
    return time.perf_counter() - t, final.step, final.metrics["rmse"], final.stop_reason


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fields", nargs="+", default=list(FIELDS))
    ap.add_argument("--ratio", type=int, default=8)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ref-steps", type=int, default=20)
    ap.add_argument("--before-steps", type=int, default=60)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"uptime at start: {uptime()}; torch {torch.__version__}, {a.threads} thread(s), K={a.members}, "
          f"×{a.ratio}, noise 0\n")
    print("| field | grid | reference s/step (before, after) | before: dip1500 1500 steps s | before RMSE cm | after: dip s | after "
          "steps | after in reference steps | after / before | after RMSE cm | IBP RMSE cm | stop |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in a.fields:
        twin = make_twin(load(name), a.ratio, 0.0, seed=0)
        ref_first = reference_seconds(twin, a.ref_steps)
        b_s, b_rmse = before(twin, a.members, a.before_steps)
        s, steps, rmse, why = after(twin, a.members)
        ref_last = reference_seconds(twin, a.ref_steps)
        ref = min(ref_first, ref_last)
        ibp = metrics.rmse(twin.ibp, twin.truth)
        b_text = f"{b_s:.0f}" + ("" if a.before_steps == 1500 else f" (from {a.before_steps} steps)")
        b_rmse_text = f"{100 * b_rmse:.3f}" if np.isfinite(b_rmse) else "–"
        print(f"| {name} | {twin.truth.shape[0]}×{twin.truth.shape[1]} | {ref:.4f} ({ref_first:.4f}, "
              f"{ref_last:.4f}) | {b_text} | {b_rmse_text} | {s:.1f} | {steps} | {s / ref:.0f} | {s / b_s:.3f} | "
              f"{100 * rmse:.3f} | {100 * ibp:.3f} | {why} |", flush=True)
    print(f"\nuptime at end: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
