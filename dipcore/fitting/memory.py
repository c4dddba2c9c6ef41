"""How much memory a fit needs, estimated before it starts, and a check that refuses what would not fit.

A fit of K members holds, per member: the parameters with their gradients and Adam's two moments (4 copies;
the grouped ``paper`` path also concatenates its weights every step, 2 more), the activations autograd keeps
for the backward pass, the gradients of the largest layers while the backward runs, and a few fine-grid fields
(output, residual, EMA, the event's NumPy copies). Parameters are counted exactly (the member is built on the
``meta`` device: no memory, a few milliseconds); activations are counted from the architecture (the tensors
each layer saves for its backward, :func:`activation_elements`) and scaled by a measured factor.

Calibration (CPU, ``python benchmarks/memory_calibration.py``): the peak resident memory of real fits (recipes ``paper``,
``dip``, ``decoder``; K = 1 and 4; 128² and 256²) above the process's resident memory before the fit (glibc heap
trimmed first, RSS sampled every 2 ms, 6 steps, one fresh process per fit). A first pass with
``ACTIVATION_FACTOR = 1`` and a 64 MiB overhead matched the per-member slope within 0.92–1.16 but missed the fixed
cost of a fresh process's first fit (kernel libraries, thread arenas: 60–140 MiB). With the constants below the
estimate is 0.78–1.05 times the measured peak (:data:`CALIBRATION`): it errs a little high on purpose (a high
estimate refuses a fit that might just have fitted; a low one lets it crash, which is what the check prevents).
On CUDA the same count is used (``max_memory_allocated``
follows the saved tensors more closely than RSS does); ``benchmarks/bench_fit.py`` prints the estimate next to the
measured peak on every device so the factor can be checked there.
"""

from __future__ import annotations

import functools
import os

import torch

from dipcore.errors import SSHDipError

BYTES = 4  # float32
GiB = 2 ** 30

# Measured on CPU (torch 2.13, 2-core AMD EPYC, 6 steps, ``python benchmarks/memory_calibration.py``) with the constants below,
# "recipe K grid": (measured MiB, estimate MiB). Per member (K=1 → K=4), measured/estimate: paper 0.87 (128²),
# 0.91 (256²); dip 0.96, 0.89; decoder 0.96, 0.94.
CALIBRATION: dict[str, tuple[float, float]] = {
    "paper 1 128": (142.4, 178.3), "paper 1 256": (172.5, 220.3), "paper 4 128": (273.8, 329.1),
    "paper 4 256": (423.4, 497.3), "dip 1 128": (113.7, 142.4), "dip 1 256": (162.4, 180.8),
    "dip 4 128": (155.3, 185.8), "dip 4 256": (302.7, 339.1), "decoder 1 128": (146.1, 161.7),
    "decoder 1 256": (275.4, 261.8), "decoder 4 128": (243.4, 262.9), "decoder 4 256": (653.2, 663.1),
}
ACTIVATION_FACTOR = 1.1
FIELD_COPIES = 12      # fine-grid (H, W) float32 arrays per member outside the network (see the docstring)
OVERHEAD = 128 * 2 ** 20  # a fresh process's first fit: kernel libraries' workspaces, thread arenas, setup arrays
SKIP_ENV = "SSH_DIP_NO_MEMORY_CHECK"  # set to 1 to skip the check (a user who knows better)


def _member(arch: str, shape: tuple[int, int], opts: dict) -> torch.nn.Module:
    """One member built on the meta device (parameters without storage; cached, it is never trained)."""
    key = tuple(sorted(opts.items()))
    try:
        hash(key)
    except TypeError:  # an unhashable option value: build it afresh
        return _meta_member.__wrapped__(arch, tuple(shape), key)
    return _meta_member(arch, tuple(shape), key)


@functools.lru_cache(maxsize=64)
def _meta_member(arch: str, shape: tuple[int, int], opts_items: tuple) -> torch.nn.Module:
    from dipcore.generators import GUIDED_REGISTRY, REGISTRY

    opts = dict(opts_items)
    known = {**REGISTRY, **GUIDED_REGISTRY}
    if arch not in known:
        raise SSHDipError(f"unknown architecture {arch!r}; choose from {', '.join(known)}")
    cls = known[arch].member_cls  # type: ignore[attr-defined]
    with torch.device("meta"):
        return cls(tuple(shape), None, **opts) if opts else cls(tuple(shape), None)


