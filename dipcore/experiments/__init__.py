"""Experiment sweeps that reproduce the paper's figures on real SSH: ``ratios``, ``ensemble-size``, ``uncertainty``.

Each experiment degrades real fields (twin experiment), fits the deep image prior, scores it against the truth
next to the bicubic and IBP baselines, and writes under an output folder a tidy CSV, PNG figures and
(``uncertainty``) a NetCDF of the maps. The same functions serve the CLI (``ssh-dip experiment NAME --out DIR``,
:mod:`dipcore.cli.experiment`) and the explorer, which passes ``on_progress(message, fraction)`` and
``should_stop()`` callbacks.

``ratios``
    RMSE, SSIM, nRMSE µ and effective resolution against the ratio ×1…×32, DIP vs bicubic, with and without
    noise, averaged over several snapshots (paper Fig. 3).
``ensemble-size``
    Scores of the mean of the first k members, k = 1…K, from one batched fit of K members, next to the mean
    single-member score (paper Fig. 5 and 9).
``uncertainty``
    Latent-sample std and ensemble std maps next to |error|, their correlation with |error|, spread/skill,
    CRPS, and a binned spread-vs-error plot (paper Fig. 6).

Case specifications: ``sample[:time][@y0:y1,x0:x1]`` (``mediterranean:3``, ``blacksea@0:32,0:64``) or a NetCDF
``path[:time][@y0:y1,x0:x1]``; ``…:START:STOP`` is one case per time index (``mediterranean:0:7``).

Every case × ratio × noise is one fit: in this process one after the other, or (``workers=N`` or
``scheduler=ADDRESS``, ``ssh-dip experiment … --workers N | --scheduler ADDRESS``) one Dask task each on a local
or running cluster, with the same numbers and files (:mod:`dipcore.experiments.parallel`; how to start a
cluster by hand: ``dask scheduler``, then ``dask worker ADDRESS --nthreads 1`` on each machine).

Modules, each importable on its own (arrows point down; none imports the CLI or a UI library):

==================  ==========================================================================================
``settings``        :class:`Settings` and the registry :data:`EXPERIMENTS` (full and quick defaults); no NumPy
``cases``           :class:`Case`, :func:`parse_case` and :func:`expand_cases`
``tables``          pure scoring helpers and the tidy tables' columns and summaries (NumPy, pandas)
``runner``          progress and cancellation (:class:`ExperimentCancelled`), one fit to its end
``results``         :class:`ExperimentResult`, the output folder, :func:`load_results`
``figures``         the PNG figures (matplotlib, Agg)
``fits``            one case × ratio × noise: twin, fit, scores (the serial loops and the Dask task)
``parallel``        the fits as Dask tasks on a cluster (:mod:`dipcore.downscale.cluster`), outcomes as they finish
``ratios``          :func:`run_ratios` (paper Fig. 3)
``ensemble_size``   :func:`run_ensemble_size` (paper Fig. 5 and 9)
``uncertainty``     :func:`run_uncertainty` (paper Fig. 6)
``run``             :func:`run_experiment`: one experiment by name with its defaults
==================  ==========================================================================================

The public names below are imported lazily (PEP 562), as in :mod:`dipcore`: the CLI reads :data:`EXPERIMENTS`
to build its parser without loading NumPy, pandas, torch or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {  # public name -> the module of this package that defines it
    "Settings": "settings", "EXPERIMENTS": "settings",
    "Case": "cases", "expand_cases": "cases", "parse_case": "cases",
    "STEP_MARKER": "runner", "ExperimentCancelled": "runner", "ProgressFn": "runner", "StopFn": "runner",
    "default_recipe": "runner",
    "ExperimentResult": "results", "load_results": "results",
    "RATIO_COLUMNS": "tables", "ENSEMBLE_COLUMNS": "tables", "ENSEMBLE_METHODS": "tables",
    "UNCERTAINTY_COLUMNS": "tables", "cumulative_means": "tables", "gaussian_crps": "tables",
    "score_row": "tables", "ensemble_size_rows": "tables", "uncertainty_rows": "tables",
    "ratios_summary": "tables", "ensemble_summary": "tables",
    "plot_ratios": "figures", "plot_ratio_maps": "figures", "plot_ensemble_size": "figures",
    "plot_uncertainty_maps": "figures", "plot_spread_error": "figures",
    "run_ratios": "ratios", "run_ensemble_size": "ensemble_size", "run_uncertainty": "uncertainty",
    "run_experiment": "run",
}
__all__ = ["ENSEMBLE_COLUMNS", "ENSEMBLE_METHODS", "EXPERIMENTS", "RATIO_COLUMNS", "STEP_MARKER",
           "UNCERTAINTY_COLUMNS", "Case", "ExperimentCancelled", "ExperimentResult", "ProgressFn", "Settings",
           "StopFn", "cumulative_means", "default_recipe", "ensemble_size_rows", "ensemble_summary", "expand_cases",
           "gaussian_crps", "load_results", "parse_case", "plot_ensemble_size", "plot_ratio_maps", "plot_ratios",
           "plot_spread_error", "plot_uncertainty_maps", "ratios_summary", "run_ensemble_size", "run_experiment",
           "run_ratios", "run_uncertainty", "score_row", "uncertainty_rows"]

if TYPE_CHECKING:  # for type checkers and IDEs only
    from dipcore.experiments.cases import Case, expand_cases, parse_case
    from dipcore.experiments.ensemble_size import run_ensemble_size
    from dipcore.experiments.figures import (plot_ensemble_size, plot_ratio_maps, plot_ratios, plot_spread_error,
                                             plot_uncertainty_maps)
    from dipcore.experiments.ratios import run_ratios
    from dipcore.experiments.results import ExperimentResult, load_results
    from dipcore.experiments.run import run_experiment
    from dipcore.experiments.runner import (STEP_MARKER, ExperimentCancelled, ProgressFn, StopFn,
                                            default_recipe)
    from dipcore.experiments.settings import EXPERIMENTS, Settings
    from dipcore.experiments.tables import (ENSEMBLE_COLUMNS, ENSEMBLE_METHODS, RATIO_COLUMNS,
                                            UNCERTAINTY_COLUMNS, cumulative_means, ensemble_size_rows,
                                            ensemble_summary, gaussian_crps, ratios_summary, score_row,
                                            uncertainty_rows)
    from dipcore.experiments.uncertainty import run_uncertainty


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dipcore.experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
