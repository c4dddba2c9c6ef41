"""Uncertainty of a downscaled field: the calibrated predictive std every output carries (:mod:`.predictive`),
and the earlier gradient-based sub-grid std kept for comparison in docs/results.md (:mod:`.subgrid`)."""

from __future__ import annotations

from dipcore.uncertainty.predictive import (CALIBRATION, MAPPED_SPACING_KM, PRIORS, Prior, Uncertainty,
                                            choose_prior, pattern, predictive_std, priors, self_error)
from dipcore.uncertainty.subgrid import (SubgridStd, consistent_estimate, fit_stds, gradient_map, subgrid_std,
                                         total_std, try_subgrid_std)

__all__ = ["CALIBRATION", "MAPPED_SPACING_KM", "PRIORS", "Prior", "SubgridStd", "Uncertainty", "choose_prior",
           "consistent_estimate", "fit_stds", "gradient_map", "pattern", "predictive_std", "priors", "self_error",
           "subgrid_std", "total_std", "try_subgrid_std"]
