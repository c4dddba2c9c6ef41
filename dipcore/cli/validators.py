"""argparse ``type=`` checks shared by every subcommand: a bad value is a one-line usage error (exit 2). The
options a fit and a downscaling share take their bounds from :data:`dipcore.fitting.options.BOUNDS`, the one
table the library checks them against too (:func:`option`)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from dipcore.fitting.options import BOUNDS

_KIND = {int: "integer", float: "number"}


def at_least(kind: type, minimum: float, maximum: float | None = None) -> Callable[[str], int | float]:
    """A parser of ``kind`` (``int`` or ``float``) that refuses values below ``minimum`` (or above ``maximum``),
    NaN and infinities.

    >>> at_least(float, 0)("0.05")
    0.05
    """
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {_KIND.get(kind, kind.__name__)}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number ≥ {minimum:g}")
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be ≥ {minimum:g}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} must be ≤ {maximum:g}")
        return value
    return parse


def option(name: str) -> Callable[[str], int | float]:
    """The parser of the fit option ``name`` of :data:`~dipcore.fitting.options.BOUNDS` (``members``,
    ``latent_samples``, ``iters``, ``noise_sigma``, ``noise_fraction``): its kind and bounds, as the library
    checks them.

    >>> option("members")("4")
    4
    """
    bound = BOUNDS[name]
    return at_least(bound.kind, bound.minimum, bound.maximum)


#: A finite float ≥ 0 (the noise fractions of a sweep).
non_negative = at_least(float, 0.0)

__all__ = ["at_least", "non_negative", "option"]
