"""The live explorer (``panel serve explorer``): one browser tab is one session with its own field, settings,
fits and page. The packages are layers, each importing only those before it: :mod:`explorer.data` (what a session
knows: the state, its field, coordinates, what the server offers; no UI library), :mod:`explorer.run` (background
work: jobs, the server's fit queue and the sessions that move a run's updates onto the state), :mod:`explorer.downscale`
(the Downscale tab's state and run, no truth), :mod:`explorer.ui` (the page: Bokeh maps and curves, Panel layout and
tabs), then ``app.py`` (:class:`explorer.app.ExplorerApp`, where they meet) and ``main.py`` (what each page load
runs). No module here is named after a library: Bokeh puts this folder first on ``sys.path``.
"""
