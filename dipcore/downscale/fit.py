"""Downscale real coarse SSH (no truth): one map or a time series, in this process.

The observation *is* the input: a coarse field in metres with land as NaN. :func:`downscale` fits the deep image
prior to it (``Degradation(factor, sigma=noise_sigma)``: the fine field's ``factor × factor`` block means are the
input) and returns a CF dataset on the fine grid: ``estimate`` (the members' mean), ``std`` (their spread, K > 1),
``members`` (optional), the classical ``bicubic`` and ``ibp`` estimates, the input as ``observation`` on its own
coarse dims (``<dim>_lr``), and the data misfit ``d(estimate) − observation`` (RMS and max abs).

Fine grid. Every coarse cell becomes ``factor × factor`` fine cells. Coordinates are refined at cell centres:
for coarse centres c_i with spacing Δ, the fine centres of cell i are c_i + (j + 0.5)/f·Δ − Δ/2, j = 0…f−1
(linear interpolation between coarse centres, linear extrapolation at the edges; 2-D curvilinear coordinates
the same way along each axis, longitudes unwrapped first). Land: a fine cell is ocean iff its coarse parent is
ocean, unless a fine mask is passed (then coarse cells with no fine ocean child are dropped from the data).

A 3-D (time, y, x) input returns a time series, snapshot by snapshot in this process (the same seed for every
snapshot, so a snapshot's result does not depend on which others were run); :mod:`dipcore.downscale.batch` runs
the snapshots on a Dask cluster instead. A snapshot with no ocean value is skipped and listed in the ``skipped``
attribute. :func:`open_coarse` reads several time steps of a NetCDF file as such a 3-D input.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import xarray as xr

from dipcore.cf import spread_attrs, ssh_attrs, ssh_standard_name
from dipcore.constants import MIN_COARSE
from dipcore.degrade import Degradation, pool
from dipcore.downscale.cf import MEMBER_DIM, combine, finish, time_dim, time_indices
from dipcore.downscale.finegrid import coarse_coords, coarse_names, fine_coords, refine_mask
from dipcore.downscale.source import as_metres
from dipcore.errors import SSHDipError
from dipcore.fitting.options import check_options
from dipcore.io import MAX_CELLS, grid_spacing_km

MEMBER_SPREAD = ("standard deviation across ensemble members (their spread, far smaller than the error: not the "
                 "uncertainty of the estimate, see 'uncertainty')")


def check_request(factor: int, *, members: int, recipe, device, iters: int | None, noise_sigma: float) -> None:
    """Refuse a bad configuration before any snapshot is touched (a bad snapshot is a data problem): the options
    (:func:`dipcore.fitting.options.check_options`) and the device."""
    from dipcore.solver import resolve_device  # torch: only when a downscaling is asked for

    check_options(factor=factor, members=members, iters=iters, noise_sigma=noise_sigma, recipe=recipe)
    resolve_device(device)


# ---- one snapshot ---------------------------------------------------------------------------------------------
def _observation(da: xr.DataArray, factor: int, mask) -> tuple[np.ndarray, np.ndarray, str, int]:
    """The snapshot as the fit's observation: (data, fine ocean mask, the mask's rule, coarse ocean cells dropped
    because no fine ocean cell lies under them)."""
    obs = np.asarray(da.values, dtype=np.float32)
    h, w = obs.shape
    if h < MIN_COARSE or w < MIN_COARSE:
        raise SSHDipError(f"the input grid {h}×{w} is too small: at least {MIN_COARSE}×{MIN_COARSE} cells")
    if h * w * factor * factor > MAX_CELLS:
        raise SSHDipError(f"the fine grid would be {h * factor}×{w * factor} cells, more than the {MAX_CELLS:,} "
                          "this tool handles; crop a region or use a smaller factor")
    if not np.isfinite(obs).any():
        raise SSHDipError("all land or all missing: the snapshot has no ocean value")
    fine_mask, rule = refine_mask(obs, factor, mask)
    has_child = pool(fine_mask.astype(np.float32), factor) > 0
    dropped = int((np.isfinite(obs) & ~has_child).sum())
    data = np.where(has_child, obs, np.nan).astype(np.float32)
    if not np.isfinite(data).any():
        raise SSHDipError("no ocean value of the snapshot lies over ocean of the fine mask")
    return data, fine_mask, rule, dropped


def _misfit(estimate: np.ndarray, data: np.ndarray, factor: int) -> tuple[float, float]:
    """RMS and max |·| of the estimate's block means minus the data, over the cells where both are known."""
    ok = np.isfinite(data)
    res = (pool(estimate, factor) - data)[ok & np.isfinite(pool(estimate, factor))]
    rms = float(np.sqrt(np.mean(res.astype(np.float64) ** 2))) if res.size else float("nan")
    mx = float(np.max(np.abs(res))) if res.size else float("nan")
    return rms, mx


