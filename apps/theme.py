"""The studio's one Panel look (PRD-29): its tokens, the stylesheet, an app's frame and its
notices.

The design tokens live here and nowhere else: `COLOURS` (light and dark), `TYPE` and
`SPACING`. The Studio's shell (apps/studio.py) is panel-material-ui, themed from them by
`material_theme()` (and the variables below follow it: the shell's root is `.mui-dark` in
the dark theme); its light/dark toggle is saved per user (`trulience.catalog.themes`).
Apps call `setup()` once, `page(...)` for their frame and `notice()` / `show(...)` for
feedback, so that a change of look happens here once. The shared parts of an app live
beside it, each named for what it is: `apps.login`, `apps.shortcuts`, `apps.images`,
`apps.undo` and `apps.actions` (the one action runner).
"""

from typing import Any

import panel as pn

ACCENT = "#3b5bdb"
STUDIO_NAME = "Trulience Studio"

# Colour tokens per theme: the shell's palette and the stylesheet's variables.
COLOURS: dict[str, dict[str, str]] = {
    "light": {
        "accent": ACCENT,
        "background": "#f6f7fb",
        "surface": "#ffffff",
        "text": "#1d2330",
        "muted": "#5b6475",
        "border": "#d9dde7",
        "success": "#2f9e44",
        "warning": "#e8590c",
        "danger": "#c92a2a",
    },
    "dark": {
        "accent": "#748ffc",
        "background": "#14171f",
        "surface": "#1d212b",
        "text": "#e7e9ef",
        "muted": "#a3aabb",
        "border": "#343a48",
        "success": "#69db7c",
        "warning": "#ffa94d",
        "danger": "#ff8787",
    },
}
TYPE = {
    "family": "Inter, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
    "mono": "'JetBrains Mono', 'DejaVu Sans Mono', monospace",
    "body": "14px",
    "small": "12px",
    "title": "20px",
}
SPACING = {"xs": "4px", "s": "8px", "m": "16px", "l": "24px", "xl": "32px"}


def _variables(theme: str) -> str:
    """The CSS custom properties of one theme's tokens (`--trulience-<name>`)."""
    tokens = {**COLOURS[theme], **{f"space-{k}": v for k, v in SPACING.items()}}
    tokens |= {f"font-{k}": v for k, v in TYPE.items()}
    return "; ".join(f"--trulience-{name}: {value}" for name, value in tokens.items())


_CSS = f"""
:root {{ {_variables("light")}; }}
.mui-dark {{ {_variables("dark")}; }}
.studio-header {{ border-bottom: 2px solid {ACCENT}; margin-bottom: 8px; }}
.frame-label {{ font-variant-numeric: tabular-nums; font-weight: 600; }}
.tray-badge {{ background: {ACCENT}; color: white; border-radius: 10px; padding: 1px 8px;
               font-weight: 600; font-variant-numeric: tabular-nums; }}
"""


def setup(*extensions: str) -> None:
    """Load the Panel extension (and `extensions`, e.g. "tabulator") with the studio's
    stylesheet and design (once per app)."""
    pn.extension(*extensions, raw_css=[_CSS], design="bootstrap", notifications=False)


def material_theme() -> dict[str, Any]:
    """panel-material-ui's theme (its `theme_config`) from the tokens, light and dark."""

    def one(theme: str) -> dict[str, Any]:
        colours = COLOURS[theme]
        return {
            "palette": {
                "primary": {"main": colours["accent"]},
                "success": {"main": colours["success"]},
                "warning": {"main": colours["warning"]},
                "error": {"main": colours["danger"]},
                "background": {"default": colours["background"], "paper": colours["surface"]},
                "text": {"primary": colours["text"], "secondary": colours["muted"]},
            },
            "typography": {"fontFamily": TYPE["family"], "fontSize": int(TYPE["body"][:-2])},
            "shape": {"borderRadius": 6},
        }

    return {"light": one("light"), "dark": one("dark")}


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
