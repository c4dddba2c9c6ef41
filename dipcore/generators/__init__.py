"""Generator architectures, registered by name, each run as an ensemble of K members.

============  =====================================================================================
``paper``     the paper's DCGAN-like decoder from a 1×1 latent redrawn every step (2,393,185 parameters
              at 256×256), K members as one grouped network (:mod:`.paper`)
``skip``      the original deep-image-prior hourglass with skip connections and a fixed full-resolution
              noise input (:mod:`.skip`)
``decoder``   an under-parameterised Deep Decoder: 1×1 convolutions and fixed bilinear up-samplings
              (:mod:`.decoder`)
============  =====================================================================================

Every ensemble has ``members`` (K ``nn.Module``), ``draw(n, gens, mu, sigma)`` (its input for n images:
fresh latents for ``paper``, the fixed inputs perturbed by N(0, sigma²) for the others), ``forward(z)`` →
(n, K, H, W) and ``last_layers()`` (zeroed by recipes that start at their base field).
"""

from __future__ import annotations

import torch.nn as nn

from dipcore.generators.decoder import DecoderEnsemble, DecoderGenerator
from dipcore.generators.paper import (LATENT_CHANNELS, PaperEnsemble, PaperGenerator, first_kernel,
                                      grouped_forward)
from dipcore.generators.skip import SkipEnsemble, SkipGenerator

REGISTRY: dict[str, type[nn.Module]] = {"paper": PaperEnsemble, "skip": SkipEnsemble, "decoder": DecoderEnsemble}
ARCHITECTURES = tuple(REGISTRY)


def Ensemble(shape: tuple[int, int], seeds: list[int], arch: str = "paper", **opts: object) -> nn.Module:
    """K members of architecture ``arch`` for an output of ``shape``; member k initialised from ``seeds[k]``.

    ``opts`` go to the member's constructor (e.g. ``channels=64`` for ``skip``).
    """
    if arch not in REGISTRY:
        raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES}")
    return REGISTRY[arch](tuple(shape), list(seeds), **opts)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["ARCHITECTURES", "DecoderGenerator", "Ensemble", "LATENT_CHANNELS", "PaperGenerator", "REGISTRY",
           "SkipGenerator", "count_parameters", "first_kernel", "grouped_forward"]
