"""Background work, one pattern for every tab: a :class:`explorer.run.job.Job` works in its own thread and reports
typed updates into a latest-wins :class:`explorer.run.job.Slot`; a :class:`explorer.run.lifecycle.RunSession` owns
the slot, empties it on the browser session's event loop and walks each run through explicit phases (queued,
running, ending, ended, with the reason it ended). Here too: the server's fit queue, the explore tab's fit (its job
and session) and the Experiments tab's sweeps. Sessions write the state's parameters; they never build a view.
"""
