"""The original deep-image-prior hourglass with skip connections (``arch="skip"``; Ulyanov et al. 2018/2020).

Per level ``i`` (0 = full resolution): a down branch [Conv3×3 stride 2, Norm, LeakyReLU, Conv3×3, Norm,
LeakyReLU] that feeds the next level, a skip branch [Conv1×1 → ``skip`` channels, Norm, LeakyReLU], and on the
way up [bilinear ×2, concat with the skip, Norm, Conv3×3, Norm, LeakyReLU, Conv1×1, Norm, LeakyReLU]; a final
Conv1×1 to one channel. Reflection padding; LeakyReLU(0.2); BatchNorm on one image (:class:`common.Norm`). The
input is a fixed uniform-noise tensor of ``in_channels`` at the output's resolution.

The original super-resolution experiments used 128 channels, 4 skip channels, 5 levels, 32 input channels
and input noise 0.03. The default here is 32 channels (16× fewer multiply-adds than 128, so an ensemble of four
fits in minutes on a laptop CPU); ``channels=128`` gives the original.

Size rule for any H×W: ``levels`` is lowered until the coarsest level has at least 4 cells a side
(``2**levels ≤ min(H, W) / 4``); the input is the grid padded up to a multiple of ``2**levels`` and the output
is centre-cropped back to H×W. The parameter count depends only on the channel settings and ``levels``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from dipcore.generators.common import FixedInputEnsemble, Norm, centre_crop, padded, reset_parameters

DEFAULTS = {"channels": 32, "skip": 4, "levels": 5, "in_channels": 32}


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, padding_mode="reflect" if k > 1 else "zeros")


def _block(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


def levels_for(shape: tuple[int, int], levels: int) -> int:
    """Levels actually used for ``shape`` (see the size rule in the module docstring)."""
    while levels > 1 and 2 ** levels * 4 > min(shape):
        levels -= 1
    return levels


class SkipGenerator(nn.Module):
    """One member: the hourglass for an output of ``shape``."""

    def __init__(self, shape: tuple[int, int], generator: torch.Generator | None = None, *,
                 channels: int = DEFAULTS["channels"], skip: int = DEFAULTS["skip"],
                 levels: int = DEFAULTS["levels"], in_channels: int = DEFAULTS["in_channels"]):
        super().__init__()
        self.shape = tuple(shape)
        n = levels_for(self.shape, levels)
        self.levels = n
        self.input_shape = (in_channels, *padded(self.shape, 2 ** n))
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        c = channels
        self.down = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(n):
            cin = in_channels if i == 0 else c
            self.down.append(_block(_conv(cin, c, 3, 2), Norm(c), act(), _conv(c, c, 3), Norm(c), act()))
            self.skips.append(_block(_conv(cin, skip, 1), Norm(skip), act()))
            self.up.append(_block(Norm(skip + c), _conv(skip + c, c, 3), Norm(c), act(), _conv(c, c, 1), Norm(c),
                                  act()))
        self.tail = nn.Conv2d(c, 1, 1)
        reset_parameters(self, generator)

    def _level(self, i: int, x: torch.Tensor) -> torch.Tensor:
        deeper = self.down[i](x)
        if i + 1 < self.levels:
            deeper = self._level(i + 1, deeper)
        deeper = F.interpolate(deeper, scale_factor=2, mode="bilinear", align_corners=False)
        return self.up[i](torch.cat([self.skips[i](x), deeper], dim=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) fixed input → (N, 1, H, W)."""
        return centre_crop(self.tail(self._level(0, z)), self.shape)


class SkipEnsemble(FixedInputEnsemble):
    """K hourglass members."""

    member_cls = SkipGenerator
