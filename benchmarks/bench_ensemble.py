"""Benchmark: K ensemble members trained as one grouped network vs a plain loop over K separate networks.

Both run the same work per step (forward, pooling loss on ocean cells, backward, Adam step) in the same
process on the same device. Prints a table of seconds per step and the speed-up of the batched path over the
reference loop; on CUDA also the peak memory of each.

    python benchmarks/bench_ensemble.py [--device cpu|cuda] [--steps 10] [--sizes 128x256 256x256] [--members 1 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dipcore.degrade import Degradation
from dipcore.solver import resolve_device
from dipcore.generators import LATENT_CHANNELS, PaperGenerator, build_ensemble


def _step_time(step, steps: int, dev: torch.device) -> float:
    for _ in range(2):  # warm-up (allocator, oneDNN/cuDNN kernel choice)
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / steps


def bench(shape: tuple[int, int], k: int, dev: torch.device, steps: int) -> dict:
    deg = Degradation(8)
    mask = torch.ones(shape, device=dev)
    y = torch.randn(shape[0] // 8, shape[1] // 8, device=dev)
    out = {}

    # reference: K independent networks and optimisers, one after the other
    nets = [PaperGenerator(shape, torch.Generator().manual_seed(s)).to(dev) for s in range(k)]
    opts = [torch.optim.Adam(n.parameters(), lr=1e-3, betas=(0.5, 0.999)) for n in nets]

    def loop_step():
        for n, o in zip(nets, opts):
            o.zero_grad()
            loss = ((deg.forward_torch(n(torch.randn(1, LATENT_CHANNELS, 1, 1, device=dev))[0, 0], mask) - y) ** 2).mean()
            loss.backward()
            o.step()

    # batched: one grouped forward/backward for all members
    ens = build_ensemble(shape, list(range(k))).to(dev)
    opt = torch.optim.Adam([{"params": list(m.parameters())} for m in ens.members], lr=1e-3, betas=(0.5, 0.999))

    def batched_step():
        opt.zero_grad()
        o = ens(torch.randn(1, k * LATENT_CHANNELS, 1, 1, device=dev))[0]
        ((deg.forward_torch(o, mask) - y) ** 2).mean(dim=(-2, -1)).sum().backward()
        opt.step()

    for name, fn in (("loop", loop_step), ("batched", batched_step)):
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        out[name] = _step_time(fn, steps, dev)
        out[name + "_mem"] = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else float("nan")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--sizes", nargs="+", default=["128x256", "256x256"])
    p.add_argument("--members", type=int, nargs="+", default=[1, 4])
    a = p.parse_args()
    dev = resolve_device(a.device)
    print(f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} threads, {a.steps} timed steps")
    print(f"{'grid':>9} {'K':>3} {'loop s/step':>12} {'batched s/step':>15} {'speed-up':>9} "
          f"{'loop MiB':>9} {'batched MiB':>12}")
    for size in a.sizes:
        shape = tuple(int(v) for v in size.split("x"))
        for k in a.members:
            r = bench(shape, k, dev, a.steps)
            print(f"{size:>9} {k:>3} {r['loop']:>12.4f} {r['batched']:>15.4f} {r['loop'] / r['batched']:>8.2f}x "
                  f"{r['loop_mem']:>9.0f} {r['batched_mem']:>12.0f}")


if __name__ == "__main__":
    np.random.seed(0)
    torch.manual_seed(0)
    main()