def _variables(da: xr.DataArray, data: np.ndarray, final, bic: np.ndarray, ibp: np.ndarray,
               keep_members: bool) -> dict:
    """The result's variables as ``{name: (dims, values, attrs)}``: the fine fields and the coarse observation."""
    dims = da.dims
    sn = ssh_standard_name(da.attrs)
    v = {
        "estimate": (dims, final.estimate, ssh_attrs(sn, "deep image prior estimate (ensemble mean)",
                                                     "modelResult")),
        "bicubic": (dims, bic, ssh_attrs(sn, "bicubic interpolation of the observation (classical estimate)",
                                         "modelResult")),
        "ibp": (dims, ibp, ssh_attrs(sn, "iterative back-projection of the bicubic field onto the observation "
                                         "(classical estimate, no network)", "modelResult")),
    }
    if final.uncertainty is not None:
        v["uncertainty"] = (dims, final.uncertainty, ssh_attrs(
            sn, "predictive uncertainty of the estimate (one standard deviation), calibrated on the observation "
            "alone (dipcore.uncertainty)", "qualityInformation", True, prior=str(final.uncertainty_prior)))
    if final.member_std is not None:
        v["std"] = (dims, final.member_std, spread_attrs(sn, MEMBER_SPREAD))
    ancillary = [k for k in ("uncertainty", "std") if k in v]
    if ancillary:
        v["estimate"][2]["ancillary_variables"] = " ".join(ancillary)
    if final.guide is not None:  # a guided downscaling: the guide on the fine grid, used or not
        v["guide"] = (dims, final.guide.guide.values, final.guide.variable_attrs())
    if keep_members and final.members is not None:
        v["members"] = ((MEMBER_DIM, *dims), final.members, ssh_attrs(sn, "estimate of each ensemble member",
                                                                       "modelResult"))
    v["observation"] = (coarse_names(da), data, ssh_attrs(sn, "observation: the coarse input field (ssh-dip's model "
                                                              "of it: the block mean of the fine field)",
                                                          "physicalMeasurement", cell_methods="area: mean"))
    return v


def guide_on_fine_grid(guide, da: xr.DataArray, factor: int, fine_mask: np.ndarray):
    """A guide for the downscaling of the 2-D coarse ``da``: a :class:`dipcore.guide.Guide` (already on the fine
    grid) as it is, a :class:`dipcore.guide.GuideSource` put onto the fine grid ``fine_coords(da, factor)``."""
    from dipcore.guide import Guide, guide_on_grid

    if isinstance(guide, Guide):
        return guide
    shape = (da.shape[0] * factor, da.shape[1] * factor)
    template = xr.DataArray(np.zeros(shape, dtype=np.float32), dims=da.dims, coords=fine_coords(da, factor))
    return guide_on_grid(guide, template, fine_mask)  # the time check reads the template's time coordinate


def _downscale_2d(da: xr.DataArray, factor: int, *, members, recipe, seed, device, iters, mask, keep_members,
                  noise_sigma, progress, every, uncertainty_prior="auto", guide=None) -> xr.Dataset:
    from dipcore.solver import fit, get_recipe  # torch: only when a downscaling runs

    data, fine_mask, rule, dropped = _observation(da, factor, mask)
    deg = Degradation(factor, sigma=float(noise_sigma), mask=fine_mask)
    coarse = grid_spacing_km(da)  # the fine grid's spacing picks the uncertainty's prior
    g = guide_on_fine_grid(guide, da, factor, fine_mask) if guide is not None else None
    final = None
    for final in fit(data, deg, recipe, members=members, iters=iters, seed=seed, device=device, every=every,
                     fine_mask=fine_mask, keep_members=keep_members,
                     spacing_km=min(coarse) / factor if coarse else None, uncertainty_prior=uncertainty_prior,
                     guide=g):
        if progress is not None:
            progress(final)
    bic = deg.bicubic(data, fine_mask)
    ibp = deg.ibp(data, bic, fine_mask)
    rms, mx = _misfit(final.estimate, data, factor)
    ds = xr.Dataset({k: xr.Variable(*t) for k, t in _variables(da, data, final, bic, ibp, keep_members).items()})
    ds = ds.assign_coords({k: c for k, c in fine_coords(da, factor).items()})
    ds = ds.assign_coords(coarse_coords(da))
    ds.attrs = {
        "factor": int(factor), "members": int(members),
        "recipe": final.guide.recipe if final.guide is not None else get_recipe(recipe).name, "seed": int(seed),
        "iters": int(final.step), "noise_sigma_m": float(noise_sigma), "device": final.device,
        "seconds": round(float(final.elapsed), 3), "fine_mask_rule": rule,
        "observation_cells_dropped": dropped,
        "misfit_rms_m": rms, "misfit_max_abs_m": mx,
        **({"expected_rmse_m": float(final.expected_rmse), "uncertainty_prior": str(final.uncertainty_prior)}
           if final.expected_rmse is not None else {}),
        **({"stop_reason": final.stop_reason} if final.stop_reason else {}),
        "params_per_member": int(final.params_per_member),
        **(final.guide.attributes() if final.guide is not None else {}),
    }
    return ds


