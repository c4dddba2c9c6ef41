"""argparse ``type=`` checks shared by every subcommand: a bad value is a one-line usage error (exit 2)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from dipcore.constants import MAX_NOISE_FRACTION

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


#: A noise std (metres): a finite float ≥ 0.
non_negative = at_least(float, 0.0)
#: A noise fraction of the field's std: 0 … MAX_NOISE_FRACTION.
noise_fraction = at_least(float, 0.0, MAX_NOISE_FRACTION)

__all__ = ["at_least", "noise_fraction", "non_negative"]
