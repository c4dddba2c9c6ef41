"""Pieces shared by the architectures, in one place: the seeded initialisation (every architecture), the centre
crop of an output to its grid (every architecture), and for the fixed-input ones (``skip``, ``decoder``) the norm,
the padded size and the ensemble that loops over its members."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


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


class Norm(nn.BatchNorm2d):
    """BatchNorm2d as the original deep image prior uses it on one image: each channel normalised over space.

    Computed per sample (``instance_norm`` with BatchNorm's affine parameters), so a batch of N perturbed
    inputs passes through the fitted network as N independent images, exactly as a batch of one would.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def padded(shape: tuple[int, int], multiple: int) -> tuple[int, int]:
    """The smallest shape ≥ ``shape`` whose sides are multiples of ``multiple``."""
    return tuple(multiple * math.ceil(s / multiple) for s in shape)  # type: ignore[return-value]


def centre_crop(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Centre crop of (..., H', W') to ``shape``."""
    h, w = shape
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class FixedInputEnsemble(nn.Module):
    """K members, each fed its own fixed random input tensor (drawn once, from the member's seed).

    ``draw`` returns the fixed inputs perturbed by N(0, sigma²) noise, redrawn at every call: the original deep
    image prior's regularising input noise during the fit, and the "latent" draws at the end. Members run one
    after the other: they share no parameter, and on CPU a loop of plain convolutions beats grouped ones.

    Subclasses set ``member_cls`` (an ``nn.Module`` taking ``(shape, generator, **opts)`` with an ``input_shape``
    attribute ``(C, h, w)`` and a ``tail`` last layer) and ``input_scale``. Implements
    :class:`dipcore.generators.base.GeneratorEnsemble`.
    """

    member_cls: type[nn.Module]
    input_scale: float = 0.1

    def __init__(self, shape: tuple[int, int], seeds: list[int], **opts: object):
        super().__init__()
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.members = nn.ModuleList(self.member_cls(tuple(shape), g, **opts) for g in gens)
        # the original DIP's input: uniform noise scaled by 1/10, fixed for the whole fit
        z = [torch.rand(m.input_shape, generator=g) * self.input_scale for m, g in zip(self.members, gens)]
        self.register_buffer("z0", torch.stack(z))

    def draw(self, n: int, gens: list[torch.Generator], mu: float, sigma: float) -> torch.Tensor:
        """(n, K, C, h, w): the fixed inputs plus N(0, sigma²) noise (``mu`` is unused: the paper's latent only)."""
        if sigma <= 0:
            return self.z0[None].expand(n, *self.z0.shape)
        eps = [torch.randn(n, *self.z0.shape[1:], generator=g, device=self.z0.device) for g in gens]
        return self.z0[None] + sigma * torch.stack(eps, dim=1)

    def last_layers(self) -> list[nn.Conv2d]:
        return [m.tail for m in self.members]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, K, C, h, w) → (N, K, H, W)."""
        return torch.cat([m(z[:, k]) for k, m in enumerate(self.members)], dim=1)


__all__ = ["FixedInputEnsemble", "Norm", "centre_crop", "padded", "reset_parameters"]
