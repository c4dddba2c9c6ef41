"""Entry point of ``panel serve explorer``: runs once per browser session, so everything made here is per session."""

from explorer.app import ExplorerApp

app = ExplorerApp()
app.attach_session()
app.servable(title="ssh-dip explorer")
