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

Ensembles: :class:`Ensemble` holds K ordinary :class:`PaperGenerator` members and runs them together as one
grouped network (weights concatenated, ``groups=K``): one forward/backward per step for all members, and
K = 1 is the same code path.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_CHANNELS = 100
CHANNELS = (512, 256, 128, 64, 32, 16)
N_UP = 6  # five conv blocks + the final up-sampling


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


def reset_parameters(module: nn.Module, generator: torch.Generator | None) -> None:
    """PyTorch's default initialisation, drawn from ``generator`` so seeding never touches the global RNG
    (fits of several browser sessions run in parallel threads)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _norm_relu(x: torch.Tensor, bns: list[nn.BatchNorm2d]) -> torch.Tensor:
    w = torch.cat([b.weight for b in bns])
    b = torch.cat([b.bias for b in bns])
    return F.relu(F.instance_norm(x, weight=w, bias=b, eps=bns[0].eps))


def _up_pad(x: torch.Tensor) -> torch.Tensor:
    return F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect")


def grouped_forward(members: list[PaperGenerator], z: torch.Tensor) -> torch.Tensor:
    """Run K members as one grouped network.

    Parameters
    ----------
    members : list of PaperGenerator
        K members with the same output shape.
    z : torch.Tensor
        Latents (N, K·100, 1, 1); member k reads channels ``k·100 … (k+1)·100``.

    Returns
    -------
    torch.Tensor
        (N, K, H, W): channel k is member k's field.
    """
    k = len(members)
    m0 = members[0]
    x = F.conv_transpose2d(z, torch.cat([m.head.weight for m in members]), groups=k)
    x = _norm_relu(x, [m.head_bn for m in members])
    for i in range(len(m0.convs)):
        w = torch.cat([m.convs[i].weight for m in members])
        b = torch.cat([m.convs[i].bias for m in members])
        x = _norm_relu(F.conv2d(_up_pad(x), w, b, groups=k), [m.bns[i] for m in members])
    x = F.conv2d(_up_pad(x), torch.cat([m.tail.weight for m in members]),
                 torch.cat([m.tail.bias for m in members]), groups=k)
    h, w = m0.shape
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class PaperEnsemble(nn.Module):
    """K paper generators trained together as one grouped network; member k is initialised from ``seeds[k]``.

    Its input is a latent (N, K·100, 1, 1), redrawn by the fit (``draw``) every step as the paper does.
    """

    input_kind = "latent"

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
