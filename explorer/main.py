"""Entry point of ``panel serve explorer``: runs once per browser session, so everything made here is per session,
except the fit queue, which is the server's (:func:`explorer.run.fitqueue.server_queue`).

The server's limits and its folder of NetCDF files (offered in the Downscale tab) follow ``--args``::

    panel serve explorer --args --max-cells 1048576 --max-members 8 --max-iters 2000 --max-concurrent-fits 1
    panel serve explorer --args --data-dir /srv/ssh-maps
"""

from explorer.app import ExplorerApp
from explorer.data.server_files import DataDir
from explorer.data.server_limits import Limits
from explorer.run.fitqueue import server_queue

limits = Limits.from_argv()  # sys.argv while this script runs: what followed --args
app = ExplorerApp(limits=limits, queue=server_queue(limits.max_concurrent_fits), data_dir=DataDir.from_argv())
app.attach_session()
app.servable(title="ssh-dip explorer")
