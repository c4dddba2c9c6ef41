"""Issue 25's CPU levers, each timed against plain fp32 in the same process: what one training step costs.

Rows (K members, one step = forward, loss, backward, Adam), median of ``--repeats`` blocks of ``--steps`` steps after
warm-up, the lever's time as a ratio to plain fp32 on the same network, grid and K, measured right beside it:

* ``bf16 autocast`` — ``torch.autocast("cpu", dtype=torch.bfloat16)`` around the forward (this CPU has
  AVX512-BF16; the loss in fp32);
* ``channels_last`` — the networks and their input in ``torch.channels_last``;
* ``network grid`` — the default's network on a grid twice as fine as the observation (``upsample=-2``, kept)
  against half the output (``upsample=2``, the previous default), at ×8 on the Gulf Stream's 128×256: the cost of
  a step of the whole fit (``dipcore.solver.fit``, events every 1000 steps).

* ``profile`` — where a step of the whole default fit goes (``torch.profiler`` over ``--profile-steps`` steps of the
  Gulf Stream at ×8, K = 4, after 10 steps): self CPU time per operator, grouped into forward convolutions, their
  backward, normalisation/padding/up-sampling/activations, the optimiser, pooling, the input noise and the rest
  (the output EMA, back-projection, building the events, copies), as a share of the step.

    python benchmarks/bench_levers.py                # about two minutes on 2 cores
    python benchmarks/bench_levers.py --threads 1

Time it on a quiet machine; ``uptime`` is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling bench_fit module
from bench_fit import uptime  # noqa: E402

from dipcore.generators import build_ensemble  # noqa: E402
from dipcore.recipes import get_recipe  # noqa: E402
from dipcore.samples import load_sample  # noqa: E402
from dipcore.solver import fit  # noqa: E402
from dipcore.twin import make_twin  # noqa: E402


def _step_fn(arch: str, shape: tuple[int, int], k: int, bf16: bool, channels_last: bool):
    net = build_ensemble(shape, list(range(k)), arch)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam([p for m in net.members for p in m.parameters()], lr=1e-3)
    z0 = net.draw(1, [torch.Generator().manual_seed(i) for i in range(k)], 0.0, 1.0)
    if channels_last and z0.dim() == 4:
        z0 = z0.contiguous(memory_format=torch.channels_last)
    target = torch.randn(k, *shape)

    def step() -> None:
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(z0 + 0.03 * torch.randn_like(z0))[0]
        ((out.float() - target) ** 2).mean().backward()
        opt.step()
    return step


def timed(step, steps: int, repeats: int) -> float:
    """Median seconds per step over ``repeats`` blocks of ``steps`` steps, after 3 warm-up steps."""
    for _ in range(3):
        step()
    blocks = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        blocks.append((time.perf_counter() - t) / steps)
    return statistics.median(blocks)


def fit_step(recipe, steps: int) -> float:
    """Seconds per step of a whole default fit at ×8 on the Gulf Stream, K=4 (set-up excluded: 10 steps first)."""
    twin = make_twin(load_sample("gulfstream"), 8, 0.0)
    marks = []
    for ev in fit(twin.observation, twin.degradation, replace(recipe, settle=0.0), members=4, iters=10 + steps,
                  every=10, device="cpu"):
        marks.append(time.perf_counter())
    return (marks[-1] - marks[0]) / steps


# operator name fragments → the part of a step they belong to (first match wins; the rest is "other")
GROUPS = (("optimiser (Adam)", ("adam", "_foreach", "addcdiv", "lerp", "sqrt")),
          ("convolution backward", ("convolution_backward", "conv2d_backward", "convolutionbackward")),
          ("convolution forward", ("conv", "mkldnn")),
          ("pooling (the degradation)", ("pool",)),
          ("norm, padding, up-sampling (network and output), activations",
           ("norm", "pad", "upsample", "leaky", "relu", "sigmoid", "interp")),
          ("input noise draws", ("normal_", "randn")),
          ("other (EMA, back-projection, events, copies, allocations)", ("",)))


def profile(recipe, steps: int) -> list[tuple[str, float]]:
    """(part, share of the step's self CPU time) of a whole default fit at ×8 on the Gulf Stream, K = 4."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    twin = make_twin(load_sample("gulfstream"), 8, 0.0)
    events = fit(twin.observation, twin.degradation, replace(recipe, settle=0.0), members=4, iters=10 + steps,
                 every=10, device="cpu")
    next(events)  # set-up and the first steps outside the profile
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in events:
            pass
    totals = {name: 0.0 for name, _ in GROUPS}
    for ev in prof.key_averages():
        key = ev.key.lower()
        group = next(name for name, frags in GROUPS if any(f in key for f in frags))
        totals[group] += ev.self_cpu_time_total
    whole = sum(totals.values()) or 1.0
    return [(name, t / whole) for name, t in totals.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile-steps", type=int, default=40)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    print(f"uptime at start: {uptime()}; torch {torch.__version__}, {a.threads} thread(s)\n")
    print("| network | grid | K | fp32 s/step | bf16 autocast × fp32 | channels_last × fp32 |")
    print("|---|---|---|---|---|---|", flush=True)
    for arch, shape, k in (("skip", (32, 64), 4), ("skip", (64, 128), 4), ("paper", (256, 256), 1)):
        base = timed(_step_fn(arch, shape, k, False, False), a.steps, a.repeats)
        bf16 = timed(_step_fn(arch, shape, k, True, False), a.steps, a.repeats)
        cl = timed(_step_fn(arch, shape, k, False, True), a.steps, a.repeats)
        print(f"| {arch} | {shape[0]}×{shape[1]} | {k} | {base:.4f} | {bf16 / base:.2f} | {cl / base:.2f} |",
              flush=True)
    dip = get_recipe("dip")
    new, old = fit_step(dip, 40), fit_step(replace(dip, upsample=2), 40)
    print(f"\nnetwork grid, whole fit at ×8 (Gulf Stream 128×256, K=4): twice the observation (upsample −2, kept) "
          f"{new:.3f} s/step vs half the output (upsample 2, before) {old:.3f} s/step: {new / old:.2f}×")
    print("\n| part of a default step (profile, Gulf Stream ×8, K=4) | share of self CPU time |\n|---|---|")
    for name, share in profile(dip, a.profile_steps):
        print(f"| {name} | {share:.0%} |")
    print(f"\nuptime at end: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
