"""The studio's one Panel look (PRD-29): the stylesheet, an app's frame and its notices.

Apps call `setup()` once, `page(...)` for their frame and `notice()` / `show(...)` for
feedback, so that a change of look happens here once. The shared parts of an app live
beside it, each named for what it is: `apps.login`, `apps.shortcuts`, `apps.images`,
`apps.undo` and `apps.actions` (the one action runner).
"""

from typing import Any

import panel as pn

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
