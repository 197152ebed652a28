"""Contextual help (PRD-56): the Studio's help page, showing docs/help/<topic>.md, the page
each Studio page's Help link opens (`/studio?page=help&topic=review`). A topic with no file
says so and lists those there are.

Serve alone with `panel serve apps/help.py` (it shows the Studio topic); in the Studio it is
the `help` page. Stable selectors: .help-topic (the rendered markdown), .help-missing (the
note for a topic with no help), .help-topics (the list of topics)."""

import re
from pathlib import Path

import panel as pn

from apps import theme
from apps.login import Login, SignedIn
from trulience.auth.permissions import Permission
from trulience.catalog.database import database_url
from trulience.config import Settings

HELP_DIR = Path(__file__).resolve().parents[1] / "docs" / "help"
DEFAULT_TOPIC = "studio"
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def topics(folder: Path = HELP_DIR) -> list[str]:
    """The help topics there are (docs/help/<topic>.md), sorted."""
    return sorted(path.stem for path in folder.glob("*.md"))


def help_text(topic: str, folder: Path = HELP_DIR) -> tuple[bool, str]:
    """(found, markdown) for `topic`: its file, or a note saying there is no such help."""
    topic = topic.strip().lower()
    path = folder / f"{topic}.md"
    if _TOPIC.match(topic) and path.is_file():
        return True, path.read_text(encoding="utf-8")
    shown = topic if len(topic) <= 60 else topic[:60] + "…"
    known = ", ".join(topics(folder)) or "none"
    return False, f"There is no help on **{shown or '(no topic)'}** yet. Topics: {known}."


class HelpApp:
    """The help page: one topic's markdown, and links to the others."""

    def __init__(self, settings: Settings):
        self.login = Login(
            database_url(settings), "help", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.topic = DEFAULT_TOPIC
        self.text = pn.pane.Markdown("", css_classes=["help-topic"], sizing_mode="stretch_width")
        self.missing = pn.pane.Alert(
            "", alert_type="warning", visible=False, css_classes=["help-missing"]
        )
        self.index = pn.pane.Markdown("", css_classes=["help-topics"])
        self.body = pn.Column(self.missing, self.text, self.index, sizing_mode="stretch_width")
        self.show(DEFAULT_TOPIC)
        self.root = theme.page("Help", self.body)

    def show(self, topic: str) -> bool:
        """Show `topic`'s help (or say there is none); whether it was found."""
        found, text = help_text(topic)
        self.topic = topic if found else self.topic
        self.missing.object, self.missing.visible = ("" if found else text), not found
        if found:
            self.text.object = text
        links = " · ".join(f"[{name}](?page=help&topic={name})" for name in topics())
        self.index.object = f"Help topics: {links}"
        return found

    def _signed_in(self, _signed_in: SignedIn) -> None:
        self.body.visible = True

    def _signed_out(self) -> None:
        self.body.visible = True  # the help is no secret: it stays readable

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    HelpApp(Settings.from_env()).view().servable(title="Trulience · Help")
