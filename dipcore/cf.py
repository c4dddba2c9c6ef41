"""CF-1.11 and ACDD-1.3 metadata shared by every NetCDF file ssh-dip writes: a fit's result
(:mod:`dipcore.export`) and a downscaled map or time series (:mod:`dipcore.downscale.cf`).

The SSH variables' standard name and attributes (:func:`ssh_standard_name`, :func:`ssh_attrs`), CF-valid
coordinates with the geospatial attributes they give (:func:`cf_coordinates`), the time stamp of a scalar time
coordinate (:func:`time_stamp`, :func:`standard_calendar`) and the discovery attributes every file starts with
(:func:`global_attrs`). Tested by ``tests/test_cf.py`` with the IOOS compliance checker.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import xarray as xr

from dipcore.constants import VERSION
from dipcore.io import latlon

CONVENTIONS = "CF-1.11, ACDD-1.3"
# CF standard names (or their aliases) for sea surface height that an input may carry over to the output
CF_SSH_NAMES = frozenset({
    "sea_surface_height_above_geoid", "sea_surface_height_above_mean_sea_level",
    "sea_surface_height_above_sea_level", "sea_surface_height_above_reference_ellipsoid",
    "sea_surface_height_above_geopotential_datum", "sea_surface_height", "sea_surface_elevation",
})
# without one (ROMS zeta, a plain array), the name CMIP uses for a model's sea surface height (zos)
DEFAULT_SSH_NAME = "sea_surface_height_above_geoid"
REFERENCES = ("Unsupervised downscaling of sea surface height with deep image prior (anonymous authors, paper "
              "under double-blind review); D. Ulyanov, A. Vedaldi and V. Lempitsky, Deep image prior, Conference "
              "on Computer Vision and Pattern Recognition (CVPR), 2017")
_LENGTH_UNITS = {"m", "meter", "meters", "metre", "metres", "km", "kilometer", "kilometers", "kilometre",
                 "kilometres"}
# a fine coordinate's attributes that may not hold in the output: its bounds variable is not written
_DROP_COORD_ATTRS = ("bounds", "_FillValue", "missing_value", "coordinates", "grid_mapping")


def ssh_standard_name(attrs: dict) -> str:
    """The CF standard name of the output's SSH variables: the input's when it is a CF one, else
    ``sea_surface_height_above_sea_level`` for an anomaly and ``sea_surface_height_above_geoid`` otherwise."""
    sn = str(attrs.get("standard_name") or "")
    if sn in CF_SSH_NAMES:
        return sn
    if "anomaly" in sn:
        return "sea_surface_height_above_sea_level"
    return DEFAULT_SSH_NAME


def ssh_attrs(standard_name: str, long_name: str, content: str, std: bool = False, **extra: object) -> dict:
    """Attributes of an SSH variable in metres: its ``long_name``, the ``standard_name`` (with the
    ``standard_error`` modifier for a std) and ACDD's ``coverage_content_type`` (``content``)."""
    return {"units": "m", "long_name": long_name,
            "standard_name": f"{standard_name} standard_error" if std else standard_name,
            "coverage_content_type": content, **extra}


def spread_attrs(standard_name: str, long_name: str) -> dict:
    """Attributes of a spread in metres that is not the estimate's uncertainty (the members', the latent draws').
    CF has no name for an ensemble spread, and ACDD asks for one: it keeps the ``standard_error`` modifier, and a
    ``comment`` says what it is not."""
    return ssh_attrs(standard_name, long_name, "qualityInformation", True,
                     comment="a spread of the fit, far smaller than its error: the estimate's standard error is the "
                             "variable 'uncertainty'")


def uncertainty_attrs(standard_name: str, final) -> dict:
    """Attributes of the predictive ``uncertainty`` of a fit's last event ``final`` (a ``Progress``)."""
    return ssh_attrs(standard_name, "predictive uncertainty of the estimate (one standard deviation), calibrated on "
                     "the observation alone (dipcore.uncertainty)", "qualityInformation", True,
                     expected_rmse_m=float(final.expected_rmse), prior=str(final.uncertainty_prior))


