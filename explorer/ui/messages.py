"""The twin experiment's lines: the error (above the maps), the run's message, what loading repaired and the data's
credit (in the sidebar, under the data they describe), the verdict (in a box of fixed height above the maps) and the
"what just happened" paragraph (the guide's, under the curves). They read the app's state and never write it.

Why the end of a run changes only text here: showing, hiding or re-classing a pane makes BokehJS lay the whole page
out again, ~0.35 s each on a 2-core CPU (measured in headless Chromium); the end of a run did five of these, and the
page froze 1.3-1.8 s after its first run (``benchmarks/bench_explorer.py``, RESULTS.md). So the verdict is an HTML
box coloured by its own text, always there and grey until a run ends; its height is fixed, so a verdict never pushes
the maps down.
"""

from __future__ import annotations

import html

import panel as pn

# the verdict's box, green when the network beat both classical baselines, amber otherwise (Bootstrap's alert colours)
VERDICT_CSS = """
.verdict { padding: 0.3em 0.8em; border: 1px solid; border-radius: 4px; margin: 0; font-size: 15px;
           line-height: 1.3; height: 46px; overflow: auto; box-sizing: border-box; }
.verdict.good { background: #d1e7dd; color: #0a3622; border-color: #a3cfbb; }
.verdict.warn { background: #fff3cd; color: #664d03; border-color: #ffe69c; }
.verdict.none { background: #f6f6f6; color: #666; border-color: #e0e0e0; }
"""
VERDICT_HEIGHT = 48  # px: two lines of the verdict (it holds one or two), always
NO_VERDICT = "When a run ends, this box says which answer is best: the network, IBP or bicubic."
SMALL = {"font-size": "13px", "color": "#444"}


def verdict_html(verdict: str, best: str) -> str:
    """The verdict's box: green when ``best`` is the network's estimate, amber otherwise; grey, saying what will
    appear, without a verdict."""
    if not verdict:
        return f'<div class="verdict none">{html.escape(NO_VERDICT)}</div>'
    kind = "good" if best == "estimate" else "warn"
    return f'<div class="verdict {kind}">{html.escape(verdict)}</div>'


def message_panes(app, summary: pn.pane.Markdown) -> list:
    """The panes above the tabs, kept in step with ``app`` (its ``error``, ``message``, ``note``, ``credit``,
    ``verdict`` and ``best``); ``summary`` is the guide's "what just happened" paragraph, shown under the verdict."""
    alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                          css_classes=["ssh-error"])
    note = pn.pane.Markdown("", css_classes=["ssh-message"], sizing_mode="stretch_width", margin=(0, 10),
                            styles=SMALL)
    # what loading repaired (dipcore's SSHDipWarning, e.g. "3 non-finite cells treated as missing"): one line
    repaired = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                             css_classes=["ssh-note"], margin=(0, 10))
    # the data's credit (Copernicus for the samples) stays whenever the data are shown, whatever the message
    credit = pn.pane.Markdown("", css_classes=["ssh-credit"], sizing_mode="stretch_width", margin=(0, 10),
                              styles=SMALL)
    verdict = pn.pane.HTML("", css_classes=["ssh-verdict"], sizing_mode="stretch_width", margin=(2, 10),
                           height=VERDICT_HEIGHT, stylesheets=[VERDICT_CSS])

    def credit_changed(event=None):
        credit.object = f"Data: {app.credit}" if app.credit else ""
        credit.visible = bool(app.credit)

    def error_changed(event=None):
        alert.object = app.error
        alert.visible = bool(app.error)

    def message_changed(event=None):
        note.object = app.message

    def note_changed(event=None):
        repaired.object = f"Note: {app.note}" if app.note else ""
        repaired.visible = bool(app.note)

    def verdict_changed(event=None):
        verdict.object = verdict_html(app.verdict, app.best)

    app.param.watch(error_changed, "error")
    app.param.watch(message_changed, "message")
    app.param.watch(note_changed, "note")
    app.param.watch(verdict_changed, "verdict")
    app.param.watch(credit_changed, "credit")
    error_changed(), message_changed(), note_changed(), verdict_changed(), credit_changed()

    def restyle_once():
        # Panel sends a text pane's stylesheets again at its first change (they are built anew once the page is
        # served): at the end of the first run that cost the browser ~1 s of page layout (2-core CPU, measured).
        # Sent once now, while the page loads, they are equal later and do not travel again.
        for pane in (note, verdict, summary):  # the texts a run's end changes
            pane.param.trigger("object")

    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.onload(restyle_once)
    return [alert, note, repaired, credit, verdict, summary]


__all__ = ["NO_VERDICT", "SMALL", "VERDICT_CSS", "VERDICT_HEIGHT", "message_panes", "verdict_html"]
