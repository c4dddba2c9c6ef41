"""The options of a fit, checked in one place for :func:`dipcore.solver.fit`, :func:`dipcore.downscale.downscale`,
the degradation operator and the ``ssh-dip`` command line (whose argument types are built from :data:`BOUNDS`).

No torch, no NumPy (the recipes are plain data too): the CLI builds its parser from these bounds at start-up.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from dipcore.constants import MAX_NOISE_FRACTION, RATIOS
from dipcore.errors import SSHDipError
from dipcore.recipes import get_recipe


@dataclass(frozen=True)
class Bound:
    """The values a numeric option may take: a ``kind`` (``int`` or ``float``; floats finite) from ``minimum`` to
    ``maximum`` (None: no upper bound); ``words`` name the option in messages, ``unit`` follows the rule there."""

    kind: type
    minimum: float
    maximum: float | None = None
    words: str = ""
    unit: str = ""

    def rule(self) -> str:
        """The bound in words: ``≥ 1``, ``a finite number ≥ 0`` or ``between 0 and 1``."""
        if self.maximum is not None:
            return f"between {self.minimum:g} and {self.maximum:g}"
        return f"a finite number ≥ {self.minimum:g}" if self.kind is float else f"≥ {self.minimum:g}"

    def holds(self, value: object) -> bool:
        """Whether ``value`` is a number of this option's range (a finite one for floats)."""
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            return False
        return value >= self.minimum and (self.maximum is None or value <= self.maximum)


#: The numeric options of a fit and of a downscaling, by their keyword-argument names.
BOUNDS: dict[str, Bound] = {
    "members": Bound(int, 1, words="members"),
    "latent_samples": Bound(int, 0, words="latent samples"),
    "iters": Bound(int, 1, words="iterations"),
    "noise_sigma": Bound(float, 0.0, words="noise sigma", unit=" (metres)"),
    "noise_fraction": Bound(float, 0.0, MAX_NOISE_FRACTION, words="noise fraction", unit=" (of the field's std)"),
}


def check_ratio(ratio: object, words: str = "ratio") -> None:
    """Refuse a downscaling ratio (``words``: ``factor`` for a downscaling) that is not one of :data:`RATIOS`."""
    if ratio not in RATIOS:
        raise SSHDipError(f"{words} must be one of {', '.join(map(str, RATIOS))}; got {ratio}")


def check_options(*, ratio: int | None = None, factor: int | None = None, recipe: object = None,
                  **numbers_: float | None) -> None:
    """Refuse a bad option before any work starts; options left at None are not checked.

    Parameters
    ----------
    ratio, factor : int, optional
        A twin experiment's degradation ratio, a downscaling's refinement factor: one of :data:`RATIOS`.
    recipe : str or Recipe, optional
        A recipe name (or :class:`dipcore.recipes.Recipe`), resolved by :func:`dipcore.recipes.get_recipe`.
    **numbers_
        Any option of :data:`BOUNDS` by name (``members``, ``latent_samples``, ``iters``, ``noise_sigma``,
        ``noise_fraction``).

    Raises
    ------
    SSHDipError
        Naming the first bad option, its rule and the value given.
    """
    if ratio is not None:
        check_ratio(ratio)
    if factor is not None:
        check_ratio(factor, "factor")
    for name, value in numbers_.items():
        bound = BOUNDS[name]  # a KeyError here is a programming error, not the user's
        if value is not None and not bound.holds(value):
            raise SSHDipError(f"{bound.words} must be {bound.rule()}{bound.unit}; got {value}")
    if recipe is not None:
        get_recipe(recipe)


__all__ = ["BOUNDS", "Bound", "check_options", "check_ratio"]
