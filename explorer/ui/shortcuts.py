"""Keyboard shortcuts of the explorer page: **Ctrl+Enter** (⌘+Enter on a Mac) runs, **Escape** stops.

A :class:`Shortcuts` component is an invisible ``panel.custom.JSComponent``: its ES module adds one ``keydown``
listener to the page's document (removed with the component) and, for a shortcut, sends ``{"action": name}`` to
Python with ``model.send_msg``; :meth:`Shortcuts.press` calls the action the page gave for that name. Each
browser session builds its own component with its own actions: nothing is shared between sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import param
from panel.custom import JSComponent

# key → action name (what the ES module sends); the page's text says the same (explorer.ui.sidebar.KEYS_HINT)
KEYS = {"Ctrl+Enter": "run", "Escape": "stop"}

SHORTCUTS_ESM = """
export function render({ model }) {
  const onkey = (e) => {
    if (e.repeat || e.isComposing) return;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      model.send_msg({action: "run"});
    } else if (e.key === "Escape") {
      model.send_msg({action: "stop"});
    }
  };
  document.addEventListener("keydown", onkey);
  model.on("remove", () => document.removeEventListener("keydown", onkey));
  const el = document.createElement("span");
  el.className = "ssh-shortcuts";
  return el;
}
"""


class Shortcuts(JSComponent):
    """Page-wide keyboard shortcuts that call Python actions (see the module docstring).

    Parameters
    ----------
    actions : mapping of str to callable
        ``{"run": …, "stop": …}``: what each shortcut's action name calls (with no argument); a name without an
        action is ignored.
    **params
        Panel layout parameters (it takes no room by default).
    """

    pressed = param.Integer(default=0, doc="Number of shortcuts received from the browser (tests read it).")

    _esm = SHORTCUTS_ESM

    def __init__(self, actions: Mapping[str, Callable[[], Any]], **params):
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
        self._actions = dict(actions)

    def _handle_msg(self, data: Any) -> None:  # Panel's hook for the browser's model.send_msg
        self.press(action_name(data))

    def press(self, name: str | None) -> None:
        """What a shortcut pressed in the browser does: call the action given for ``name`` (other names: nothing)."""
        action = self._actions.get(name) if isinstance(name, str) else None
        if action is None:
            return
        self.pressed += 1
        action()


def action_name(message: Any) -> str | None:
    """The action a message from the page names (``{"action": "run"}`` → "run"); None for any other message."""
    name = message.get("action") if isinstance(message, dict) else None
    return name if isinstance(name, str) else None


__all__ = ["KEYS", "SHORTCUTS_ESM", "Shortcuts", "action_name"]
