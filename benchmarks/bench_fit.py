"""Benchmark of a fit: dipcore's fit for every architecture against a plain PyTorch reference, one table per device.

Everything is measured in one process, after warm-up, as the median of repeats:

* **reference** — the paper's network and training loop written straightforwardly in plain PyTorch in this file
  (eager fp32, one member after the other; the yardstick). Its seconds per step per member do not depend on K.
* **dipcore** — ``dipcore.solver.fit`` through its public API, one row per (architecture, K, grid); each
  architecture is run with its own recipe (``paper`` → recipe ``paper``, ``skip`` → the default ``dip``,
  ``decoder`` → ``decoder``).

Columns: seconds per step per member; the ratio to the reference's s/step/member at the same grid in the same
run (the K=8 ratio is "the wall time of the ensemble over 8 sequential reference fits"); achieved GFLOP/s and
its fraction of the machine's fp32 matmul peak (a large ``torch.matmul`` timed in the same run), counting the
*nominal* FLOPs of one fp32 training step of one member (``FlopCounterMode`` on the plain network: an
algebraic saving in dipcore shows as a higher rate); the time of a 1500-step fit at that speed; the time to
the first event (set-up, any compilation, the warm-up steps); the peak memory (CPU: resident memory above
the process's before the run, sampled every 5 ms; CUDA: ``max_memory_allocated``) next to
``dipcore.fitting.memory``'s estimate; and, for the ``paper`` rows, the RMSE (metres) of member 0's final output
against the fp32 reference's (same seed, same initial weights, same latents, same number of steps), so a faster
path that changes the result shows it.

The field is the embedded Gulf Stream sample (real SSH, with land), zoomed to the grid (bilinear) and observed
at ×8.

    python benchmarks/bench_fit.py                      # full table, CPU (and CUDA when available)
    python benchmarks/bench_fit.py --quick              # a smoke run (< 1 min on a busy 2-core machine)
    python benchmarks/bench_fit.py --devices cpu --threads 1 --archs paper --sizes 256 --members 8
    python benchmarks/bench_fit.py --out benchmarks/RESULTS-cpu.md
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling memory_calibration module
from memory_calibration import PeakMemory, real_field  # noqa: E402  (one field maker for both)

from dipcore.fitting import memory
from dipcore.degrade import Degradation
from dipcore.generators import REGISTRY
from dipcore.solver import fit, get_recipe, resolve_device

RECIPE_OF = {"paper": "paper", "skip": "dip", "decoder": "decoder"}
RATIO = 8
FULL_STEPS = 1500
COLUMNS = ["config", "K", "grid", "s/step/member", "× ref", "GFLOP/s", "% fp32 peak", "1500 steps (s)",
           "to 1st event (s)", "peak MiB", "est. MiB", "RMSE vs ref, steps 1 / 2 (m)", "RMSE vs ref, final (m)"]


# ---- the plain reference: the paper's network and loop, written straightforwardly -----------------------------
class PlainPaperNet(nn.Module):
    """The paper's generator (appendix A.2.2) as a plain ``nn.Sequential``; any H×W by the size rule of
    dipcore's ``paper`` architecture (first layer kernel ⌈side/64⌉, at least 2; six ×2 up-samplings; centre crop).
    Initialised with PyTorch's default rule drawn from ``torch.Generator().manual_seed(seed)``, layer by layer."""

    def __init__(self, shape: tuple[int, int], seed: int):
        super().__init__()
        self.shape = shape
        kh, kw = (max(2, math.ceil(s / 64)) for s in shape)
        c = [512, 256, 128, 64, 32, 16]
        layers: list[nn.Module] = [nn.ConvTranspose2d(100, c[0], (kh, kw), bias=False), nn.BatchNorm2d(c[0]),
                                   nn.ReLU()]
        for cin, cout in zip(c[:-1], c[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3),
                       nn.BatchNorm2d(cout), nn.ReLU()]
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(c[-1], 1, 3)]
        self.net = nn.Sequential(*layers)
        g = torch.Generator().manual_seed(seed)
        for m in self.net:
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                if m.bias is not None:
                    bound = 1 / math.sqrt(nn.init._calculate_fan_in_and_fan_out(m.weight)[0])
                    nn.init.uniform_(m.bias, -bound, bound, generator=g)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z)
        h, w = self.shape
        top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
        return x[..., top:top + h, left:left + w]


