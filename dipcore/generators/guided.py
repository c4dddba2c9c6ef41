"""Guided generators: networks that take the guide (SST's sub-cell detail and its eSQG streamfunction) as input.

``guided_skip`` is the deep-image-prior hourglass (:mod:`.skip`) whose fixed noise input has the guide's channels
beside it, as the Guided Deep Decoder feeds its guide (Uezato et al., ECCV 2020): the noise is what the member
invents, the guide what it may copy. ``pix`` is a PixTransform-style per-pixel map (de Lutio et al., ICCV 2019):
1×1 convolutions of the guide's channels and of fixed random Fourier features of position, so the member learns
a map guide → SSH that may vary slowly across the field but never looks at a neighbour.

Both take ``guide_channels`` as an option and the guide itself through :meth:`GuidedEnsemble.set_guide` (C, h, w)
on the member's output grid, after they are built (the memory check builds members without one). The guide is a
buffer, not a parameter: only the networks learn.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dipcore.generators.common import FixedInputEnsemble, reset_parameters
from dipcore.generators.skip import DEFAULTS as SKIP_DEFAULTS
from dipcore.generators.skip import SkipGenerator

GUIDE_CHANNELS = 2


class GuidedSkipGenerator(SkipGenerator):
    """One member: the hourglass with ``in_channels`` of noise and ``guide_channels`` of guide as input."""

    def __init__(self, shape: tuple[int, int], generator: torch.Generator | None = None, *,
                 guide_channels: int = GUIDE_CHANNELS, in_channels: int = SKIP_DEFAULTS["in_channels"],
                 **opts: int):
        super().__init__(shape, generator, in_channels=in_channels + guide_channels, **opts)
        self.guide_channels = guide_channels
        self.input_shape = (in_channels, *self.input_shape[1:])  # what the ensemble draws: the noise part


class PixGenerator(nn.Module):
    """One member: a per-pixel MLP of ``features`` position channels and ``guide_channels`` guide channels."""

    def __init__(self, shape: tuple[int, int], generator: torch.Generator | None = None, *,
                 guide_channels: int = GUIDE_CHANNELS, features: int = 16, hidden: int = 32, layers: int = 3):
        super().__init__()
        self.shape = tuple(shape)
        self.guide_channels = guide_channels
        self.input_shape = (features, *self.shape)
        widths = [features + guide_channels] + [hidden] * layers
        self.body = nn.Sequential(*[m for a, b in zip(widths[:-1], widths[1:])
                                    for m in (nn.Conv2d(a, b, 1), nn.LeakyReLU(0.2))])
        self.tail = nn.Conv2d(hidden, 1, 1)
        reset_parameters(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, features + guide, H, W) → (N, 1, H, W)."""
        return self.tail(self.body(z))


def _positions(shape: tuple[int, int], channels: int, generator: torch.Generator) -> torch.Tensor:
    """(channels, H, W) random Fourier features of position: cos/sin of random directions at up to 4 cycles
    across the field (slow variations only: the map may change across the field, not within an eddy)."""
    h, w = shape
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    freq = torch.randn(channels // 2, 2, generator=generator) * 2.0
    phase = 2 * math.pi * (freq[:, 0, None, None] * yy + freq[:, 1, None, None] * xx)
    return torch.cat([torch.cos(phase), torch.sin(phase)])


class GuidedEnsemble(FixedInputEnsemble):
    """K members fed their own fixed input beside one shared guide (a buffer set by :meth:`set_guide`).
    Implements :class:`dipcore.generators.base.GeneratorEnsemble`."""

    def __init__(self, shape: tuple[int, int], seeds: list[int], **opts: object):
        super().__init__(shape, seeds, **opts)
        m = self.members[0]
        self.register_buffer("guide", torch.zeros(1, m.guide_channels, *m.input_shape[1:]))

    def set_guide(self, channels: torch.Tensor) -> None:
        """The guide (C, h, w) on the members' output grid, reflected out to their input grid (centred, as the
        output is centre-cropped)."""
        c, h, w = channels.shape
        if c != self.guide.shape[1]:
            raise ValueError(f"the guide has {c} channels, the members take {self.guide.shape[1]}")
        hp, wp = self.guide.shape[-2:]
        top, left = (hp - h) // 2, (wp - w) // 2
        pad = (left, wp - w - left, top, hp - h - top)
        g = F.pad(channels[None].float(), pad, mode="replicate") if any(pad) else channels[None].float()
        self.guide = g.to(self.guide.device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, K, C, h, w) → (N, K, H, W): member k sees its input and the guide."""
        g = self.guide.expand(z.shape[0], -1, -1, -1)
        return torch.cat([m(torch.cat([z[:, k], g], dim=1)) for k, m in enumerate(self.members)], dim=1)


class GuidedSkipEnsemble(GuidedEnsemble):
    """K guided hourglass members."""

    member_cls = GuidedSkipGenerator


class PixEnsemble(GuidedEnsemble):
    """K per-pixel members; their fixed input is Fourier features of position (not noise)."""

    member_cls = PixGenerator
    input_scale = 1.0

    def __init__(self, shape: tuple[int, int], seeds: list[int], **opts: object):
        super().__init__(shape, seeds, **opts)
        gens = [torch.Generator().manual_seed(int(s) + 1) for s in seeds]
        pos = [_positions(tuple(shape), m.input_shape[0], g) for m, g in zip(self.members, gens)]
        self.z0 = torch.stack(pos)


GUIDED_REGISTRY: dict[str, type[nn.Module]] = {"guided_skip": GuidedSkipEnsemble, "pix": PixEnsemble}

__all__ = ["GUIDED_REGISTRY", "GUIDE_CHANNELS", "GuidedEnsemble", "GuidedSkipEnsemble", "GuidedSkipGenerator",
           "PixEnsemble", "PixGenerator"]
