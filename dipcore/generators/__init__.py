"""Generator architectures, registered by name, each run as an ensemble of K members.

============  =====================================================================================
``paper``     the paper's DCGAN-like decoder from a 1×1 latent redrawn every step (2,393,185 parameters
              at 256×256), K members as one grouped network (:mod:`.paper`)
``skip``      the original deep-image-prior hourglass with skip connections and a fixed full-resolution
              noise input (:mod:`.skip`)
``decoder``   an under-parameterised Deep Decoder: 1×1 convolutions and fixed bilinear up-samplings
              (:mod:`.decoder`)
============  =====================================================================================

Guided architectures (:data:`GUIDED_REGISTRY`, :mod:`.guided`) take a guide map (SST) as input beside their own:
``guided_skip`` (the hourglass with the guide's channels beside its noise) and ``pix`` (a per-pixel map of the
guide and of position). They run only in a fit given a guide (the guided recipes of :mod:`dipcore.recipes`), so
they are not in :data:`~dipcore.constants.ARCHITECTURES`, the choices offered for unguided fits.

Every ensemble is a :class:`~dipcore.generators.base.GeneratorEnsemble`: ``members`` (K ``nn.Module``),
``draw(n, gens, mu, sigma)`` (its input for n images: fresh latents for ``paper``, the fixed inputs perturbed by
N(0, sigma²) for the others), ``forward(z)`` → (n, K, H, W), ``last_layers()`` (zeroed by recipes that start at
their base field) and ``member_cls``. Shared layers and helpers are in :mod:`.common`. The names are
:data:`dipcore.constants.ARCHITECTURES` (torch-free, for the CLI); :data:`REGISTRY` maps each to its ensemble.
"""

from __future__ import annotations

import torch.nn as nn

from dipcore.constants import ARCHITECTURES
from dipcore.generators.base import GeneratorEnsemble
from dipcore.generators.decoder import DecoderEnsemble, DecoderGenerator
from dipcore.generators.paper import (LATENT_CHANNELS, PaperEnsemble, PaperGenerator, first_kernel,
                                      grouped_forward)
from dipcore.generators.guided import GUIDED_REGISTRY
from dipcore.generators.skip import SkipEnsemble, SkipGenerator

# keys in the order of ARCHITECTURES, which the CLI offers without importing torch (tests/test_startup.py checks)
REGISTRY: dict[str, type[nn.Module]] = {"paper": PaperEnsemble, "skip": SkipEnsemble, "decoder": DecoderEnsemble}


def build_ensemble(shape: tuple[int, int], seeds: list[int], arch: str = "paper",
                   **opts: object) -> GeneratorEnsemble:
    """K members of architecture ``arch`` for an output of ``shape``; member k initialised from ``seeds[k]``.

    ``opts`` go to the member's constructor (e.g. ``channels=64`` for ``skip``).
    """
    cls = REGISTRY.get(arch) or GUIDED_REGISTRY.get(arch)
    if cls is None:
        raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES + tuple(GUIDED_REGISTRY)}")
    return cls(tuple(shape), list(seeds), **opts)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["ARCHITECTURES", "DecoderGenerator", "GUIDED_REGISTRY", "GeneratorEnsemble", "LATENT_CHANNELS",
           "PaperGenerator", "REGISTRY", "SkipGenerator", "build_ensemble", "count_parameters", "first_kernel", "grouped_forward"]
