"""explorer.ui.messages: the lines above the tabs follow the app's state, and the end of a run changes only their text
(the verdict's box is drawn in its HTML, so it is never shown, hidden or re-classed)."""

from __future__ import annotations

import panel as pn
import param

from explorer.ui.messages import message_panes, verdict_html


class FakeApp(param.Parameterized):
    error = param.String("")
    message = param.String("")
    note = param.String("")
    credit = param.String("")
    verdict = param.String("")
    best = param.String("")


def test_the_verdict_box_is_green_only_when_the_network_won_and_its_text_is_escaped():
    assert 'class="verdict none"' in verdict_html("", "estimate")  # grey, saying what will appear, same height
    assert 'class="verdict good"' in verdict_html("the network beats IBP", "estimate")
    assert 'class="verdict warn"' in verdict_html("IBP wins", "ibp")
    assert "&lt;b&gt;" in verdict_html("<b>", "ibp") and "<b>" not in verdict_html("<b>", "ibp")


def test_the_panes_follow_the_state_and_a_run_end_changes_only_text():
    app, summary = FakeApp(), pn.pane.Markdown("")
    alert, note, repaired, credit, verdict, told = message_panes(app, summary)
    assert told is summary and not alert.visible and not repaired.visible and not credit.visible
    app.error = "cannot read x.nc"
    assert alert.visible and alert.object == "cannot read x.nc"
    app.error = ""
    assert not alert.visible
    app.note = "3 non-finite cells treated as missing"
    assert repaired.visible and repaired.object.startswith("Note: 3 non-finite")
    app.credit = "Copernicus"
    assert credit.visible and "Copernicus" in credit.object
    shown = (verdict.visible, verdict.css_classes, note.visible, note.css_classes)
    app.param.update(message="Fit finished at step 30", best="estimate", verdict="the network beats IBP")
    assert note.object == "Fit finished at step 30" and 'verdict good' in verdict.object
    app.param.update(best="ibp", verdict="IBP wins")
    assert 'verdict warn' in verdict.object and "IBP wins" in verdict.object
    app.verdict = ""                                          # a new run: the box greys, it does not hide
    assert 'verdict none' in verdict.object
    assert (verdict.visible, verdict.css_classes, note.visible, note.css_classes) == shown
