"""Load sea surface height from NetCDF into a :class:`Field` (metres, land as NaN).

The SSH variable is found by CF ``standard_name`` first, then by the names real products use, or named by the
user. Inputs of more dimensions give one time step and one level (:mod:`dipcore.selection`); crops go by lat/lon
box or index box; regular and curvilinear grids both load (curvilinear grids are cropped and pooled in index
space).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import xarray as xr

from dipcore.cleaning import clean_values, sorted_axes, unit_scale, warn
from dipcore.errors import SSHDipError
from dipcore.selection import select_map, split_dims

SSH_STANDARD_NAMES = (
    "sea_surface_height_above_geoid",
    "sea_surface_height_above_sea_level",
    "sea_surface_height",
    "sea_surface_height_above_mean_sea_level",
    "sea_surface_height_above_reference_ellipsoid",
    "sea_surface_elevation",
    "sea_surface_height_above_geopotential_datum",
    "sea_surface_height_anomaly",
    "sea_surface_height_above_sea_level_anomaly",
)
SSH_NAMES = ("adt", "sla", "zos", "ssh", "sossheig", "zeta", "eta", "ssha", "sea_surface_height", "ssh_mod",
             "mdt", "elevation", "surf_el", "h")
LAT_NAMES = ("latitude", "lat", "nav_lat", "lat_rho", "y_latitude", "yt_ocean", "geolat")
LON_NAMES = ("longitude", "lon", "nav_lon", "lon_rho", "x_longitude", "xt_ocean", "geolon")
MIN_SIDE = 8            # smaller grids cannot be degraded even by ×2 in any useful way
MAX_CELLS = 4096 * 4096  # guard against a grid that would not fit a fit in memory
EARTH_KM_PER_DEG = 111.195


@dataclass
class Field:
    """A 2-D SSH field in metres with land as NaN.

    Attributes
    ----------
    data : xarray.DataArray
        2-D (y, x) float32 array, coordinates kept (1-D lat/lon, 2-D curvilinear, or none).
    name : str
        Variable name in the source file.
    source : str
        Where it came from (path, sample name or ``"<bytes>"``).
    attrs : dict
        Extra provenance (credit line, time stamp, standard name).
    """

    data: xr.DataArray
    name: str = "ssh"
    source: str = ""
    attrs: dict = field(default_factory=dict)

    @classmethod
    def from_array(cls, values: np.ndarray, name: str = "ssh", dx_km: float | None = None) -> "Field":
        """Wrap a plain 2-D array (metres, NaN = land); ``dx_km`` gives an isotropic grid spacing."""
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2:
            raise SSHDipError(f"expected a 2-D array, got shape {values.shape}")
        da = xr.DataArray(values, dims=("y", "x"), name=name, attrs={"units": "m"})
        if dx_km is not None:
            da = da.assign_coords(y=np.arange(values.shape[0]) * dx_km, x=np.arange(values.shape[1]) * dx_km)
            da.y.attrs["units"] = da.x.attrs["units"] = "km"
        return cls(da, name=name, source="<array>")

    @property
    def values(self) -> np.ndarray:
        return self.data.values

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def mask(self) -> np.ndarray:
        """Ocean mask (True where the field has a value)."""
        return np.isfinite(self.data.values)

    @property
    def land_fraction(self) -> float:
        return float(1.0 - self.mask.mean())

    @property
    def spacing_km(self) -> tuple[float, float] | None:
        """Mean grid spacing (dy, dx) in km, or None when the grid has no usable coordinates."""
        return grid_spacing_km(self.data)

    def crop_index(self, y0: int, y1: int, x0: int, x1: int) -> "Field":
        """Crop by index box ``[y0:y1, x0:x1]`` (Python slice semantics)."""
        ny, nx = self.shape
        if not (0 <= y0 < y1 <= ny and 0 <= x0 < x1 <= nx):
            raise SSHDipError(f"index crop [{y0}:{y1}, {x0}:{x1}] is outside the {ny}×{nx} grid")
        return self._with(self.data.isel({self.data.dims[0]: slice(y0, y1), self.data.dims[1]: slice(x0, x1)}))

    def crop_box(self, lat0: float, lat1: float, lon0: float, lon1: float) -> "Field":
        """Crop to the cells whose centres fall in a lat/lon box (curvilinear grids: the bounding index box)."""
        lat, lon = latlon(self.data)
        if lat is None or lon is None:
            raise SSHDipError("this grid has no latitude/longitude coordinates; crop by index instead")
        lat0, lat1 = sorted((lat0, lat1))
        lon2d, lat2d = np.broadcast_arrays(*_as_2d(lon.values, lat.values, self.data))
        if np.nanmax(lon2d) > 180 and min(lon0, lon1) < 0:  # box given in -180..180, grid in 0..360
            lon0, lon1 = lon0 % 360, lon1 % 360
        lo, hi = sorted((lon0, lon1))
        inside = (lat2d >= lat0) & (lat2d <= lat1) & (lon2d >= lo) & (lon2d <= hi)
        if not inside.any():
            raise SSHDipError(
                f"the box lat {lat0}..{lat1}, lon {lon0}..{lon1} contains no grid cell "
                f"(grid covers lat {np.nanmin(lat2d):.2f}..{np.nanmax(lat2d):.2f}, "
                f"lon {np.nanmin(lon2d):.2f}..{np.nanmax(lon2d):.2f})")
        rows, cols = np.where(inside.any(axis=1))[0], np.where(inside.any(axis=0))[0]
        return self.crop_index(rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)

    def _with(self, da: xr.DataArray) -> "Field":
        f = Field(da, name=self.name, source=self.source, attrs=dict(self.attrs))
        f.check()
        return f

    def check(self) -> None:
        """Refuse fields no fit can use: too small, too large, all land."""
        ny, nx = self.shape
        if ny < MIN_SIDE or nx < MIN_SIDE:
            raise SSHDipError(f"the grid is {ny}×{nx}; at least {MIN_SIDE}×{MIN_SIDE} cells are needed")
        if ny * nx > MAX_CELLS:
            raise SSHDipError(f"the grid is {ny}×{nx} = {ny * nx:,} cells, more than the {MAX_CELLS:,} "
                              "this tool handles; crop a region first")
        if not self.mask.any():
            raise SSHDipError(f"the selected region of {self.source or 'the field'} is all land (no ocean value)")
        ocean = self.values[self.mask]
        if float(ocean.max()) - float(ocean.min()) <= 1e-9 * max(1.0, float(np.abs(ocean).max())):
            raise SSHDipError(f"the selected region of {self.source or 'the field'} is constant "
                              f"({float(ocean[0]):.4g} m everywhere): there is nothing to downscale")


def grid_spacing_km(da: xr.DataArray) -> tuple[float, float] | None:
    """Mean (dy, dx) grid spacing in km from lat/lon (1-D or 2-D) or km coordinates; None if unknown."""
    ydim, xdim = da.dims[-2], da.dims[-1]
    lat, lon = latlon(da)
    if lat is not None and lon is not None:
        lon2d, lat2d = _as_2d(lon.values, lat.values, da)
        lon2d, lat2d = np.broadcast_arrays(lon2d, lat2d)
        if lat2d.shape[0] < 2 or lat2d.shape[1] < 2:
            return None
        coslat = np.cos(np.deg2rad(lat2d))
        dlon_x = (np.diff(lon2d, axis=1) + 180) % 360 - 180
        dx = np.hypot(dlon_x * coslat[:, 1:], np.diff(lat2d, axis=1)) * EARTH_KM_PER_DEG
        dlon_y = (np.diff(lon2d, axis=0) + 180) % 360 - 180
        dy = np.hypot(dlon_y * coslat[1:, :], np.diff(lat2d, axis=0)) * EARTH_KM_PER_DEG
        return float(np.nanmean(dy)), float(np.nanmean(dx))
    if ydim in da.coords and xdim in da.coords and da[xdim].attrs.get("units") == "km":
        return float(np.abs(np.diff(da[ydim].values)).mean()), float(np.abs(np.diff(da[xdim].values)).mean())
    return None


def _as_2d(lon: np.ndarray, lat: np.ndarray, da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    if lon.ndim == 1 and lat.ndim == 1:
        return np.meshgrid(lon, lat)
    return lon, lat


def _find_coord(da: xr.DataArray, names: Sequence[str], standard_name: str, units: str) -> xr.DataArray | None:
    for c in da.coords.values():
        if c.attrs.get("standard_name") == standard_name or c.attrs.get("units") == units:
            return c
    for n in names:
        if n in da.coords:
            return da.coords[n]
    return None


def latlon(da: xr.DataArray) -> tuple[xr.DataArray | None, xr.DataArray | None]:
    """The latitude and longitude coordinates of ``da`` (by CF standard name or units, then by common names),
    each None when it has none."""
    lat = _find_coord(da, LAT_NAMES, "latitude", "degrees_north")
    lon = _find_coord(da, LON_NAMES, "longitude", "degrees_east")
    return lat, lon


def match_variable(ds: xr.Dataset, candidates: Sequence[str], standard_names: Sequence[str],
                   names: Sequence[str]) -> str | None:
    """The first of ``candidates`` (variable names of ``ds``) whose CF ``standard_name`` is one of
    ``standard_names`` (in their order), else whose name is one of ``names`` (case-insensitive, in their order);
    None when none is. One rule for the SSH variable and for a guide's (:mod:`dipcore.guide.reading`)."""
    for sn in standard_names:
        for n in candidates:
            if ds[n].attrs.get("standard_name") == sn:
                return n
    lower = {n.lower(): n for n in candidates}
    return next((lower[n] for n in names if n in lower), None)