# ---- public ---------------------------------------------------------------------------------------------------
def downscale(da: xr.DataArray, factor: int, *, members: int = 4, recipe: str = "default", seed: int = 0,
              device: str = "auto", iters: int | None = None, mask=None, keep_members: bool = False,
              noise_sigma: float = 0.0, progress: Callable | None = None, every: int = 10,
              provenance: dict | None = None, history: str | None = None, uncertainty_prior: str = "auto",
              guide=None) -> xr.Dataset:
    """Downscale a coarse SSH field (no truth) by ``factor`` with a deep image prior.

    Parameters
    ----------
    da : xarray.DataArray
        Coarse SSH, (y, x) or (time, y, x); metres (or any length ``units`` of :data:`dipcore.cleaning.UNIT_SCALE`),
        NaN on land. It *is* the observation: each of its cells is the mean of ``factor × factor`` fine cells.
    factor : int
        One of :data:`dipcore.degrade.RATIOS` (2, 4, 8, 16, 32; 1 fits at the same resolution).
    members : int
        Ensemble size K (K > 1 gives ``std``).
    recipe, seed, device, iters
        As for :func:`dipcore.solver.fit` (``iters`` overrides the recipe's). Every snapshot uses the same seed.
    mask : array-like, optional
        Fine ocean mask (True = ocean), shape (y·factor, x·factor). Default: a fine cell is ocean iff its
        coarse parent is (stated in the ``fine_mask_rule`` attribute).
    keep_members : bool
        Also return every member's field (``members``, dims (member, y, x)).
    noise_sigma : float
        Known noise std of the input in metres: the answer is made consistent with the data down to it.
    uncertainty_prior : str
        What lies below the coarse cell, for ``uncertainty``: ``"auto"`` (by the fine grid spacing), ``"mapped"`` or
        ``"dynamic"`` (:func:`dipcore.uncertainty.choose_prior`).
    progress : callable, optional
        Called with every :class:`dipcore.solver.Progress` event (every ``every`` steps and the last one).
    provenance : dict, optional
        ``input`` (file or sample), ``variable``, ``crop``, ``credit``, ``title``… recorded in the attributes
        (default: the DataArray's name and source file).
    history : str, optional
        The command or call that made the result (the ``history`` attribute).
    guide : dipcore.guide.GuideSource or dipcore.guide.Guide, optional
        A guide map (SST) for a 2-D input: as read (:func:`dipcore.guide.load_guide`, put onto the fine grid here)
        or already on it. The result then has ``guide`` and the gate's ``guide_*`` attributes; the recipe runs
        guided when the guide passes the coherence gate (:func:`dipcore.solver.fit`).

    Returns
    -------
    xarray.Dataset
        On the fine grid: ``estimate``, ``uncertainty`` (its calibrated predictive std; its RMS, the truth-free
        expected RMSE, in the ``expected_rmse_m`` attribute), ``std`` (the members' spread, K > 1), ``members``
        (optional), ``bicubic``, ``ibp``; the input
        as ``observation`` on the coarse dims ``<dim>_lr``; the misfit of the estimate's block means to the input
        in the attributes ``misfit_rms_m`` and ``misfit_max_abs_m`` (a series: over all snapshots, and per
        snapshot in ``misfit_rms_m_by_snapshot``/``misfit_max_abs_m_by_snapshot``); CF-1.11/ACDD-1.3 metadata.
        3-D input: the same with a leading time dimension; snapshots with no ocean value are NaN and listed in
        the ``skipped`` attribute.

    Raises
    ------
    SSHDipError
        For a bad factor, recipe, device, mask or grid, or when no snapshot has an ocean value.
    """
    check_request(factor, members=members, recipe=recipe, device=device, iters=iters, noise_sigma=noise_sigma)
    da = as_metres(da)
    opts = dict(members=int(members), recipe=recipe, seed=int(seed), device=device, iters=iters, mask=mask,
                keep_members=keep_members, noise_sigma=float(noise_sigma), progress=progress, every=every,
                uncertainty_prior=uncertainty_prior)
    if da.ndim == 2:
        return finish(_downscale_2d(da, factor, guide=guide, **opts), da, provenance, history)
    if guide is not None:
        raise SSHDipError("a guide is one map: downscale one time step with it, not a time series")
    results, skipped = {}, {}
    for k, idx in enumerate(time_indices(da)):
        snap = da.isel({time_dim(da): k})
        try:
            results[idx] = finish(_downscale_2d(snap, factor, **opts), snap, provenance, history)
        except SSHDipError as exc:
            skipped[idx] = str(exc)
            warnings.warn(f"snapshot {idx} skipped: {exc}", stacklevel=2)
    return combine(da, results, skipped, history=history)


__all__ = ["check_request", "downscale"]
