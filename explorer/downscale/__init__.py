"""The "Downscale my field (no truth)" tab without its page: the loaded coarse map and what the tab shows
(:class:`explorer.downscale.state.DownscaleState`), the run of ``dipcore.downscale.downscale`` on it
(:class:`explorer.downscale.session.DownscaleSession`, the same pattern as the fit's) and its worker, which computes
each snapshot's misfit to the map. No truth here, so no error and no score: the misfit says how well the estimate
reproduces the map it was given. The tab's view is :mod:`explorer.ui.downscale`.
"""