def reference_fit(obs: np.ndarray, mask: np.ndarray, shape: tuple[int, int], seed: int, iters: int,
                  dev: torch.device, chunk: int, on_chunk=None, ratio: int = RATIO) -> np.ndarray:
    """Fit one member as the paper does (recipe ``paper``: Adam(0.5, 0.999) lr 1e-3, ReduceLROnPlateau(0.95, 10),
    a latent centre drawn once and perturbed by N(0, 0.1²) every step), loss ‖pool(g(z)) − y‖² on ocean cells.

    ``on_chunk(step)`` is called every ``chunk`` steps (after a device synchronisation). Returns the output of the
    last forward pass (metres, NaN on land), as dipcore's fit reports it.
    """
    ok = np.isfinite(obs)
    mean, std = float(obs[ok].mean()), float(obs[ok].std()) or 1.0
    y = torch.from_numpy(np.where(ok, (obs - mean) / std, 0.0).astype(np.float32)).to(dev)
    w = torch.from_numpy(ok.astype(np.float32)).to(dev)
    m = torch.from_numpy(mask.astype(np.float32)).to(dev)
    den = F.avg_pool2d(m[None, None], ratio)[0, 0].clamp_min(1e-12)
    net = PlainPaperNet(shape, seed).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.95, patience=10)
    g = torch.Generator(device=dev).manual_seed(seed)
    z0 = torch.randn(1, 100, 1, 1, generator=g, device=dev)
    for step in range(1, iters + 1):
        opt.zero_grad()
        z = z0 + 0.1 * torch.randn(1, 100, 1, 1, generator=g, device=dev)
        out = net(z)[0, 0]
        pooled = F.avg_pool2d((out * m)[None, None], ratio)[0, 0] / den
        loss = (((pooled - y) * w) ** 2).sum() / w.sum()
        loss.backward()
        opt.step()
        sched.step(loss.item())
        if on_chunk is not None and step % chunk == 0:
            _sync(dev)
            on_chunk(step)
    est = (out.detach() * std + mean).cpu().numpy()
    return np.where(mask, est, np.nan).astype(np.float32)


