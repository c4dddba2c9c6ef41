"""Which way of computing a step is fastest on this machine: the numbers behind the choices in
``dipcore/generators/paper.py`` (sub-pixel up-convolution from a size threshold, members in a loop on CPU) and
the precisions and layouts tried on the default's network.

Three tables, each measured in one process after warm-up (median of ``--repeats`` timed calls), each row with its
ratio to the plain way in the same table:

1. **up-convolution blocks** of the paper's network at 256² (nearest ×2, reflection pad 1, 3×3 conv; forward and
   backward): plain vs :func:`dipcore.generators.paper.up_conv` (the exact sub-pixel form);
2. **members**: a ``paper`` ensemble's training step (forward, backward, Adam) with the members as one grouped
   network vs one after the other;
3. **the default's network** (``skip``, K members, fp32): eager fp32 vs bf16 autocast vs channels_last;
4. with ``--compile``: ``torch.compile`` (inductor) of the default's and the paper's member networks against eager,
   with the compile time (the first compiled step, once) apart from the step time, and the steps it takes the
   compiled path to pay its compile time back.

    python benchmarks/bench_variants.py [--threads 2] [--members 4] [--repeats 5] [--compile] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dipcore.generators import build_ensemble, grouped_forward  # noqa: E402
from dipcore.generators.paper import CHANNELS, up_conv  # noqa: E402


def timed(fn: Callable[[], object], repeats: int, warm: int = 2) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls after ``warm`` untimed ones."""
    for _ in range(warm):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def plain_up_conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect"), w, b)


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def layers(repeats: int) -> str:
    """Table 1: each up-convolution block of the paper's network at 256², plain vs sub-pixel."""
    rows = []
    chans = list(CHANNELS) + [1]
    for i in range(len(chans) - 1):
        cin, cout, side = chans[i], chans[i + 1], 4 * 2 ** i
        g = torch.Generator().manual_seed(i)
        x = torch.randn(1, cin, side, side, generator=g, requires_grad=True)
        w = torch.randn(cout, cin, 3, 3, generator=g, requires_grad=True)
        b = torch.randn(cout, generator=g, requires_grad=True)

        def step(fn=None):
            fn(x, w, b).square().sum().backward()
        plain = timed(lambda: step(plain_up_conv), repeats)
        fast = timed(lambda: step(up_conv), repeats)
        rows.append([f"{cin}→{cout}", f"{side}²", f"{1e3 * plain:.2f}", f"{1e3 * fast:.2f}", f"{fast / plain:.2f}"])
    return table("1. Up-convolution blocks of the paper's network at 256², forward + backward",
                 ["channels", "input cells", "plain ms", "sub-pixel ms", "sub-pixel / plain"], rows)


