"""What one explorer session knows, without a thread or a UI library: its state
(:class:`explorer.data.state.ExplorerState`, a ``param.Parameterized`` of inputs, loaded field and shown results),
the feed the views subscribe to, display coordinates, how fields are read and cropped, the server's files and limits,
the values the pixel inspector shows and the words a run is reported in (speed, ETA, why it ended). Everything above
builds on these; nothing here imports the rest of the explorer.
"""
