"""The live explorer: one :class:`ExplorerApp` per browser session (``explorer/main.py`` makes it).

The app is where the layers meet, and nothing below imports it::

    app ─▶ ui.layout (ExplorerView: sidebar, tabs) ─▶ ui.live, ui.pixel, ui.views, ui.guide, ui.compare, …
     │      ├──▶ ui.downscale (the Downscale tab) ─▶ downscale.state, downscale.session ─▶ run.lifecycle
     │      └──▶ ui.experiments (the Experiments tab) ─▶ run.sweep ─▶ run.lifecycle
     ├──▶ run.fit_session (FitSession) ─▶ run.lifecycle (RunSession), run.fit_job (FitJob) ─▶ run.job, run.fitqueue
     ├──▶ ui.results (NetCDF, summary, PNG)
     └──▶ data.state (ExplorerState: inputs, field, twin, load/crop, feed) ─▶ data.loading, data.cropping, …

:class:`ExplorerApp` *is* the state (its parameters are the page's inputs and what the page shows), owns a
:class:`explorer.run.fit_session.FitSession` (``app.session``) that runs the fits, and builds its page on first
display (``app.view``, an :class:`explorer.ui.layout.ExplorerView`) whose live maps the session then shows its
updates through. Nothing here is shared between sessions but the fit queue it is given (``explorer/main.py`` gives
every session the server's: :func:`explorer.run.fitqueue.server_queue`).
"""

from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import panel as pn

from explorer.data import inspector
from explorer.data.server_files import DataDir
from explorer.data.server_limits import Limits
from explorer.data.state import ExplorerState
from explorer.run.fit_session import FitSession
from explorer.run.fitqueue import FitQueue
from explorer.ui import results
from explorer.ui.layout import ExplorerView

hv.extension("bokeh", logo=False)
pn.extension("tabulator")  # tabulator: for the Experiments tab's tables (extensions load before the page)


class ExplorerApp(ExplorerState, pn.viewable.Viewer):
    """Deep image prior downscaling of SSH, live in the browser: the state, fits and page of one session.

    Parameters
    ----------
    load : bool
        Load the default sample now.
    fit : callable, optional
        The fit function the session's jobs run (default ``dipcore.solver.fit``; tests and benchmarks pass a
        stand-in with its signature).
    limits : Limits, optional
        The server's limits (default :class:`explorer.data.server_limits.Limits` ()): checked before a fit, shown on
        the page.
    queue : FitQueue, optional
        Where this session's fits wait for their turn: the server's queue, shared by its sessions (default: a
        queue of this app's own, with ``limits.max_concurrent_fits`` slots).
    data_dir : DataDir, optional
        The server's folder of NetCDF files (``--data-dir``; default none), offered by the sidebar and the
        Downscale tab.
    **params
        Initial values of the state's parameters (``ratio``, ``members``…).
    """

    def __init__(self, load: bool = True, fit: Callable | None = None, limits: Limits | None = None,
                 queue: FitQueue | None = None, data_dir: DataDir | None = None, **params):
        super().__init__(load=False, limits=limits, data_dir=data_dir, **params)
        self.session = FitSession(self, fit=fit, limits=self.limits, queue=queue)
        self.view: ExplorerView | None = None
        if load:
            self.load_sample(self.sample)

    # ---- the fit (explorer.run.fit_session) ---------------------------------------------------------------
    def run(self, *_) -> bool:
        """Start a fit in a background thread of this session (returns at once)."""
        return self.session.run()

    def stop(self, *_) -> None:
        """Stop the fit; the page shows it at the next flush with the last estimate kept."""
        self.session.stop()

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the worker and show its end (scripts and tests); True when the worker has ended."""
        return self.session.wait(timeout)

    def flush(self) -> None:
        """Push the newest event to the page (the session's periodic callback; call it by hand without one)."""
        self.session.flush()

    def attach_session(self) -> ExplorerApp:
        """Register the periodic flush and stop the fit when the browser session ends (call inside a session)."""
        self.session.attach()
        return self

    def close(self) -> None:
        """What the end of the browser session does: stop the fit and the periodic flush."""
        self.session.close()

    @property
    def queue_position(self) -> int | None:
        """0 while this session's fit runs, k ≥ 1 while it is k-th in the server's queue, else None."""
        return self.session.position

    @property
    def job(self):
        """The current (or last) :class:`explorer.run.fit_job.FitJob`, None before the first Run."""
        return self.session.job

    @property
    def live(self):
        """The page's :class:`explorer.ui.live.LiveMaps` once the page is built, else None."""
        return self.view.live if self.view is not None else None

    # ---- what the page and the downloads show -------------------------------------------------------------
    def pixel_info(self) -> dict:
        """Everything the pixel view shows for the tapped cell (values in metres)."""
        return self.session.pixel_info()

    def transect_info(self) -> dict:
        """Truth, bicubic, IBP and estimate ± std along the line between the last two taps."""
        return inspector.transect_info(self)

    def result_config(self) -> dict:
        """The run's settings plus how it ended (``last_step``, ``end_reason``, ``estimate_steps``)."""
        return results.result_config(self)

    def netcdf(self) -> bytes:
        """The result as CF NetCDF bytes (the CLI's schema)."""
        return results.netcdf(self)

    def summary(self) -> dict:
        """The CLI's summary of the last result (scores of the estimate, IBP and bicubic; ``best``; ``arch``)."""
        return results.summary(self)

    def png_figure(self):
        """The maps as a matplotlib figure (the caller closes it)."""
        return results.png_figure(self)

    def png(self) -> bytes:
        """The maps as a PNG figure."""
        return results.png(self)

    def __panel__(self):
        if self.view is None:
            self.view = ExplorerView(self)
            self.session.attach_display(self.view.live)
        return self.view.__panel__()


__all__ = ["ExplorerApp"]
