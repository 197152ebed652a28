"""An app's single-key actions: the browser component that reports keys, and the binding
of the app's actions to the logged-in user's own keys, with buttons and legend naming them."""

import html
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn
import param

from trulience.review.shortcuts import ACTIONS, DEFAULT_PRESET, HELP_KEY, PRESETS, key_label


class KeyboardShortcuts(pn.custom.JSComponent):
    """Page-wide single-key shortcuts: a key in `keys` is sent to the server, which calls
    the action bound to it. Keys typed into a text field are left alone."""

    keys = param.List(default=[], doc="The keys the browser should report.")

    _esm = """
    export function render({ model }) {
      const editable = (el) =>
        el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
      const onKey = (event) => {
        if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
        // Panel renders in shadow roots: the real target is the first of the composed path.
        if (editable(event.composedPath()[0])) return;
        if (model.keys.includes(event.key)) {
          event.preventDefault();
          model.send_msg({ key: event.key });
        }
      };
      document.addEventListener("keydown", onKey);
      model.on("remove", () => document.removeEventListener("keydown", onKey));
      const el = document.createElement("span");
      el.className = "keyboard-shortcuts";
      return el;
    }
    """

    def __init__(self, bindings: Mapping[str, Callable[[], None]], **params: Any):
        self._bindings = dict(bindings)
        super().__init__(keys=list(self._bindings), **params)

    def rebind(self, bindings: Mapping[str, Callable[[], None]]) -> None:
        """Replace every binding (the browser is sent the new keys at once)."""
        self._bindings = dict(bindings)
        self.keys = list(self._bindings)

    def _handle_msg(self, msg: Any) -> None:
        action = self._bindings.get(msg.get("key")) if isinstance(msg, dict) else None
        if action is not None:
            action()


class ShortcutKeys:
    """An app's single-key actions bound to the logged-in user's keys, with the buttons
    that name those keys and a legend of them (`?` shows or hides it).

    `actions` are the actions this app offers (a subset of `ACTIONS`); `use(table)` rebinds
    them to a user's action → key table, and relabels the buttons and the legend.
    """

    def __init__(self, actions: Mapping[str, Callable[[], None]]):
        self.actions = dict(actions)
        self.table: dict[str, str] = {}
        self._buttons: dict[str, tuple[pn.widgets.Button, str]] = {}
        self.legend = pn.pane.HTML("", css_classes=["shortcut-legend"])
        self.keyboard = KeyboardShortcuts({})
        self.use(PRESETS[DEFAULT_PRESET])

    def use(self, table: Mapping[str, str]) -> None:
        """Bind this app's actions to the keys of `table` (action → key)."""
        self.table = {action: table[action] for action in self.actions}
        bindings: dict[str, Callable[[], None]] = {
            key: self.actions[action] for action, key in self.table.items()
        }
        bindings[HELP_KEY] = self.toggle_legend
        self.keyboard.rebind(bindings)
        for action, (widget, label) in self._buttons.items():
            widget.label = label + self.hint(action)
        entries = [
            f'<span class="shortcut"><kbd data-action="{action}">'
            f"{html.escape(key_label(key))}</kbd> {html.escape(ACTIONS[action])}</span>"
            for action, key in self.table.items()
        ]
        entries.append(f"<span><kbd>{HELP_KEY}</kbd> show / hide these keys</span>")
        self.legend.object = "<b>Keys</b> " + " · ".join(entries)

    def hint(self, action: str) -> str:
        """How a button names its key: ` (a)`, ` (Space)`."""
        key = self.table.get(action)
        return "" if key is None else f" ({key_label(key)})"

    def button(self, label: str, action: str, kind: str = "default") -> pn.widgets.Button:
        """A button for `action`, named with the user's key for it."""
        widget = pn.widgets.Button(label=label + self.hint(action), color=kind)
        widget.on_click(lambda _: self.actions[action]())
        self._buttons[action] = (widget, label)
        return widget

    def relabel(self, action: str, label: str) -> None:
        """Rename `action`'s button (such as Play ↔ Pause), keeping its key hint."""
        widget, _ = self._buttons[action]
        self._buttons[action] = (widget, label)
        widget.label = label + self.hint(action)

    def toggle_legend(self) -> None:
        """Show or hide the legend of keys."""
        self.legend.visible = not self.legend.visible