# ---- measuring helpers -----------------------------------------------------------------------------------------
def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def matmul_peak(dev: torch.device, n: int, dtype: torch.dtype = torch.float32, repeats: int = 5,
                tf32: bool = False) -> float:
    """GFLOP/s of an n×n×n ``torch.matmul`` (median of ``repeats`` after one warm-up); TF32 off unless asked."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(n, n, device=dev).to(dtype)
        b = torch.randn(n, n, device=dev).to(dtype)
        reps = max(1, int(repeats))
        inner = 20 if dev.type == "cuda" else 1
        times = []
        for i in range(reps + 1):
            _sync(dev)
            t = time.perf_counter()
            for _ in range(inner):
                torch.matmul(a, b)
            _sync(dev)
            if i:
                times.append((time.perf_counter() - t) / inner)
        return 2 * n ** 3 / statistics.median(times) / 1e9
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def step_flops(arch: str, shape: tuple[int, int], recipe) -> int:
    """Nominal FLOPs of one fp32 training step (forward + backward) of one member on its network grid."""
    up = recipe.network_factor(RATIO)
    grid = (shape[0] // up, shape[1] // up)
    if arch == "paper":
        net, z = PlainPaperNet(grid, 0), torch.randn(1, 100, 1, 1)
    else:
        net = REGISTRY[arch].member_cls(grid, torch.Generator().manual_seed(0), **dict(recipe.arch_opts))
        z = torch.rand(1, *net.input_shape)
    with FlopCounterMode(display=False) as fc:
        net(z).square().sum().backward()
    return int(fc.get_total_flops())


@dataclass
class Row:
    config: str
    k: int
    grid: int
    s_step_member: float = float("nan")
    ratio: float = float("nan")
    gflops: float = float("nan")
    frac_peak: float = float("nan")
    first_event: float = float("nan")
    peak_mib: float = float("nan")
    est_mib: float = float("nan")
    rmse1: tuple[float, float] | None = None
    rmse: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def cells(self) -> list[str]:
        if self.note:
            return [self.config, str(self.k), f"{self.grid}²", self.note] + [""] * (len(COLUMNS) - 4)
        f = lambda x, fmt: "—" if x is None or not np.isfinite(x) else format(x, fmt)  # noqa: E731
        return [self.config, str(self.k), f"{self.grid}²", f(self.s_step_member, ".4g"), f(self.ratio, ".3f"),
                f(self.gflops, ".1f"), f(100 * self.frac_peak, ".1f"),
                f(self.s_step_member * self.k * FULL_STEPS, ".4g"), f(self.first_event, ".3g"),
                f(self.peak_mib, ".0f"), f(self.est_mib, ".0f"), "—" if self.rmse1 is None else " / ".join(f(x, ".2g") for x in self.rmse1), f(self.rmse, ".2g")]


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


# ---- one device -----------------------------------------------------------------------------------------------
def _configs(a: argparse.Namespace, dev: torch.device) -> list[tuple[str, int, int]]:
    """(arch, K, grid): every K of --members at the first grid of --sizes, K=--big-members at the others."""
    base, rest = a.sizes[0], a.sizes[1:]
    members = a.members if a.members else ([1, 4, 8, 16, 50] if dev.type == "cuda" else [1, 4, 8])
    big = a.big_members if a.big_members else ([4, 8] if dev.type == "cuda" else [4])
    out = []
    for arch in a.archs:
        out += [(arch, k, base) for k in members]
        out += [(arch, k, n) for n in rest for k in big]
    # cheapest first, all architectures at each size: a time cap drops the biggest configs, not an architecture
    return sorted(out, key=lambda c: (c[2] ** 2 * c[1], a.archs.index(c[0])))


def bench_device(dev: torch.device, a: argparse.Namespace, command: str) -> str:
    repeats = a.repeats or 3
    base_steps, least = (20, 5) if dev.type == "cuda" else (5, 2)

    def steps_for(n: int) -> int:
        """Steps per chunk: --steps, else the device's default at 256², scaled by the cells at bigger grids."""
        return a.steps or max(least, round(base_steps * min(1.0, (256 / n) ** 2)))
    t_start = time.perf_counter()
    load0 = os.getloadavg()
    peak_n = a.peak_n or (8192 if dev.type == "cuda" else 2048)
    peak = matmul_peak(dev, peak_n)
    bf16 = matmul_peak(dev, peak_n, torch.bfloat16) if dev.type == "cuda" or _cpu_has_bf16() else float("nan")
    tf32 = matmul_peak(dev, peak_n, tf32=True) if dev.type == "cuda" else float("nan")

    fields = {n: real_field(n) for n in a.sizes}
    degs = {n: Degradation(RATIO, mask=np.isfinite(f)) for n, f in fields.items()}
    obs = {n: degs[n].forward(fields[n]) for n in a.sizes}
    masks = {n: degs[n].crop(degs[n].mask) for n in a.sizes}
    rows: list[Row] = []

    def add(row: Row) -> None:  # rows as they finish, on stderr: a run killed by a time limit still shows them
        rows.append(row)
        print(f"[{time.perf_counter() - t_start:6.1f} s] | " + " | ".join(row.cells()) + " |", file=sys.stderr,
              flush=True)
    ref_speed: dict[int, float] = {}
    ref_out: dict[int, np.ndarray] = {}
    ref_early: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    flops: dict[tuple[str, int], int] = {}
    capped = False

    def over_cap() -> bool:
        return a.time_cap is not None and time.perf_counter() - t_start > a.time_cap

    def reference(n: int, n_iter: int, on_chunk=None) -> np.ndarray:
        old = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False  # the reference is fp32, also on CUDA
        try:
            return reference_fit(obs[n], masks[n], (n, n), 0, n_iter, dev, steps_for(n), on_chunk)
        finally:
            torch.backends.cudnn.allow_tf32 = old

    def rmse(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.sqrt(np.nanmean((x.astype(np.float64) - y) ** 2)))

    reference(a.sizes[0], 2)  # the process's one-time costs (thread pools, kernel libraries) go here
    # the reference, once per grid: one member (sequential members cost the same per member)
    for n in a.sizes:
        if over_cap():
            capped = True
            add(Row("reference (plain PyTorch, paper)", 1, n, note="skipped: time cap"))
            continue
        marks: list[float] = []
        with PeakMemory(dev, interval=0.005) as pm:
            t0 = time.perf_counter()
            ref_out[n] = reference(n, steps_for(n) * (1 + repeats), lambda s: marks.append(time.perf_counter()))
        ref_early[n] = reference(n, 1), reference(n, 2)
        per = statistics.median(np.diff(marks)) / steps_for(n)
        ref_speed[n] = per
        fl = flops.setdefault(("paper", n), step_flops("paper", (n, n), get_recipe("paper")))
        add(Row("reference (plain PyTorch, paper)", 1, n, per, 1.0, fl / per / 1e9, fl / per / 1e9 / peak,
                        marks[0] - t0, pm.peak / 2 ** 20, float("nan"), (0.0, 0.0), 0.0))

    for arch, k, n in _configs(a, dev):
        rec = get_recipe(RECIPE_OF.get(arch, "default"))
        if rec.arch != arch:
            from dataclasses import replace

            rec = replace(rec, arch=arch, arch_opts=())
        name = f"dipcore {arch} (recipe {rec.name})"
        if capped or over_cap():
            capped = True
            add(Row(name, k, n, note="skipped: time cap"))
            continue
        est = memory.check_fit(rec, k, (n, n), RATIO, dev, available=2 ** 62) - memory.OVERHEAD
        compare = arch == "paper" and rec.name == "paper" and n in ref_out
        marks = []
        try:
            with PeakMemory(dev, interval=0.005) as pm:
                t0 = time.perf_counter()
                last = None
                steps = steps_for(n)
                for last in fit(obs[n], degs[n], rec, members=k, iters=steps * (1 + repeats), seed=0, device=dev,
                                every=steps,
                                fine_mask=masks[n], keep_members=compare):
                    marks.append(time.perf_counter())
            r1 = r = None
            if compare:
                r = rmse(last.members[0], ref_out[n])
                early = [e.members[0] for e in fit(obs[n], degs[n], rec, members=k, iters=2, seed=0, device=dev,
                                                   every=1, fine_mask=masks[n], keep_members=True)]
                r1 = (rmse(early[0], ref_early[n][0]), rmse(early[1], ref_early[n][1]))
        except Exception as exc:  # a config that does not fit (memory) is a result, not the end of the table
            add(Row(name, k, n, note=f"failed: {type(exc).__name__}: {str(exc)[:120]}"))
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        per = statistics.median(np.diff(marks)) / steps_for(n) / k
        fl = flops.setdefault((arch, n), step_flops(arch, (n, n), rec))
        add(Row(name, k, n, per, per / ref_speed.get(n, float("nan")), fl / per / 1e9,
                        fl / per / 1e9 / peak, marks[0] - t0, pm.peak / 2 ** 20, est / 2 ** 20, r1, r))
        del last
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    load1 = os.getloadavg()
    head = [f"### {dev.type}: {_device_name(dev)}", "",
            f"- torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} intra-op "
            f"thread(s) (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), "
            f"{len(os.sched_getaffinity(0))} CPU(s) usable",
            f"- load average (1, 5, 15 min) at start {_fmt_load(load0)}, at end {_fmt_load(load1)}; "
            f"`uptime`: {uptime()}",
            f"- fp32 matmul peak {peak:.1f} GFLOP/s ({peak_n}³, median of 5)"
            + (f", bf16 {bf16:.1f} GFLOP/s" if np.isfinite(bf16) else "")
            + (f", TF32 {tf32:.1f} GFLOP/s" if dev.type == "cuda" else ""),
            f"- field: Gulf Stream sample zoomed to n² (land {100 * np.isnan(fields[a.sizes[0]]).mean():.0f} %), "
            f"observed at ×{RATIO}; per config s warm-up steps then {repeats} × s timed steps (median), s = "
            + ", ".join(f"{steps_for(n)} at {n}²" for n in a.sizes) + "; s/step/member = ensemble step time / K",
            "- × ref: s/step/member over the plain reference's at the same grid (for skip and decoder: another "
            "network, the same yardstick); GFLOP/s: nominal FLOPs of one fp32 step of the plain network "
            "(FlopCounterMode) over the time; peak MiB: "
            + ("max_memory_allocated" if dev.type == "cuda" else "resident memory above the process's before "
               "the fit (in one process, after the earlier configs)")
            + f"; est. MiB: dipcore.fitting.memory's estimate less its one-time {memory.OVERHEAD / 2**20:.0f} MiB",
            "- RMSE vs ref (paper rows): member 0's output against the fp32 reference's with the same seed, "
            "initial weights and latents; at step 1 (the initial network's forward pass: the forward's precision, "
            "fp32 ~1e-7 m) and step 2 (after one Adam update, ~lr·sign(grad): float-level gradient differences "
            "already show, ~1e-4 m for fp32 grouped convolutions); the final one grows with the steps for any "
            "path (~2e-2 m after 6 steps, tests/test_solver.py), so it bounds, not proves, a change",
            f"- command: `{command}`; {time.perf_counter() - t_start:.0f} s for this table", ""]
    table = markdown(rows)
    summary = _headline(rows)
    return "\n".join(head) + "\n" + table + ("\n\n" + summary if summary else "") + "\n"


