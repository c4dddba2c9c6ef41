"""Bad input in the explorer (issue 13): every file of the corpus (tests/bad_inputs.py) uploaded into one session.
A bad file is a message on the page and what was loaded before (field, crop, settings) stays; a usable but repaired
file loads with dipcore's one-line note; either way the same session then runs a good fit (a stand-in, injected).
Uploads are read, never written under the name the browser sent, and no box of the page takes a server path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from bad_inputs import CASES, FIT, Bad
from explorer_fakes import paced_fit

from explorer.app import ExplorerApp
from explorer.data.loading import MAX_UPLOAD_BYTES, display_name

CROP = "0 32 0 64"
# the cases that are bad as files (the others are bad as CLI arguments, which the page's widgets cannot make)
FILE_ERRORS = [c for c in CASES if c.expect == "error" and c.make is not None and c.args == ["{file}", *FIT]]
WARNINGS = [c for c in CASES if c.expect == "warn"]
# usable with a CLI choice the page does not offer (a depth level): the page takes dipcore's default and says which
CHOSEN = [c for c in CASES if c.expect == "ok" and c.make is not None and "--level" in c.args]
USABLE = [c for c in CASES if c.expect == "ok" and c.make is not None and c not in CHOSEN]
# what the corpus expects the CLI to say, as the page says it (the page has a Variable box, not flags, and no errno)
PAGE_WORDS = {"cannot read": "not a NetCDF file this page can read", "--var": "choose the one that is in the Variable box"}


def upload_bytes(case: Bad, folder: Path) -> bytes:
    path = folder / f"input{case.suffix}"
    case.make(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def app():
    """One session for the whole corpus, as a user who keeps trying: a small crop and settings of their own."""
    a = ExplorerApp(fit=paced_fit(200.0))
    a.index_crop = CROP
    a.param.update(iters=3, members=2, device="cpu", ratio=4, noise=0.05, seed=7)
    assert a.error == ""
    yield a
    a.close()
    a.wait(30)


def test_the_corpus_has_enough_bad_files():
    names = {c.name for c in FILE_ERRORS}
    assert len(FILE_ERRORS) >= 10, names
    assert {"not_netcdf", "all_nan", "constant_field", "empty_file", "grid_20k_by_20k"} <= names


@pytest.mark.parametrize("case", FILE_ERRORS, ids=lambda c: c.name)
def test_a_bad_file_is_a_message_and_what_was_loaded_stays(app, case, tmp_path):
    field, twin, source = app.field, app.twin, app.source
    settings = {k: getattr(app, k) for k in ("index_crop", "ratio", "noise", "members", "iters", "seed")}
    assert not app.load_upload(upload_bytes(case, tmp_path), f"input{case.suffix}")
    assert app.error, case.name
    words = "empty" if case.name == "empty_file" else case.words  # the app says "the upload … is empty"
    words = PAGE_WORDS.get(words, words)
    assert words.lower() in app.error.lower(), app.error
    assert "Traceback" not in app.error and tempfile.gettempdir() + os.sep not in app.error, app.error
    assert "errno" not in app.error.lower() and " --" not in app.error and "<upload>" not in app.error, app.error
    assert "Still shown: sample gulfstream" in app.error, app.error  # what the page (and its download) still hold
    assert app.field is field and app.twin is twin and app.source == source
    assert {k: getattr(app, k) for k in settings} == settings
    # the same session runs a good fit at once (the message goes with it)
    assert app.run() and app.wait(30)
    assert app.error == "" and app.result.done and app.run_twin is twin


@pytest.mark.parametrize("case", WARNINGS, ids=lambda c: c.name)
def test_a_repaired_file_loads_with_a_one_line_note(app, case, tmp_path):
    assert app.load_upload(upload_bytes(case, tmp_path), "repaired.nc"), app.error
    assert app.error == "" and app.note and "\n" not in app.note
    assert case.words.lower() in app.note.lower(), app.note
    assert app.message.startswith("Loaded upload repaired.nc")
    assert app.run() and app.wait(30) and app.result.done
    assert app.load_sample("gulfstream") and app.note == ""     # a clean load clears the note


@pytest.mark.parametrize("case", USABLE, ids=lambda c: c.name)
def test_a_usable_file_simply_loads(app, case, tmp_path):
    assert app.load_upload(upload_bytes(case, tmp_path), f"input{case.suffix}"), app.error
    assert app.error == "" and app.note == "" and app.uploaded
    assert app.run() and app.wait(30) and app.result.done


@pytest.mark.parametrize("case", CHOSEN, ids=lambda c: c.name)
def test_a_file_of_several_levels_loads_one_and_the_note_says_which(app, case, tmp_path):
    assert app.load_upload(upload_bytes(case, tmp_path), f"input{case.suffix}"), app.error
    assert app.error == "" and "level" in app.note and "\n" not in app.note, app.note
    assert app.run() and app.wait(30) and app.result.done


def test_an_upload_over_the_cap_is_a_message(app):
    field = app.field
    assert not app.load_upload(b"\0" * (MAX_UPLOAD_BYTES + 1), "big.nc")
    assert "the limit here is 14 MB" in app.error and app.field is field


def test_an_upload_is_never_written_under_its_name(app, tmp_path, monkeypatch):
    good = next(c for c in CASES if c.name == "shell_characters_in_name")
    data = upload_bytes(good, tmp_path)
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tempfile.gettempdir())) | set(os.listdir(tmp_path))
    sent = "../../x/; rm -rf $(y) `z` 'w' *[a](b)<i>.nc"
    assert app.load_upload(data, sent), app.error
    after = set(os.listdir(tempfile.gettempdir())) | set(os.listdir(tmp_path))
    shown = display_name(sent)
    assert shown == "_ rm -rf __y_ _z_ _w_ __a__b__i_.nc"                    # no folder, no markup, no quotes
    assert not [n for n in after - before if "rm" in n or n.endswith("i>.nc")], after - before
    assert app.config()["file"] == shown and f"upload {shown}" in app.message
    assert display_name("..\\..\\windows\\ssh.nc") == "ssh.nc" and display_name("../") == "upload.nc"
    assert display_name("a" * 500 + ".nc") == "a" * 80


def test_no_box_of_the_page_takes_a_server_path(app):
    import panel as pn

    page = app.__panel__()
    page = pn.Column(page, app.view.experiments.__panel__())  # the Experiments tab builds on first display
    boxes = [w for w in page.select(pn.widgets.TextInput) if not isinstance(w, pn.widgets.PasswordInput)]
    assert [w.name for w in boxes] == ["Crop y0 y1 x0 x1 (Enter)"]          # four integers, nothing else
    app.index_crop = "/etc/passwd"
    assert "four integers" in app.error and app.index_crop == "/etc/passwd"
    app.index_crop = CROP
    from dipcore.samples import SAMPLES

    sample = next(w for w in page.select(pn.widgets.Select) if w.name == "Sample")
    assert list(sample.values) == list(SAMPLES)                              # the embedded samples only
    # the Experiments tab loads the result folders shipped with the project, from a list, not a typed path
    tab = app.view.experiments
    folders = next(w for w in tab.__panel__().select(pn.widgets.Select) if w.name == "Results to load")
    assert folders.values and all(Path(v).parent.name == "results" for v in folders.values)