def activation_elements(arch: str, ny: int, nx: int, **opts: object) -> tuple[int, int, int]:
    """(saved, largest, inputs): elements per member of the tensors autograd saves for the backward pass, of the
    largest single tensor (the backward holds a few of those at once), and of the member's input.

    Counted from each architecture's layer sequence: a convolution keeps its (padded) input, a norm its input, a
    (leaky) ReLU its output or input, a reflection pad its input; nearest/bilinear up-sampling and crops keep
    nothing.
    """
    m = _member(arch, (ny, nx), dict(opts))
    if arch == "paper":
        from dipcore.generators.paper import CHANNELS, first_kernel

        kh, kw = first_kernel((ny, nx))
        saved = 2 * CHANNELS[0] * kh * kw          # head: conv-transpose output (norm input) and ReLU output
        largest, h, w = 0, kh, kw
        chans = [*CHANNELS, 1]
        for cin, cout in zip(chans[:-1], chans[1:]):
            h, w = 2 * h, 2 * w
            up, pad, out = cin * h * w, cin * (h + 2) * (w + 2), cout * h * w
            saved += up + pad + (2 * out if cout > 1 else out)  # up (pad's input), pad (conv's), conv out, ReLU
            largest = max(largest, pad, out)
        return saved, largest, 100
    if arch in ("skip", "guided_skip"):  # the guided hourglass: the same layers, the guide beside the noise
        c = m.up[0][1].out_channels
        s = m.skips[0][0].out_channels
        _, hp, wp = m.input_shape
        cin0 = m.skips[0][0].in_channels
        saved = largest = 0
        for i in range(m.levels):
            r, r1 = (hp >> i) * (wp >> i), (hp >> (i + 1)) * (wp >> (i + 1))
            cin = cin0 if i == 0 else c
            down = cin * r + 7 * c * r1                      # padded input, 2×(conv, norm, act) + padded act
            skip = 3 * s * r                                 # conv, norm, act
            up = 3 * (s + c) * r + 6 * c * r                 # cat, norm, padded; conv, norm, act; 1×1, norm, act
            saved += down + skip + up
            largest = max(largest, (s + c) * r)
        return saved + hp * wp, largest, cin0 * hp * wp
    if arch == "decoder":
        c = m.convs[0].out_channels
        cin, h0, w0 = m.input_shape
        saved = largest = 0
        for i in range(m.levels + 1):
            r = (h0 << min(i + 1, m.levels)) * (w0 << min(i + 1, m.levels))
            saved += 2 * c * r                               # ReLU output (norm input), norm output (next conv's)
            largest = max(largest, c * r)
        return saved + (h0 << m.levels) * (w0 << m.levels), largest, cin * h0 * w0
    if arch == "pix":  # per-pixel layers: each keeps its input and its activation's output
        r = ny * nx
        widths = [m.body[i].out_channels for i in range(0, len(m.body), 2)]
        return sum(2 * w * r for w in widths) + r, max(widths) * r, m.body[0].in_channels * r
    raise SSHDipError(f"no memory model for architecture {arch!r}")


def parameters(arch: str, ny: int, nx: int, **opts: object) -> int:
    """Trainable parameters of one member (built on the meta device: exact, no memory)."""
    return sum(p.numel() for p in _member(arch, (ny, nx), dict(opts)).parameters() if p.requires_grad)


def estimate_bytes(arch: str, members: int, ny: int, nx: int, device: str | torch.device = "cpu", *,
                   upsample: int = 1, latent_samples: int = 0, **arch_opts: object) -> int:
    """Peak memory (bytes) of a fit of ``members`` generators of ``arch`` for a ``ny × nx`` output.

    Parameters
    ----------
    arch : str
        A name of ``dipcore.generators.ARCHITECTURES``.
    members : int
        Ensemble size K (members are trained together: everything but the overhead scales with K).
    ny, nx : int
        The fit's (fine) grid.
    device : str or torch.device
        ``cpu`` or ``cuda`` (the same count; see the module docstring).
    upsample : int
        The network works on a grid this many times coarser than ``ny × nx`` (a recipe's ``upsample``, resolved).
    latent_samples : int
        M latent draws at the end ((M, K, H, W) outputs are kept).
    arch_opts
        The architecture's options (e.g. ``channels=64``).
    """
    k = int(members)
    up = max(1, int(upsample))
    h, w = max(1, ny // up), max(1, nx // up)
    n_par = parameters(arch, h, w, **arch_opts)
    saved, largest, inputs = activation_elements(arch, h, w, **arch_opts)
    param_copies = 6 if arch == "paper" else 4  # param, grad, Adam's 2 moments (+ concatenated weights, grads)
    per_member = (param_copies * n_par + ACTIVATION_FACTOR * saved + 3 * largest + 2 * inputs
                  + FIELD_COPIES * ny * nx + 2 * int(latent_samples) * ny * nx) * BYTES
    return int(OVERHEAD + k * per_member)



def available_bytes(device: str | torch.device = "cpu") -> int:
    """Memory a new fit can use now: CUDA free memory plus PyTorch's cached-but-unused blocks; on CPU
    ``psutil.virtual_memory().available`` (``MemAvailable`` of /proc/meminfo without psutil)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2 ** 62  # unknown: do not refuse


def check(arch: str, members: int, ny: int, nx: int, device: str | torch.device = "cpu",
          available: int | None = None, **kwargs: object) -> int:
    """Refuse (:class:`SSHDipError`) a fit whose estimated peak exceeds the available memory; return the estimate.

    ``available`` (bytes) defaults to :func:`available_bytes`; ``kwargs`` go to :func:`estimate_bytes`. Setting
    the environment variable ``SSH_DIP_NO_MEMORY_CHECK=1`` skips the refusal.
    """
    need = estimate_bytes(arch, members, ny, nx, device, **kwargs)
    if os.environ.get(SKIP_ENV, "") not in ("", "0"):
        return need
    have = available_bytes(device) if available is None else int(available)
    if need > have:
        where = "GPU memory" if torch.device(device).type == "cuda" else "memory"
        raise SSHDipError(f"this fit ({members} member(s), {arch}, {ny}×{nx}) needs about {need / GiB:.3g} GiB of "
                          f"{where} but only {have / GiB:.3g} GiB are available; use fewer members or a smaller crop")
    return need


def check_fit(recipe, members: int, shape: tuple[int, int], ratio: int, device: str | torch.device,
              latent_samples: int = 0, available: int | None = None) -> int:
    """:func:`check` for a fit of ``recipe`` (what :func:`dipcore.solver.fit` calls before allocating)."""
    return check(recipe.arch, members, shape[0], shape[1], device, available,
                 upsample=recipe.network_factor(ratio), latent_samples=latent_samples, **dict(recipe.arch_opts))