def _headline(rows: list[Row]) -> str:
    lines = []
    for r in rows:
        if r.config.startswith("dipcore paper") and r.k == 8 and np.isfinite(r.ratio):
            lines.append(f"- paper K=8 at {r.grid}²: {r.ratio:.2f}× the wall time of 8 sequential reference fits "
                         f"(target ≤ 0.35), {100 * r.frac_peak:.0f} % of the fp32 matmul peak (target ≥ 50 %)")
        if r.config.startswith("dipcore paper") and r.k == 50 and np.isfinite(r.s_step_member):
            lines.append(f"- paper K=50 × {FULL_STEPS} steps at {r.grid}²: {r.s_step_member * 50 * FULL_STEPS:.1f} s "
                         "(GPU target < 10 s)")
    return "\n".join(lines)


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        return False


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        return f"{p.name}, {p.total_memory / 2**30:.0f} GiB"
    name = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} logical CPU(s)" + (", AVX512-BF16" if _cpu_has_bf16() else "")


def _fmt_load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


# ---- command line ---------------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--devices", nargs="+", default=None, help="cpu, cuda (default: cpu, and cuda when available)")
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help="grids n (n×n); every K of --members at the first, --big-members at the others "
                        "(default 256 512 1024)")
    p.add_argument("--members", type=int, nargs="+", default=None,
                   help="K at the first grid (default 1 4 8; on CUDA 1 4 8 16 50)")
    p.add_argument("--big-members", type=int, nargs="+", default=None,
                   help="K at the other grids (default 4; on CUDA 4 8)")
    p.add_argument("--archs", nargs="+", default=None, choices=sorted(REGISTRY), help="architectures (default all)")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per timed chunk at every grid (default: 5 on CPU, 20 on CUDA at 256², scaled down "
                        "by the number of cells at bigger grids, at least 2 on CPU, 5 on CUDA)")
    p.add_argument("--repeats", type=int, default=None, help="timed chunks, median taken (default 3)")
    p.add_argument("--threads", type=int, default=None, help="intra-op threads (default torch.get_num_threads())")
    p.add_argument("--peak-n", type=int, default=None, help="matmul size for the peak (default 2048; CUDA 8192)")
    p.add_argument("--time-cap", type=float, default=None, help="seconds per device; later configs are skipped")
    p.add_argument("--quick", action="store_true", help="smoke run: 64², K 1 2, 2-step chunks, 2 repeats")
    p.add_argument("--out", help="also write the tables (markdown) to this file")
    a = p.parse_args(argv)
    if a.quick:
        a.sizes = a.sizes or [64]
        a.members = a.members or [1, 2]
        a.big_members = a.big_members or [2]
        a.steps = a.steps or 2
        a.repeats = a.repeats or 2
        a.peak_n = a.peak_n or 1024
    a.sizes = a.sizes or [256, 512, 1024]
    a.archs = a.archs or sorted(REGISTRY, key=["paper", "skip", "decoder"].index)
    return a


def main(argv: list[str] | None = None) -> str:
    a = parse(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    devices = a.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    command = "python benchmarks/bench_fit.py " + " ".join(sys.argv[1:] if argv is None else argv)
    parts = [f"## bench_fit — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", ""]
    for name in devices:
        dev = resolve_device(name)
        text = bench_device(dev, a, command.strip())
        print(text, flush=True)
        parts.append(text)
    out = "\n".join(parts)
    if a.out:
        with open(a.out, "w") as f:
            f.write(out + "\n")
    return out


if __name__ == "__main__":
    main()
