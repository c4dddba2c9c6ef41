"""The explorer page: plain Bokeh maps and curves fed by the state's feed (live, pixel), HoloViews and matplotlib
builders (views, the downloads' figure and files), changes batched onto the session's next tick (ticks), and the
Panel parts a visitor sees: the layout and sidebar, the lines above the tabs, the guided first run, the keyboard
shortcuts, Compare & replay, and the Downscale and Experiments tabs. Views read the state and call the app's and
sessions' public methods; they never write a state's private attributes.
"""
