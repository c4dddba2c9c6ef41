"""An under-parameterised decoder (``arch="decoder"``; the Deep Decoder of Heckel & Hand 2019).

A fixed random input of ``channels`` at a grid ``2**levels`` times coarser than the output goes through
``levels`` blocks [Conv1×1, bilinear ×2, ReLU, Norm] and a last [Conv1×1, ReLU, Norm, Conv1×1 → 1]. No 3×3
convolution at all: every spatial structure comes from the fixed bilinear up-samplings, so the network can only
make smooth, multi-scale fields; with 64 channels and 5 levels it has ~25 k parameters, fewer than the pixels
of a 256×256 field (the under-parameterisation is the prior; nothing needs early stopping).

Size rule for any H×W: ``levels`` is lowered until the input has at least 2 cells a side
(``2**levels ≤ min(H, W) / 2``); the input grid is ⌈H/2**levels⌉ × ⌈W/2**levels⌉ and the output, up-sampled
``2**levels`` times, is centre-cropped to H×W. The parameter count depends only on ``channels`` and ``levels``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dipcore.generators.common import FixedInputEnsemble, Norm, centre_crop, reset_parameters

DEFAULTS = {"channels": 64, "levels": 5}


def levels_for(shape: tuple[int, int], levels: int) -> int:
    """Levels actually used for ``shape`` (see the size rule in the module docstring)."""
    while levels > 1 and 2 ** levels * 2 > min(shape):
        levels -= 1
    return levels


class DecoderGenerator(nn.Module):
    """One member: the deep decoder for an output of ``shape``."""

    def __init__(self, shape: tuple[int, int], generator: torch.Generator | None = None, *,
                 channels: int = DEFAULTS["channels"], levels: int = DEFAULTS["levels"]):
        super().__init__()
        self.shape = tuple(shape)
        n = levels_for(self.shape, levels)
        self.levels = n
        self.input_shape = (channels, *(math.ceil(s / 2 ** n) for s in self.shape))
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 1, bias=False) for _ in range(n + 1))
        self.norms = nn.ModuleList(Norm(channels) for _ in range(n + 1))
        self.tail = nn.Conv2d(channels, 1, 1, bias=False)
        reset_parameters(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) fixed input → (N, 1, H, W)."""
        x = z
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = conv(x)
            if i < self.levels:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = norm(F.relu(x))
        return centre_crop(self.tail(x), self.shape)


class DecoderEnsemble(FixedInputEnsemble):
    """K deep-decoder members (input: uniform noise, not scaled down, as the Deep Decoder draws it)."""

    member_cls = DecoderGenerator
    input_scale = 1.0
