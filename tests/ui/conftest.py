"""Serve the explorer in-process and drive it with headless Chromium (Playwright for Python).

Also home of what the UI tests and ``benchmarks/bench_explorer.py`` share: the per-session app factory, a stand-in
fit (:func:`stand_in_fit`, events at a fixed rate: the streaming pipeline without the fit's cost) and a large field
(:func:`field_tiled`)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from netutil import free_port, wait_port  # noqa: F401  (the servers' ports)

CHROMIUM = os.environ.get("SSH_DIP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run",
        # tests drive several tabs at once: a tab behind another must keep painting and acknowledging updates
        # (Chromium otherwise throttles its timers and frames, and the server's back-pressure waits on its acks)
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows"]
UNUSED_MS = 8000
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


def session_factory(apps: list, options: dict | None = None):
    """What ``pn.serve`` calls per page load: a new ExplorerApp wired to its session, kept in ``apps``.
    ``options["fit"]``, read at each page load, is the fit function injected into that session's app (None: the
    real ``dipcore.solver.fit``); ``options["queue"]`` the fit queue its sessions share (None: each its own, as
    many fits at a time as tabs), ``options["limits"]`` the server's limits (None: the defaults) and
    ``options["data_dir"]`` its ``--data-dir`` (None: none)."""
    from explorer.app import ExplorerApp

    options = {} if options is None else options

    def factory():
        app = ExplorerApp(fit=options.get("fit"), queue=options.get("queue"), limits=options.get("limits"),
                          data_dir=options.get("data_dir"))
        app.attach_session()
        apps.append(app)
        return app.__panel__()

    return factory


@pytest.fixture(scope="session")
def server():
    """One Panel server for the UI tests; each page load is a new session with its own ExplorerApp."""
    pn = pytest.importorskip("panel")
    apps, options = [], {"fit": None}
    factory = session_factory(apps, options)
    port = free_port()
    # a closed tab's session is destroyed (and its fit stopped) ~2-3 s after its websocket closes, not 15-30 s
    # (Bokeh's defaults); the lifetime also covers a page that has not connected yet, so it must exceed page load
    srv = pn.serve({"/": factory}, port=port, threaded=True, show=False, start=True,
                   check_unused_sessions_milliseconds=500, unused_session_lifetime_milliseconds=UNUSED_MS)
    wait_port(port)
    yield {"url": f"http://localhost:{port}/", "apps": apps, "unused_s": UNUSED_MS / 1000, "options": options}
    for a in apps:
        a.stop()
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1560, "height": 1300})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


@pytest.fixture(autouse=True)
def server_warnings():
    """Every UI test fails on a warning Bokeh's server logs while it runs (e.g. "reference already known": the
    browser sent back a model the server already had). The servers run in this process: their threads' warnings
    are recorded here, unfiltered."""
    import warnings

    from bokeh.util.warnings import BokehDeprecationWarning, BokehUserWarning

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always", BokehUserWarning)
        warnings.simplefilter("always", BokehDeprecationWarning)
        yield got
    ours = (BokehUserWarning, BokehDeprecationWarning)
    for w in got:  # the others go back to pytest's own summary
        if not issubclass(w.category, ours):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    bokeh = [f"{w.category.__name__}: {w.message}" for w in got if issubclass(w.category, ours)]
    assert bokeh == [], "the server logged:\n" + "\n".join(bokeh)


@pytest.fixture
def serve_fit(server):
    """``serve_fit(fit)``: the pages opened from now on run ``fit`` (a stand-in) instead of the real fit; the next
    test's pages get the real one again."""
    def use(fit) -> None:
        server["options"]["fit"] = fit

    yield use
    server["options"]["fit"] = None


@pytest.fixture
def serve_queue(server):
    """``serve_queue(queue, limits=None)``: the pages opened from now on share ``queue`` (and ``limits``), as the
    sessions of ``panel serve explorer`` share the server's; the next test's pages get their own queues again."""
    def use(queue, limits=None) -> None:
        server["options"].update(queue=queue, limits=limits)

    yield use
    server["options"].update(queue=None, limits=None)


@pytest.fixture
def serve_data_dir(server):
    """``serve_data_dir(folder)``: the pages opened from now on offer the NetCDF files of ``folder``, as
    ``panel serve explorer --args --data-dir FOLDER`` does; the next test's pages offer none again."""
    from explorer.data.server_files import DataDir

    def use(folder) -> None:
        server["options"]["data_dir"] = DataDir(folder.resolve())

    yield use
    server["options"]["data_dir"] = None


@pytest.fixture
def ui_helpers():
    """What the UI tests share with the benchmark (plain functions of this module)."""
    from types import SimpleNamespace

    return SimpleNamespace(stand_in_fit=stand_in_fit, field_tiled=field_tiled)


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


def stand_in_fit(rate: float):
    """A stand-in for ``dipcore.solver.fit`` yielding Progress events of the truth plus shrinking noise at ``rate``
    per second (or as fast as it can): what the page receives from a fast (GPU) fit, without its cost. Its last
    event carries a calibrated uncertainty as the real fit's does (σ: the noise's std, flat)."""
    from dipcore import metrics
    from dipcore.solver import Progress

    def fake(observation, degradation, recipe=None, *, members=1, latent_samples=0, iters=100, seed=0,
             device="cpu", every=1, truth=None, dx_km=None, keep_members=False, **kw):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        for step in range(1, iters + 1):
            time.sleep(max(0.0, t0 + step / rate - time.perf_counter()))
            noise = rng.standard_normal((members, *truth.shape), dtype=np.float32) * np.float32(0.05 / np.sqrt(step))
            mem = truth[None] + noise
            est = mem.mean(axis=0)
            last = step == iters
            sigma = 0.05 / np.sqrt(step) / np.sqrt(members)
            unc = np.where(np.isfinite(truth), sigma, np.nan).astype(np.float32) if last else None
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=mem.std(axis=0, ddof=1) if members > 1 else None,
                           elapsed=time.perf_counter() - t0, metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9},
                           members=mem, done=last, uncertainty=unc, expected_rmse=sigma if last else None,
                           uncertainty_prior="mapped" if last else None)
    return fake


def field_tiled(f, side: int):
    """Field ``f`` mirrored and tiled to ``side``² cells (smooth seams): a large-field stand-in."""
    from dipcore.io import Field

    a = f.values
    reps = -(-side // min(a.shape))
    row = np.concatenate([a if i % 2 == 0 else a[:, ::-1] for i in range(reps)], axis=1)
    big = np.concatenate([row if i % 2 == 0 else row[::-1] for i in range(reps)], axis=0)[:side, :side]
    g = Field.from_array(np.ascontiguousarray(big), name="adt", dx_km=25.0)
    g.source = f"tiled {side}x{side}"
    return g


@pytest.fixture
def screen(browser, server):
    """A page of 1440×900 (the display issue 24 was found on) that accepts downloads."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    yield page
    ctx.close()