def utc_now() -> str:
    """Now, in UTC, as the ISO 8601 stamp of ``date_created`` and ``history``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def global_attrs(*, title: str, summary: str, keywords: str, source: str, call: str, credit: str) -> dict:
    """The discovery attributes every file starts with; ``call`` (the command or function that made the file)
    goes to ``history`` with the time stamp and the ssh-dip version."""
    created = utc_now()
    if f"ssh-dip {VERSION}" not in call:
        call = f"{call} (ssh-dip {VERSION})"
    return {"Conventions": CONVENTIONS, "title": title, "summary": summary, "keywords": keywords, "source": source,
            "history": f"{created} {call}", "references": REFERENCES, "date_created": created, "credit": credit,
            **({"acknowledgement": credit} if credit else {})}


def time_stamp(ds: xr.Dataset) -> str | None:
    """The ISO 8601 stamp (``…Z``) of the first scalar time coordinate of ``ds`` that is set, or None."""
    for c in ds.coords.values():
        v = np.asarray(c.values)
        if v.ndim == 0 and np.issubdtype(v.dtype, np.datetime64) and not np.isnat(v):
            return np.datetime_as_string(v, unit="s") + "Z"
    return None


def standard_calendar(ds: xr.Dataset) -> None:
    """Time coordinates: CF-1.11's ``units_metadata`` (datetime64 values count no leap seconds), in place."""
    for c in ds.coords.values():
        if np.issubdtype(c.dtype, np.datetime64):
            ds.variables[c.name].attrs["units_metadata"] = "leap_seconds: none"


def _coordinate_attrs(name: str, c: xr.DataArray, role: str | None, axis: str | None, coarse: bool) -> dict:
    """The CF attributes of one coordinate (see :func:`cf_coordinates`)."""
    attrs = {k: v for k, v in c.attrs.items() if k not in _DROP_COORD_ATTRS}
    for k in ("valid_min", "valid_max", "valid_range"):  # CF: of the variable's own type
        if k in attrs and np.issubdtype(c.dtype, np.number):
            attrs[k] = np.asarray(attrs[k]).astype(c.dtype)
    if role is not None:
        attrs["standard_name"] = role
        attrs["units"] = "degrees_north" if role == "latitude" else "degrees_east"
        if axis:
            attrs["axis"] = axis
        attrs.setdefault("long_name", role)
    elif np.issubdtype(c.dtype, np.datetime64):
        attrs.setdefault("standard_name", "time")
        attrs.setdefault("long_name", "time")
    elif axis and str(attrs.get("units", "")).lower() in _LENGTH_UNITS:  # plain y/x distances (km)
        attrs["standard_name"] = f"projection_{axis.lower()}_coordinate"
        attrs["axis"] = axis
        attrs.setdefault("long_name", f"{axis.lower()} distance")
    elif "long_name" not in attrs and "standard_name" not in attrs:
        attrs["long_name"] = name
    if coarse:
        base = attrs.get("long_name", name)
        attrs["long_name"] = f"{base} of the observation grid cells (block mean)"
    return attrs


def cf_coordinates(ds: xr.Dataset, field_da: xr.DataArray) -> dict:
    """Make every coordinate of ``ds`` CF-valid in place (no ``_FillValue``, typed valid range, names and units,
    axis on 1-D grid axes; ``<name>_lr`` ones are the observation grid's) and return the geospatial global
    attributes (empty when the grid of the 2-D ``field_da`` has no latitude/longitude)."""
    lat, lon = latlon(field_da)
    ydim, xdim = field_da.dims
    roles = {}
    if lat is not None and lon is not None:
        roles.update({lat.name: "latitude", f"{lat.name}_lr": "latitude",
                      lon.name: "longitude", f"{lon.name}_lr": "longitude"})
    for name, c in ds.coords.items():
        coarse = name.endswith("_lr") and name[:-3] in field_da.coords
        one_d = c.ndim == 1 and c.dims[0] in (ydim, xdim, f"{ydim}_lr", f"{xdim}_lr")
        axis = ("Y" if c.dims[0] in (ydim, f"{ydim}_lr") else "X") if one_d else None
        var = ds.variables[name]
        var.attrs = _coordinate_attrs(name, c, roles.get(name), axis, coarse)
        var.encoding["_FillValue"] = None
        var.encoding.pop("missing_value", None)
    if lat is None or lon is None:
        return {}
    la, lo = ds[lat.name].values, ds[lon.name].values
    return {"geospatial_lat_min": float(np.nanmin(la)), "geospatial_lat_max": float(np.nanmax(la)),
            "geospatial_lat_units": "degrees_north",
            "geospatial_lon_min": float(np.nanmin(lo)), "geospatial_lon_max": float(np.nanmax(lo)),
            "geospatial_lon_units": "degrees_east"}


__all__ = ["CF_SSH_NAMES", "CONVENTIONS", "DEFAULT_SSH_NAME", "REFERENCES", "cf_coordinates", "global_attrs",
           "ssh_attrs", "ssh_standard_name", "standard_calendar", "time_stamp", "utc_now"]
