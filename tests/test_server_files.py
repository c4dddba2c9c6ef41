"""explorer.data.server_files.DataDir: the server's --data-dir lists its NetCDF files by name only, and no name it did
not list (another folder, a hidden file, a link leading out) can be read."""

from __future__ import annotations

import os

import pytest

from dipcore.errors import SSHDipError
from explorer.data.server_files import DataDir


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "maps"
    d.mkdir()
    for name in ("b.nc", "a.nc4", "notes.txt", ".hidden.nc"):
        (d / name).write_bytes(b"x")
    (d / "sub").mkdir()
    (d / "sub" / "deep.nc").write_bytes(b"x")
    (tmp_path / "secret.nc").write_bytes(b"x")
    os.symlink(tmp_path / "secret.nc", d / "out.nc")       # leads out of the folder: not offered
    os.symlink(d / "b.nc", d / "same.nc")                  # stays inside: offered
    os.symlink(d / "gone.nc", d / "broken.nc")             # leads nowhere: not offered
    return d


def test_names_are_the_netcdf_files_directly_in_the_folder(folder):
    assert DataDir(folder.resolve()).names() == ["a.nc4", "b.nc", "same.nc"]


def test_path_refuses_any_name_not_listed(folder):
    dd = DataDir(folder.resolve())
    assert dd.path("b.nc") == folder.resolve() / "b.nc"
    for name in ("../secret.nc", "out.nc", "sub/deep.nc", ".hidden.nc", "notes.txt", "missing.nc",
                 str(folder / "b.nc")):
        with pytest.raises(SSHDipError, match="not one of the files"):
            dd.path(name)


def test_from_argv(folder, tmp_path):
    assert DataDir.from_argv([]).names() == []
    assert DataDir.from_argv(["--max-members", "4", "--data-dir", str(folder)]).folder == folder.resolve()
    with pytest.raises(SSHDipError, match="no such folder"):
        DataDir.from_argv(["--data-dir", str(tmp_path / "nope")])


def test_a_folder_that_goes_away_offers_nothing(tmp_path):
    d = tmp_path / "gone"
    d.mkdir()
    dd = DataDir(d.resolve())
    d.rmdir()
    assert dd.names() == []
