"""The studio's one Panel look (PRD-29) and the small widgets every app shares.

Apps call `page(...)` for their frame, `notice(...)` for feedback and `KeyboardShortcuts`
for single-key actions, so that a change of look or of key handling happens here once.
"""

import base64
import io
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import panel as pn
import param
from PIL import Image

from trulience.errors import TrulienceError

ACCENT = "#3b5bdb"
STUDIO_NAME = "Trulience Studio"

_CSS = f"""
:root {{ --trulience-accent: {ACCENT}; }}
.studio-header {{ border-bottom: 2px solid {ACCENT}; margin-bottom: 8px; }}
.frame-label {{ font-variant-numeric: tabular-nums; font-weight: 600; }}
.tray-badge {{ background: {ACCENT}; color: white; border-radius: 10px; padding: 1px 8px;
               font-weight: 600; font-variant-numeric: tabular-nums; }}
"""


def setup() -> None:
    """Load the Panel extension with the studio's stylesheet and design (once per app)."""
    pn.extension(raw_css=[_CSS], design="bootstrap", notifications=False)


def page(title: str, *objects: Any) -> pn.Column:
    """An app's frame: the studio header, then the app's content."""
    header = pn.pane.Markdown(f"## {STUDIO_NAME} · {title}", css_classes=["studio-header"])
    return pn.Column(header, *objects, sizing_mode="stretch_width")


def notice() -> pn.pane.Alert:
    """An initially hidden message box for the outcome of an action."""
    return pn.pane.Alert("", alert_type="info", visible=False, css_classes=["studio-notice"])


def show(box: pn.pane.Alert, message: str, kind: str = "info") -> None:
    """Put `message` in a notice box with the Bootstrap alert type `kind`."""
    box.object, box.alert_type, box.visible = message, kind, True


def refusal(error: TrulienceError) -> str:
    """The text a user sees for a refused action: the domain error's own message."""
    return str(error)


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB uint8 frame as lossless PNG bytes (what the browser shows must be exact)."""
    buffer = io.BytesIO()
    Image.fromarray(frame, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(frame: np.ndarray) -> str:
    """A frame as a data: URL for an <img> (no file is written, no URL to guess)."""
    return png_file_data_url(png_bytes(frame))


def png_file_data_url(data: bytes) -> str:
    """PNG file bytes (such as a stored storyboard) as a data: URL for an <img>."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


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

    def _handle_msg(self, msg: Any) -> None:
        action = self._bindings.get(msg.get("key")) if isinstance(msg, dict) else None
        if action is not None:
            action()


def typed(field: pn.widgets.TextInput) -> str:
    """What is in a text field now: `value_input` follows each keystroke, while `value`
    waits for Enter or blur, which may arrive after the button click that reads it."""
    return field.value_input or field.value or ""
