"""CF NetCDF export and the JSON summary: schema, units, coordinates, round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from dipcore.export import netcdf_bytes, result_dataset, summary, write_netcdf
from dipcore.solver import run
from dipcore.samples import load_sample
from dipcore.twin import make_twin


@pytest.fixture(scope="module")
def result():
    twin = make_twin(load_sample("blacksea"), 4, 0.05, seed=3)
    final = run(twin.observation, twin.degradation, members=2, latent_samples=2, iters=3, device="cpu",
                truth=twin.truth, dx_km=twin.dx_km, keep_members=True)
    config = {"input": "blacksea", "ratio": 4, "noise": 0.05, "members": 2, "recipe": "default", "crop": None}
    return twin, final, config


def test_result_dataset_schema(result):
    twin, final, config = result
    ds = result_dataset(twin, final, config)
    assert {"truth", "lowres", "bicubic", "ibp", "estimate", "std", "latent_std"} <= set(ds.data_vars)
    assert ds.truth.dims == ("latitude", "longitude") and ds.lowres.shape == (14, 30)
    assert all(ds[v].attrs["units"] == "m" and ds[v].attrs["long_name"] for v in ds.data_vars)
    assert ds.truth.attrs["standard_name"] == "sea_surface_height_above_geoid"
    assert ds.attrs["Conventions"].startswith("CF") and "Copernicus" in ds.attrs["credit"]
    assert json.loads(ds.attrs["configuration"])["ratio"] == 4 and ds.attrs["config_noise"] == 0.05
    assert "crop" not in [k[7:] for k in ds.attrs if k.startswith("config_")]  # None values left out
    # fine coordinates stay on the fine grid; the observation grid has its own, block-averaged
    np.testing.assert_array_equal(ds.latitude.values, twin.field.data.latitude.values)
    assert ds.lowres.dims == ("latitude_lr", "longitude_lr")
    np.testing.assert_allclose(ds.latitude_lr.values, twin.field.data.latitude.values.reshape(-1, 4).mean(1))


def test_netcdf_round_trip_keeps_values_and_nans(result, tmp_path):
    twin, final, config = result
    ds = result_dataset(twin, final, config)
    path = write_netcdf(ds, tmp_path / "sub" / "r.nc")
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back.estimate.values, final.estimate)
        assert np.isnan(back.truth.values).sum() == np.isnan(twin.truth).sum()
    (tmp_path / "dl.nc").write_bytes(netcdf_bytes(ds))
    with xr.open_dataset(tmp_path / "dl.nc") as back:
        np.testing.assert_array_equal(back.lowres.values, twin.observation)


def test_summary_has_the_contract_keys(result):
    twin, final, config = result
    s = summary(twin, final, config, events=[final])
    assert set(s["rmse"]) == set(s["ssim"]) == {"estimate", "bicubic", "ibp"}
    assert s["members"] == 2 and s["iters"] == 3 and s["device"] == "cpu" and s["params_per_member"] > 1e4
    assert s["rmse"]["bicubic"] == pytest.approx(np.sqrt(np.nanmean((twin.bicubic - twin.truth) ** 2)))
    assert s["rmse"]["ibp"] == pytest.approx(np.sqrt(np.nanmean((twin.ibp - twin.truth) ** 2)))
    assert s["recipe"] == "default" and s["arch"] in ("paper", "skip", "decoder")
    assert s["best"] == min(s["rmse"], key=s["rmse"].get)
    assert s["history"] == [{"step": 3, "rmse": final.metrics["rmse"], "ssim": final.metrics["ssim"]}]
    assert s["uncertainty"]["ensemble"]["spread_skill"] == s["spread_skill"] > 0
    assert np.isfinite(s["spread_skill"]) and np.isfinite(s["crps"]) and "eff_res_km" in s
    json.dumps(s)  # JSON-able


def test_ibp_meets_the_data_and_beats_bicubic_on_a_real_field():
    """IBP is the classical bar: pooled, it gives back the observation; on a smooth real field it beats bicubic."""
    twin = make_twin(load_sample("gulfstream"), 8, 0.0)
    pooled = twin.degradation.forward(twin.ibp, noise=False)
    ok = np.isfinite(twin.observation)
    assert np.sqrt(np.mean((pooled[ok] - twin.observation[ok]) ** 2)) < 1e-3 * np.nanstd(twin.observation)
    assert np.isnan(twin.ibp).sum() == np.isnan(twin.truth).sum()
    rm = lambda x: np.sqrt(np.nanmean((x - twin.truth) ** 2))  # noqa: E731
    assert rm(twin.ibp) < rm(twin.bicubic)


def test_result_dataset_carries_cf_and_discovery_metadata(result):
    import dipcore

    twin, final, config = result
    ds = result_dataset(twin, final, config, history="ssh-dip fit blacksea --ratio 4")
    sn = "sea_surface_height_above_geoid"  # the input's standard name, carried over
    assert {"CF-1.11", "ACDD-1.3"} <= {c.strip() for c in ds.attrs["Conventions"].split(",")}
    assert ds.estimate.attrs["standard_name"] == ds.lowres.attrs["standard_name"] == sn
    assert ds.estimate.attrs["coverage_content_type"] == "modelResult"
    assert ds.lowres.attrs["cell_methods"] == "area: mean"
    linked = ds.estimate.attrs["ancillary_variables"].split()
    assert linked == ["uncertainty", "std", "latent_std"]
    assert all(ds[v].attrs["coverage_content_type"] == "qualityInformation" for v in linked)
    # only the calibrated uncertainty claims to be the estimate's standard error; the spreads do not
    assert ds.uncertainty.attrs["standard_name"] == f"{sn} standard_error"
    assert ds.uncertainty.attrs["expected_rmse_m"] == pytest.approx(final.expected_rmse)
    assert all("'uncertainty'" in ds[v].attrs["comment"] for v in ("std", "latent_std"))
    assert "subgrid_std" not in ds and "total_std" not in ds
    assert "ssh-dip fit blacksea --ratio 4" in ds.attrs["history"] and dipcore.__version__ in ds.attrs["history"]
    assert dipcore.__version__ in result_dataset(twin, final, config).attrs["history"]  # default history
    assert ds.attrs["date_created"].endswith("Z") and ds.attrs["date_created"] in ds.attrs["history"]
    assert "deep image prior" in ds.attrs["references"].lower() and ds.attrs["summary"] and ds.attrs["keywords"]
    assert ds.attrs["acknowledgement"] == ds.attrs["credit"]
    assert ds.attrs["geospatial_lat_min"] == pytest.approx(float(ds.latitude.min()))
    assert ds.attrs["geospatial_lon_max"] == pytest.approx(float(ds.longitude.max()))
    for c in ("latitude", "longitude", "latitude_lr", "longitude_lr"):
        assert ds[c].encoding["_FillValue"] is None and "bounds" not in ds[c].attrs
        assert ds[c].attrs["valid_min"].dtype == ds[c].dtype
