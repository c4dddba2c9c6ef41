"""The experiments by name and their default settings (``full`` for docs/results, ``quick`` for a CI smoke run).

Plain data, no NumPy: the CLI builds its ``experiment`` parser from :data:`EXPERIMENTS` at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Default settings of one experiment (``full`` is what docs/results uses, ``quick`` is a CI smoke run)."""

    cases: tuple[str, ...]
    ratios: tuple[int, ...]
    noises: tuple[float, ...]
    members: int
    iters: int | None = None
    latent_samples: int = 0


_QUICK_CASE = ("blacksea@0:32,0:64",)
EXPERIMENTS: dict[str, dict[str, Settings]] = {
    "ratios": {
        "full": Settings(("mediterranean:0", "mediterranean:3", "gulfstream", "kuroshio", "roms_txla:1"),
                         (1, 2, 4, 8, 16, 32), (0.0, 0.05), 1),
        "quick": Settings(_QUICK_CASE, (2, 4), (0.05,), 1, 5),
    },
    "ensemble-size": {
        "full": Settings(("gulfstream", "kuroshio", "mediterranean:3"), (16,), (0.0,), 8),
        "quick": Settings(_QUICK_CASE, (4,), (0.0,), 3, 5),
    },
    "uncertainty": {
        "full": Settings(("gulfstream",), (16,), (0.0,), 8, None, 32),
        "quick": Settings(_QUICK_CASE, (4,), (0.0,), 2, 5, 4),
    },
}

__all__ = ["EXPERIMENTS", "Settings"]
