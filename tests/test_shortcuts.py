"""Keyboard shortcuts (explorer/ui/shortcuts.py): the browser's messages call the page's actions; the page wires
Ctrl+Enter to the start, and Escape to the Stop, of the tab shown (the browser tests press the keys:
tests/ui/test_teaching_ui.py, tests/ui/test_tabs_ui.py)."""

from __future__ import annotations

import time

from explorer.ui.shortcuts import KEYS, SHORTCUTS_ESM, Shortcuts, action_name
from explorer_fakes import paced_fit


def test_a_message_calls_its_action_and_others_are_ignored():
    calls = []
    keys = Shortcuts({"run": lambda: calls.append("run"), "stop": lambda: calls.append("stop")})
    assert action_name({"action": "run"}) == "run"      # what model.send_msg({action: "run"}) delivers
    keys.press(action_name({"action": "run"}))
    keys.press(action_name({"action": "stop"}))
    for junk in ({"action": "delete"}, {"key": "run"}, "run", None, {"action": 3}):
        keys.press(action_name(junk))
    assert [action_name(j) for j in ({"key": "run"}, "run", None, {"action": 3})] == [None] * 4
    assert calls == ["run", "stop"]
    assert keys.pressed == 2


def test_the_module_listens_for_ctrl_enter_and_escape():
    assert KEYS == {"Ctrl+Enter": "run", "Escape": "stop"}
    for part in ('addEventListener("keydown"', 'e.key === "Enter"', "e.ctrlKey", 'e.key === "Escape"',
                 'send_msg({action: "run"})', 'send_msg({action: "stop"})', "removeEventListener"):
        assert part in SHORTCUTS_ESM


def test_the_page_runs_and_stops_from_the_keyboard():
    from bokeh.document import Document

    from explorer.app import ExplorerApp
    from explorer.ui.about import TEACHER_NOTES
    from explorer.ui.sidebar import KEYS_HINT

    app = ExplorerApp(fit=paced_fit(20.0))
    try:
        app.__panel__().get_root(Document())
        app.param.update(index_crop="0 32 0 64", iters=400, members=1)
        keys = app.view.shortcuts
        keys.press("run")
        assert app.running and app.job is not None
        deadline = time.time() + 30
        while app.step < 2 and time.time() < deadline:
            time.sleep(0.05)
            app.flush()
        keys.press("stop")
        assert app.wait(30)
        assert not app.running and app.end_reason == "stopped by the user"
        assert "Ctrl+Enter" in KEYS_HINT and "Esc" in KEYS_HINT
        assert "Ctrl+Enter" in TEACHER_NOTES and "Esc" in TEACHER_NOTES
    finally:
        app.stop()
        app.wait(30)


def test_the_keys_act_on_the_tab_shown_only():
    """On the Downscale tab Ctrl+Enter downscales and Esc stops that; the twin's fit does not start (issue 24: it
    used to start a hidden fit); back on Explore the keys run the fit again."""
    import threading

    from bokeh.document import Document

    from explorer.app import ExplorerApp
    from explorer.ui.layout import DOWNSCALE, EXPLORE, TAB_NAMES
    from test_downscale_tab import fake_downscale

    app = ExplorerApp(fit=paced_fit(20.0))
    try:
        app.__panel__().get_root(Document())
        view = app.view
        started = threading.Event()
        view.downscale.session.fit = fake_downscale(delay=0.05, steps=400, started=started)
        view.tabs.active = TAB_NAMES.index(DOWNSCALE)
        assert view.tab == DOWNSCALE
        assert view.sidebars["downscale"].visible and not view.sidebars["run"].visible
        view.shortcuts.press("run")
        assert view.downscale.state.running and not app.running and app.job is None
        assert started.wait(10)
        view.shortcuts.press("stop")
        assert view.downscale.session.wait(10) and not view.downscale.state.running
        assert view.downscale.state.status.startswith("stopped")
        view.tabs.active = TAB_NAMES.index(EXPLORE)
        assert view.sidebars["run"].visible and not view.sidebars["downscale"].visible
        app.param.update(index_crop="0 32 0 64", iters=3, members=1)
        view.shortcuts.press("run")
        assert app.running and app.wait(30)
    finally:
        app.stop()
        app.wait(30)
