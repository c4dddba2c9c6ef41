"""Plain constants of the physics, importable without torch (the CLI's argument checks use them at start-up)."""

from __future__ import annotations

VERSION = "0.1.0"  # the package version (dipcore.__version__), here so submodules need not import their parent
ARCHITECTURES = ("paper", "skip", "decoder")  # generator names: the one list (dipcore.generators registers each)

RATIOS = (1, 2, 4, 8, 16, 32)  # the paper's ladder ×1…×32 (R03…R96 at 0.03°)
LADDER_NAMES = {1: "R03", 2: "R06", 4: "R12", 8: "R24", 16: "R48", 32: "R96"}
IBP_ROUNDS = 50  # most back-projection rounds of the IBP estimate (noise-free fields converge in fewer)
PRIORS = ("mapped", "dynamic")  # what lies below the coarse cell, for the uncertainty (dipcore.uncertainty)
MIN_COARSE = 2  # coarse cells per side below which super-resolution is meaningless
MAX_NOISE_FRACTION = 1.0  # noise std above the field's own std leaves nothing a fit could recover
