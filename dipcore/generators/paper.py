"""The paper's generator (``arch="paper"``): a DCGAN-like decoder from a 1×1 latent, K of them run as one grouped
network.

Size rule for any H×W (the paper fixes 256×256): the decoder always has six ×2 up-samplings after its first
layer, and the first layer (a ConvTranspose2d on the 1×1 latent) has kernel ``(kh, kw) = (max(2, ⌈H/64⌉),
max(2, ⌈W/64⌉))``. The output, ``64·kh × 64·kw``, is centre-cropped to H×W. At 256×256 this is exactly the
paper's network (kernel 4, 2,393,185 parameters); other sizes change only the first layer's parameter count.
The minimum of 2 keeps the first normalisation meaningful (over one cell it would output zeros).

Normalisation: the paper trains on one image, so BatchNorm2d sees a batch of one and normalises each channel
over space. We keep BatchNorm2d's parameters and compute exactly that statistic per sample
(``instance_norm``), which also lets M latent draws pass through the fitted network independently.

Ensembles: :class:`PaperEnsemble` holds K ordinary :class:`PaperGenerator` members. On a GPU they run as one
grouped network (weights concatenated, ``groups=K``: one kernel per layer for all members; not measured on a GPU
yet); on a CPU, where ``benchmarks/bench_variants.py`` measured grouped convolutions slower than plain ones, one
member after the other.

Speed: a "nearest ×2 up-sampling, reflection padding 1, 3×3 convolution" block whose input has at least
:data:`PHASE_MIN_CELLS` cells is computed exactly at the low resolution (:func:`up_conv`): 2.25× fewer
multiply-adds and a 4× smaller input, the same numbers to fp32 rounding.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dipcore.generators.common import centre_crop, reset_parameters

LATENT_CHANNELS = 100
CHANNELS = (512, 256, 128, 64, 32, 16)
N_UP = 6  # five conv blocks + the final up-sampling
# up_conv pays where activations, not weights, dominate the cost: measured on this project's CPU
# (benchmarks/bench_variants.py, table 1) it wins at 128×128 input cells and loses at 64×64 and below
PHASE_MIN_CELLS = 128 * 128


def first_kernel(shape: tuple[int, int]) -> tuple[int, int]:
    """Kernel of the first layer for an output of ``shape`` (see the module docstring)."""
    return tuple(max(2, math.ceil(s / 2**N_UP)) for s in shape)  # type: ignore[return-value]


class PaperGenerator(nn.Module):
    """The paper's generator (appendix A.2.2) for an output of ``shape``; one member of an ensemble."""

    def __init__(self, shape: tuple[int, int] = (256, 256), generator: torch.Generator | None = None):
        super().__init__()
        self.shape = tuple(shape)
        kh, kw = first_kernel(self.shape)
        c = CHANNELS
        self.head = nn.ConvTranspose2d(LATENT_CHANNELS, c[0], (kh, kw), bias=False)
        self.head_bn = nn.BatchNorm2d(c[0])
        self.convs = nn.ModuleList(nn.Conv2d(c[i], c[i + 1], 3) for i in range(len(c) - 1))
        self.bns = nn.ModuleList(nn.BatchNorm2d(c[i + 1]) for i in range(len(c) - 1))
        self.tail = nn.Conv2d(c[-1], 1, 3)
        reset_parameters(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map latents (N, 100, 1, 1) to fields (N, 1, H, W)."""
        return grouped_forward([self], z)


def _norm_relu(x: torch.Tensor, bns: list[nn.BatchNorm2d]) -> torch.Tensor:
    w = bns[0].weight if len(bns) == 1 else torch.cat([b.weight for b in bns])
    b = bns[0].bias if len(bns) == 1 else torch.cat([b.bias for b in bns])
    return F.relu(F.instance_norm(x, weight=w, bias=b, eps=bns[0].eps))


def _phase_taps(w: torch.Tensor, dim: int) -> torch.Tensor:
    """Along ``dim`` (a size-3 tap axis): the 2-tap kernels of the two output phases, stacked as 4 taps.

    Output row 2i + a of "nearest ×2, reflect-pad 1, 3×3 conv" reads low-resolution rows i and i + 1 of the
    replicate-padded input (reflect-padding the up-sampled field repeats its edge cell, which is what
    replicate-padding the coarse field and then up-sampling gives): phase 0 with taps (w0, w1 + w2), phase 1
    with taps (w0 + w1, w2).
    """
    w0, w1, w2 = w.unbind(dim)
    return torch.stack([w0, w1 + w2, w0 + w1, w2], dim=dim)


def up_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, groups: int = 1) -> torch.Tensor:
    """``conv2d(reflect_pad(nearest_up2(x), 1), weight, bias, groups)`` computed at the low resolution.

    Each of the four output phases (row and column parity) is a 2×2 convolution of the replicate-padded input
    with the 3×3 kernel's taps summed where they read the same coarse cell: 16 instead of 36 multiply-adds per
    coarse cell and channel pair. Exact up to floating-point rounding (tests/test_generators.py).

    Parameters
    ----------
    x : torch.Tensor
        (N, C, h, w).
    weight : torch.Tensor
        (O, C / groups, 3, 3).
    bias : torch.Tensor or None
        (O,).
    groups : int
        As in ``conv2d``.

    Returns
    -------
    torch.Tensor
        (N, O, 2h, 2w).
    """
    n, _, h, w = x.shape
    o = weight.shape[0]
    og = o // groups
    k = _phase_taps(_phase_taps(weight, 2), 3)                                         # (O, C/g, 4, 4)
    k = k.reshape(groups, og, -1, 2, 2, 2, 2).permute(0, 3, 5, 1, 2, 4, 6)           # (g, a, b, O/g, C/g, 2, 2)
    k = k.reshape(4 * o, -1, 2, 2)
    b = None if bias is None else bias.reshape(groups, 1, og).expand(groups, 4, og).reshape(-1)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, b, groups=groups)     # (N, 4·O, h+1, w+1)
    y = y.reshape(n, groups, 2, 2, og, h + 1, w + 1)
    phases = [y[:, :, a, c, :, a:a + h, c:c + w] for a in (0, 1) for c in (0, 1)]  # each (N, g, O/g, h, w)
    out = torch.stack(phases, dim=-1).reshape(n, groups, og, h, w, 2, 2)
    return out.permute(0, 1, 2, 3, 5, 4, 6).reshape(n, o, 2 * h, 2 * w)


def grouped_forward(members: list[PaperGenerator], z: torch.Tensor, grouped: bool | None = None) -> torch.Tensor:
    """Run K members, as one grouped network or one after the other.

    Parameters
    ----------
    members : list of PaperGenerator
        K members with the same output shape.
    z : torch.Tensor
        Latents (N, K·100, 1, 1); member k reads channels ``k·100 … (k+1)·100``.
    grouped : bool, optional
        One grouped network (``groups=K``) or a loop over members; default: grouped on CUDA (one launch per
        layer for all members), a loop elsewhere (faster on this project's CPU: ``benchmarks/bench_variants.py``).
        Same numbers either way.

    Returns
    -------
    torch.Tensor
        (N, K, H, W): channel k is member k's field.
    """
    if grouped is None:
        grouped = z.is_cuda
    if not grouped and len(members) > 1:
        return torch.cat([_forward([m], zk) for m, zk in zip(members, z.split(LATENT_CHANNELS, dim=1))], dim=1)
    return _forward(members, z)


def _up_conv_fast(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, groups: int) -> torch.Tensor:
    """The same as :func:`up_conv`, computed whichever way is faster at this size."""
    if x.shape[-2] * x.shape[-1] >= PHASE_MIN_CELLS:
        return up_conv(x, weight, bias, groups)
    x = F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect")
    return F.conv2d(x, weight, bias, groups=groups)


def _forward(members: list[PaperGenerator], z: torch.Tensor) -> torch.Tensor:
    k = len(members)
    m0 = members[0]
    cat = (lambda ws: ws[0]) if k == 1 else torch.cat  # one member: its own tensors, no copy
    x = F.conv_transpose2d(z, cat([m.head.weight for m in members]), groups=k)
    x = _norm_relu(x, [m.head_bn for m in members])
    for i in range(len(m0.convs)):
        w = cat([m.convs[i].weight for m in members])
        b = cat([m.convs[i].bias for m in members])
        x = _norm_relu(_up_conv_fast(x, w, b, k), [m.bns[i] for m in members])
    x = _up_conv_fast(x, cat([m.tail.weight for m in members]), cat([m.tail.bias for m in members]), k)
    return centre_crop(x, m0.shape)


class PaperEnsemble(nn.Module):
    """K paper generators trained together (see :func:`grouped_forward`); member k is initialised from ``seeds[k]``.

    Its input is a latent (N, K·100, 1, 1), redrawn by the fit (``draw``) every step as the paper does.
    Implements :class:`dipcore.generators.base.GeneratorEnsemble`.
    """

    member_cls = PaperGenerator

    def __init__(self, shape: tuple[int, int], seeds: list[int], **_: object):
        super().__init__()
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.members = nn.ModuleList(PaperGenerator(shape, g) for g in gens)

    def draw(self, n: int, gens: list[torch.Generator], mu: float, sigma: float) -> torch.Tensor:
        """Fresh latents z ~ N(mu, sigma²) for every member: (n, K·100, 1, 1)."""
        dev = self.members[0].head.weight.device
        eps = [torch.randn(n, LATENT_CHANNELS, 1, 1, generator=g, device=dev) for g in gens]
        return mu + sigma * torch.cat(eps, dim=1)

    def last_layers(self) -> list[nn.Conv2d]:
        return [m.tail for m in self.members]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, K·100, 1, 1) → (N, K, H, W)."""
        return grouped_forward(list(self.members), z)
