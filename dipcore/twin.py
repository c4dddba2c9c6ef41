"""A twin experiment: a known fine field (the truth), its degraded observation and the bicubic baseline."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from dipcore.degrade import Degradation
from dipcore.io import Field


@dataclass
class Twin:
    """Everything a fit and its scores need, on the fine grid cropped to a multiple of the ratio."""

    field: Field            # the truth, cropped, with its coordinates
    observation: np.ndarray  # coarse, noisy, NaN on land
    bicubic: np.ndarray     # bicubic back-projection of the observation (the baseline)
    degradation: Degradation
    noise_fraction: float = 0.0
    ibp: np.ndarray | None = None  # iterative back-projection of the bicubic field: the classical bar to beat

    @property
    def truth(self) -> np.ndarray:
        return self.field.values

    @property
    def mask(self) -> np.ndarray:
        return self.field.mask

    @property
    def dx_km(self) -> float | None:
        """Grid spacing along x in km (for the effective resolution), None when unknown."""
        s = self.field.spacing_km
        return s[1] if s else None


def make_twin(field: Field, ratio: int, noise: float = 0.0, seed: int = 0) -> Twin:
    """Degrade ``field`` by ``ratio`` with white noise of std ``noise`` × the field's std.

    Raises
    ------
    SSHDipError
        For a ratio the grid is too small for, or a crop with no ocean at the observation's scale.
    """
    whole = Degradation.relative(ratio, noise, field.values, seed=seed)  # noise σ from the whole field's std
    ny, nx = whole.crop_shape(field.shape)
    cropped = field if (ny, nx) == field.shape else field.crop_index(0, ny, 0, nx)
    deg = replace(whole, mask=cropped.mask)  # the operator of the cropped grid, fixed from here on
    obs = deg.forward(cropped.values)
    bic = deg.bicubic(obs)
    return Twin(cropped, obs, bic, deg, noise, deg.ibp(obs, bic))
