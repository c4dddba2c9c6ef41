"""What every architecture's ensemble is to the fit: the :class:`GeneratorEnsemble` protocol.

An ensemble holds K independent members (``members``) built from the seeds it is given; it draws its own input
(``draw``: fresh latents for ``paper``, the fixed inputs perturbed by N(0, sigma²) for the fixed-input
architectures), maps it to K fields (``forward``) and names the layers a recipe zeroes to start at its base field
(``last_layers``). ``member_cls`` is the class of one member, which :mod:`dipcore.fitting.memory` builds on the meta
device to count its parameters. :func:`dipcore.generators.build_ensemble` builds one by name.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

import torch
import torch.nn as nn


@runtime_checkable
class GeneratorEnsemble(Protocol):
    """K generator members trained together on one image (an ``nn.Module``; member k seeded from ``seeds[k]``)."""

    member_cls: ClassVar[type[nn.Module]]  # one member: ``member_cls(shape, generator, **opts)``
    members: nn.ModuleList

    def draw(self, n: int, gens: list[torch.Generator], mu: float, sigma: float) -> torch.Tensor:
        """The input of ``n`` images for every member, drawn from the members' generators ``gens``."""
        ...

    def last_layers(self) -> list[nn.Conv2d]:
        """Each member's last layer (zeroed by recipes that start at their base field)."""
        ...

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """An input from :meth:`draw` → (n, K, H, W): channel k is member k's field."""
        ...


__all__ = ["GeneratorEnsemble"]