def train_step(net: torch.nn.Module, forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        forward().float().square().mean().backward()
        opt.step()
    return step


def members(ks: list[int], repeats: int) -> str:
    """Table 2: a paper ensemble's step at 256² with grouped members vs a loop."""
    rows = []
    for k in ks:
        ens = build_ensemble((256, 256), list(range(k)), "paper")
        z = ens.draw(1, [torch.Generator().manual_seed(s) for s in range(k)], 0.0, 1.0)
        grouped = timed(train_step(ens, lambda: grouped_forward(list(ens.members), z, grouped=True)), repeats)
        loop = timed(train_step(ens, lambda: grouped_forward(list(ens.members), z, grouped=False)), repeats)
        rows.append([str(k), f"{grouped / k:.4f}", f"{loop / k:.4f}", f"{loop / grouped:.2f}"])
    return table("2. `paper` ensemble at 256²: training step per member",
                 ["K", "grouped s", "loop s", "loop / grouped"], rows)


def skip_variants(k: int, repeats: int) -> str:
    """Table 3: the default's network (skip, on the 128² grid of a 256² ×8 fit) in fp32, bf16 autocast,
    channels_last."""
    ens = build_ensemble((128, 128), list(range(k)), "skip")
    z = ens.draw(1, [torch.Generator().manual_seed(s) for s in range(k)], 0.0, 0.03)
    base = timed(train_step(ens, lambda: ens(z)), repeats)

    def bf16() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return ens(z)
    half = timed(train_step(ens, bf16), repeats)
    ens_cl = ens.to(memory_format=torch.channels_last)
    z_cl = [z[:, j].contiguous(memory_format=torch.channels_last) for j in range(k)]
    cl = timed(train_step(ens_cl, lambda: torch.cat([m(z_cl[j]) for j, m in enumerate(ens_cl.members)], 1)),
               repeats)
    rows = [[name, f"{t:.4f}", f"{t / base:.2f}"] for name, t in
            [("fp32 (what the fit uses)", base), ("bf16 autocast", half), ("fp32 channels_last", cl)]]
    return table(f"3. The default's `skip` network, K={k}, 128² grid: training step",
                 ["variant", "s per step", "× fp32"], rows)


def compiled(k: int, repeats: int) -> str:
    """Table 4: ``torch.compile`` of each member network (forward compiled, backward by AOTAutograd) vs eager:
    the default's ``skip`` on its 128² grid and ``paper`` at 256², K members in a loop (what the CPU fit runs)."""
    rows = []
    for arch, shape, sigma in (("skip", (128, 128), 0.03), ("paper", (256, 256), 1.0)):
        ens = build_ensemble(shape, list(range(k)), arch)
        z = ens.draw(1, [torch.Generator().manual_seed(s) for s in range(k)], 0.0, sigma)
        # each member's own input: (N, C, h, w) from skip's (N, K, C, h, w), paper's (N, K·100, 1, 1) split
        zs = [z[:, j] for j in range(k)] if z.dim() == 5 else list(z.chunk(k, dim=1))
        eager = timed(train_step(ens, lambda: torch.cat([m(zs[j]) for j, m in enumerate(ens.members)], 1)),
                      repeats)
        fast = [torch.compile(m) for m in ens.members]  # the first step compiles (and times) every member
        step = train_step(ens, lambda: torch.cat([m(zs[j]) for j, m in enumerate(fast)], 1))
        t = time.perf_counter()
        try:
            step()  # compiles forward and backward
        except Exception as exc:  # an inductor failure is a result too: the row says which
            why = str(exc).strip().splitlines()[0][:90].replace("|", "/")
            rows.append([f"`{arch}` {shape[0]}²", f"{eager:.4f}", f"fails: {type(exc).__name__}: {why}",
                         "–", f"{time.perf_counter() - t:.1f}", "–", "–"])
            print(" | ".join(rows[-1]), flush=True)
            continue
        first = time.perf_counter() - t
        comp = timed(step, repeats)
        with torch.no_grad():  # same weights: the compiled output must be the eager one to fp32 rounding
            diff = max(float((fast[j](zs[j]) - m(zs[j])).abs().max()) for j, m in enumerate(ens.members))
        gain = eager - comp
        back = f"{first / gain:.0f}" if gain > 0 else "never"
        rows.append([f"`{arch}` {shape[0]}²", f"{eager:.4f}", f"{comp:.4f}", f"{comp / eager:.2f}", f"{first:.1f}",
                     back, f"{diff:.1e}"])
        print(" | ".join(rows[-1]), flush=True)  # a row as soon as it is measured (compiling takes minutes)
    cache = "off (cold compile)" if os.environ.get("TORCHINDUCTOR_FORCE_DISABLE_CACHES") == "1" else "on"
    return table(f"4. `torch.compile` (inductor), K={k} members in a loop: training step (inductor's disk cache "
                 f"{cache})",
                 ["network", "eager s", "compiled s", "compiled / eager", "first step (compile) s",
                  "steps to pay it back", "max abs Δ output"], rows)


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=None, help="intra-op threads (default: torch's)")
    p.add_argument("--members", type=int, nargs="+", default=[4, 8], help="K for table 2 (table 3: the first)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--compile", action="store_true", help="add table 4 (torch.compile; minutes on 2 cores)")
    p.add_argument("--only-compile", action="store_true", help="table 4 alone")
    p.add_argument("--out", help="also write the tables (markdown) here")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    parts = [] if a.only_compile else [layers(a.repeats), members(a.members, a.repeats),
                                       skip_variants(a.members[0], a.repeats)]
    if a.compile or a.only_compile:
        parts.append(compiled(a.members[0], a.repeats))
    load1 = os.getloadavg()
    head = (f"## bench_variants — {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n\n"
            f"- torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s); load average at start "
            f"{' '.join(f'{v:.2f}' for v in load0)}, at end {' '.join(f'{v:.2f}' for v in load1)}; "
            f"{time.perf_counter() - t0:.0f} s\n"
            f"- command: `python benchmarks/bench_variants.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n")
    text = "\n".join([head] + parts)
    print(text)
    if a.out:
        Path(a.out).write_text(text)
    return text


if __name__ == "__main__":
    main()