def find_ssh_variable(ds: xr.Dataset, source: str = "the file") -> str:
    """Name of the SSH variable in ``ds``: CF standard_name first, then common names.

    Raises
    ------
    SSHDipError
        When nothing looks like SSH; the message lists the variables present.
    """
    grids = [n for n, v in ds.data_vars.items() if v.ndim >= 2]
    found = match_variable(ds, grids, SSH_STANDARD_NAMES, SSH_NAMES)
    if found is not None:
        return found
    if not ds.data_vars:
        raise SSHDipError(f"{source} holds no data variables: it is empty or not an SSH NetCDF file")
    if not grids:
        listing = ", ".join(f"{n}{tuple(ds[n].dims)}" for n in ds.data_vars)
        raise SSHDipError(f"{source} holds no 2-D variable (variables: {listing}): an SSH map on a (y, x) grid "
                          "is needed")
    listing = ", ".join(f"{n}{tuple(ds[n].dims)}" for n in ds.data_vars)
    raise SSHDipError(f"no sea surface height variable found in {source} (variables: {listing}); "
                      "name one with --var")


def open_dataset(source: str | os.PathLike | bytes) -> tuple[xr.Dataset, str]:
    """Open a NetCDF file (path or bytes) fully into memory; return it and its label for messages (the path, or
    ``<upload>`` for bytes, which go through a temporary file: netCDF4 reads paths).

    Raises
    ------
    SSHDipError
        For a missing, empty, broken or oversized file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = "<upload>"
        with tempfile.NamedTemporaryFile(suffix=".nc", delete=False) as tmp:
            tmp.write(bytes(source))
        path = tmp.name
    else:
        path = str(source)
        label = path
        if not Path(path).exists():
            raise SSHDipError(f"file not found: {path}")
        if Path(path).is_dir():
            raise SSHDipError(f"{path} is a folder, not a NetCDF file")
    try:
        if os.path.getsize(path) == 0:
            raise SSHDipError(f"{label} is empty (0 bytes): not a NetCDF file")
        with xr.open_dataset(path, engine="netcdf4") as ds:
            for name, var in ds.data_vars.items():  # refuse before reading: a lazy variable costs nothing yet
                if var.ndim >= 2 and var.shape[-1] * var.shape[-2] > MAX_CELLS:
                    ny, nx = var.shape[-2:]
                    raise SSHDipError(f"variable {name!r} in {label} is {ny}×{nx} = {ny * nx:,} cells, more than "
                                      f"the {MAX_CELLS:,} this tool handles; crop a region first (e.g. with "
                                      "ncks or xarray) and pass the smaller file")
            return ds.load(), label
    except SSHDipError:
        raise
    except Exception as exc:  # netCDF4/HDF5 raise OSError, ValueError, RuntimeError... on broken files
        detail = str(exc).replace(path, label)  # an upload's temporary path means nothing to the user
        raise SSHDipError(f"cannot read {label} as NetCDF ({type(exc).__name__}: {detail})") from exc
    finally:
        if label == "<upload>":
            os.unlink(path)


def load_field(source: str | os.PathLike | bytes, var: str | None = None, time: int = 0,
               crop: Sequence[float] | None = None, index_crop: Sequence[int] | None = None,
               level: int | None = None) -> Field:
    """Load one 2-D SSH field from a NetCDF path or bytes.

    Parameters
    ----------
    source : path or bytes
        NetCDF file (netCDF-3 or 4) or its content.
    var : str, optional
        Variable to read; found automatically when omitted.
    time : int
        Index of the time step for 3-D variables.
    crop : (lat0, lat1, lon0, lon1), optional
        Geographic box.
    index_crop : (y0, y1, x0, x1), optional
        Index box, applied after ``crop``.
    level : int, optional
        Index along a variable's extra non-time dimension (a depth…); default: the shallowest, with a warning
        (:func:`dipcore.selection.select_map`).

    Returns
    -------
    Field
        float32, metres, land as NaN, coordinates kept.

    Raises
    ------
    SSHDipError
        On any bad input, with a message naming the file, the variable and what was expected.
    """
    ds, label = open_dataset(source)
    if var is not None and var not in ds.data_vars:
        listing = ", ".join(ds.data_vars) or "none"
        raise SSHDipError(f"variable {var!r} not found in {label} (variables: {listing})")
    name = var or find_ssh_variable(ds, label)
    da = ds[name]
    if not np.issubdtype(da.dtype, np.number):
        raise SSHDipError(f"variable {name!r} in {label} is not numeric ({da.dtype})")
    notes: list[str] = []  # repairs and choices the user should know about, said only once the field is usable
    da, stamp = select_map(da, time, level, label, notes)
    scale = unit_scale(da, name, label, notes)
    da = sorted_axes(da, label, notes)
    values = clean_values(da.values, scale, label, notes)
    if "mask_rho" in ds and ds["mask_rho"].shape == da.shape:  # ROMS land mask when zeta is not NaN there
        values[ds["mask_rho"].values == 0] = np.nan
    out = da.copy(data=values.astype(np.float32))
    out.name = name
    out.attrs = {k: v for k, v in da.attrs.items() if k in ("long_name", "standard_name")}
    out.attrs["units"] = "m"
    attrs = {"credit": ds.attrs.get("credit", ""), "title": ds.attrs.get("title", "")}
    if stamp:
        attrs["time"] = stamp
    f = crop_field(Field(out, name=name, source=label, attrs=attrs), crop, index_crop)
    warn(notes)
    return f


def crop_field(f: Field, crop=None, index_crop=None) -> Field:
    """Apply a geographic box (LAT0 LAT1 LON0 LON1) and/or an index box (Y0 Y1 X0 X1), then check the field."""
    if crop is not None:
        if len(crop) != 4:
            raise SSHDipError("crop needs four numbers: LAT0 LAT1 LON0 LON1")
        f = f.crop_box(*crop)
    if index_crop is not None:
        if len(index_crop) != 4:
            raise SSHDipError("index crop needs four integers: Y0 Y1 X0 X1")
        f = f.crop_index(*[int(i) for i in index_crop])
    f.check()
    return f


def inspect_file(source: str | os.PathLike | bytes, var: str | None = None) -> dict:
    """Describe the SSH variable of a file: name, dims, grid size, spacing, units, land fraction, time steps."""
    ds, label = open_dataset(source)
    name = var or find_ssh_variable(ds, label)
    if name not in ds.data_vars:
        raise SSHDipError(f"variable {name!r} not found in {label} (variables: {', '.join(ds.data_vars)})")
    da = ds[name]
    f = load_field(source if not isinstance(source, (bytes, bytearray)) else source, var=name)
    tdim, _ = split_dims(da, label)
    spacing = f.spacing_km
    return {
        "file": label,
        "variable": name,
        "standard_name": da.attrs.get("standard_name", ""),
        "long_name": da.attrs.get("long_name", ""),
        "dims": list(da.dims),
        "shape": list(da.shape),
        "grid": list(f.shape),
        "units": da.attrs.get("units", "?"),
        "spacing_km": [round(s, 3) for s in spacing] if spacing else None,
        "land_fraction": round(f.land_fraction, 4),
        "time_steps": int(da.sizes[tdim]) if tdim else 1,
        "candidates": [n for n, v in ds.data_vars.items() if v.ndim >= 2],
    }
