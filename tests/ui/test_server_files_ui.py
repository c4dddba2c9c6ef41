"""A server started with ``--data-dir`` in headless Chromium: its files are offered by name in the sidebar (the
truth tab) and in the Downscale tab; picking one loads it, a bad one is a message naming the file (never the
server's folder) and the field shown stays."""

from __future__ import annotations

import os

import pytest
from test_state import two_maps  # tests/ is on sys.path (pytest's rootdir mode)

pytestmark = pytest.mark.ui


@pytest.fixture
def folder(tmp_path):
    """A folder of two NetCDF files: two daily maps of a smooth field, and a file that is not NetCDF."""
    two_maps()[0].to_netcdf(tmp_path / "two_days.nc")
    (tmp_path / "broken.nc").write_bytes(b"not netcdf")
    return tmp_path


def test_server_files_are_offered_by_name_in_both_tabs(page, server, serve_data_dir, folder, artifacts):
    serve_data_dir(folder)
    page.goto(server["url"])
    page.get_by_text("Loaded sample gulfstream").wait_for()
    app = server["apps"][-1]
    side = page.locator(".w-server-file select").first
    assert side.locator("option").all_inner_texts()[1:] == ["broken.nc", "two_days.nc"]
    side.select_option("two_days.nc")
    page.get_by_text("Loaded server file two_days.nc").wait_for()
    assert app.origin == "file" and app.field.shape == (40, 48)
    side.select_option("broken.nc")
    alert = page.locator(".ssh-error").get_by_text("broken.nc").first
    alert.wait_for(state="visible")
    assert str(folder) not in alert.inner_text()
    assert app.field.shape == (40, 48) and app.server_file == "two_days.nc"  # the field and the box stay
    page.screenshot(path=os.path.join(artifacts, "ui_server_file.png"))
    # the Downscale tab offers the same files
    page.get_by_text("Downscale my field", exact=True).first.click()
    ds = page.locator(".w-ds-file select").first
    ds.wait_for(state="visible")
    ds.select_option("two_days.nc")
    page.get_by_text("loaded file two_days.nc").first.wait_for()
    assert app.view.downscale.state.source.startswith("server file two_days.nc")
