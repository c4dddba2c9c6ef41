"""Every NetCDF file ssh-dip writes passes the IOOS compliance checker: CF-1.11 with no error and no warning,
ACDD-1.3 with no highly recommended attribute missing (the CLI's ``fit``, the explorer's download, the
uncertainty experiment; regular, curvilinear and plain-array grids)."""

from __future__ import annotations

import numpy as np
import pytest

from dipcore.export import netcdf_bytes, result_dataset, write_netcdf
from dipcore.solver import run
from dipcore.io import Field
from dipcore.samples import load_sample
from dipcore.twin import make_twin

try:  # compliance-checker is in the `test` extra; it needs Debian's libudunits2-0 (scripts/setup.sh --test)
    from compliance_checker.suite import CheckSuite
except Exception as exc:  # ImportError, or OSError from cf_units when libudunits2 is missing
    pytest.skip(f"compliance_checker cannot be imported ({type(exc).__name__}: {exc}); install the test extra "
                "and libudunits2-0: scripts/setup.sh --test", allow_module_level=True)

pytestmark = [  # the checker's own deprecation notices, not ours
    pytest.mark.filterwarnings("ignore:The ioos_sos checker is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Passing the dataset to every single check is deprecated:DeprecationWarning"),
]
CF, ACDD = "cf:1.11", "acdd:1.3"
ERROR, WARNING = 3, 2  # result weights: CF errors/warnings, ACDD highly recommended/recommended


def _check(path) -> dict:
    """Run both suites on ``path``: {suite: (failed results as 'weight name: messages', exceptions)}."""
    CheckSuite.load_all_available_checkers()
    cs = CheckSuite()
    ds = cs.load_dataset(str(path))
    try:
        out = {}
        for name, (groups, errors) in cs.run_all(ds, [CF, ACDD]).items():
            failed = []

            def walk(results):
                for r in results:
                    if r.value[1] and r.value[0] < r.value[1]:
                        msgs = list(r.msgs) + [m for c in r.children for m in c.msgs]
                        failed.append((r.weight, f"[{r.weight}] {r.name}: {'; '.join(map(str, msgs))}"))
            walk(groups)
            out[name] = (failed, {k: repr(e) for k, (e, _) in errors.items()})
        return out
    finally:
        ds.close()


def assert_compliant(path) -> None:
    res = _check(path)
    assert set(res) == {CF, ACDD}, f"the checker did not run both suites: {sorted(res)}"
    cf_failed, cf_exc = res[CF]
    acdd_failed, acdd_exc = res[ACDD]
    assert not cf_exc and not acdd_exc, f"checks crashed on {path}: {cf_exc} {acdd_exc}"
    bad = [m for w, m in cf_failed if w >= WARNING]
    assert not bad, f"CF-1.11 errors/warnings in {path}:\n" + "\n".join(bad)
    bad = [m for w, m in acdd_failed if w >= ERROR]
    assert not bad, f"ACDD-1.3 highly recommended items missing in {path}:\n" + "\n".join(bad)


def _fit(twin, **kwargs):
    return run(twin.observation, twin.degradation, iters=3, device="cpu", truth=twin.truth, dx_km=twin.dx_km,
               **kwargs)


@pytest.fixture(scope="module")
def blacksea():
    twin = make_twin(load_sample("blacksea"), 4, 0.05)
    final = _fit(twin, members=2, latent_samples=2, keep_members=True)
    config = {"input": "blacksea", "ratio": 4, "noise": 0.05, "members": 2, "latent_samples": 2,
              "recipe": "default", "crop": None, "iters": 3}
    return result_dataset(twin, final, config, history="ssh-dip fit blacksea --ratio 4 --noise 0.05 --members 2")


def test_cli_fit_output_is_cf_and_acdd_compliant(blacksea, tmp_path):
    assert {"uncertainty", "std", "latent_std"} <= set(blacksea.data_vars)
    assert_compliant(write_netcdf(blacksea, tmp_path / "fit.nc"))


def test_explorer_download_is_cf_and_acdd_compliant(tmp_path):
    twin = make_twin(load_sample("blacksea"), 4, 0.05)
    final = _fit(twin, members=2, latent_samples=2, keep_members=True)
    path = tmp_path / "download.nc"
    path.write_bytes(netcdf_bytes(result_dataset(twin, final, {"input": "blacksea", "ratio": 4, "members": 2})))
    assert_compliant(path)


def test_curvilinear_roms_output_is_compliant(tmp_path):
    twin = make_twin(load_sample("roms_txla", index_crop=(0, 32, 0, 48)), 4, 0.0)
    ds = result_dataset(twin, _fit(twin, members=2), {"input": "roms_txla", "ratio": 4,
                                                      "index_crop": [0, 32, 0, 48]})
    assert ds.lat_rho.dims == ("eta_rho", "xi_rho") and ds.lat_rho.attrs["units"] == "degrees_north"
    assert_compliant(write_netcdf(ds, tmp_path / "roms.nc"))


@pytest.mark.parametrize("dx_km", [5.0, None], ids=["km-coordinates", "no-coordinates"])
def test_plain_array_output_is_compliant(dx_km, tmp_path):
    v = np.random.default_rng(0).standard_normal((32, 32)).cumsum(0).cumsum(1).astype(np.float32) * 0.01
    twin = make_twin(Field.from_array(v, dx_km=dx_km), 4, 0.0)
    ds = result_dataset(twin, _fit(twin, members=2), {"input": "<array>", "ratio": 4})
    assert not any(k.startswith("geospatial_") for k in ds.attrs)  # no lat/lon: no geospatial extent
    assert_compliant(write_netcdf(ds, tmp_path / "array.nc"))


def test_uncertainty_experiment_netcdf_is_compliant(tmp_path):
    from dipcore.experiments import run_uncertainty

    res = run_uncertainty(["blacksea@0:32,0:64"], ratios=(4,), members=2, latent_samples=2, iters=2,
                          device="cpu", out=tmp_path)
    nc = [f for f in res.files if f.suffix == ".nc"]
    assert len(nc) == 1
    assert_compliant(nc[0])
