"""An example Studio plugin (docs/plugins.md): a "Hello" page saying who is signed in and how
many characters the library holds, read through the core's services, never SQL here.

Installed with `pip install -e examples/trulience-hello-plugin` (the Makefile's install),
its entry point `hello` in the group `trulience.studio_pages` gives `PAGE`, and the Studio
lists "Hello" after its own pages for any role that may view.
"""

import panel as pn

from apps.login import Login, SignedIn
from apps.studio_pages import StudioPage, adopting
from trulience.auth.permissions import Permission
from trulience.catalog.database import connect, database_url
from trulience.catalog.first_run import install_progress
from trulience.config import Settings


class HelloApp:
    """The page: a greeting for whoever signed in (the Studio's login, adopted)."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        self.login = Login(self.url, "hello", Permission.VIEW, self._signed_in, self._signed_out)
        self.greeting = pn.pane.Markdown("", css_classes=["hello-greeting"])
        self.root = pn.Column(
            pn.pane.Markdown("## Hello from a plugin"), self.greeting, sizing_mode="stretch_width"
        )

    def _signed_in(self, signed_in: SignedIn) -> None:
        with connect(self.url) as conn:
            characters = install_progress(conn).characters
        self.greeting.object = (
            f"Hello, **{signed_in.user.username}**: the library holds {characters} character(s)."
        )

    def _signed_out(self) -> None:
        self.greeting.object = ""

    def view(self) -> pn.Column:
        """The page's root layout."""
        return self.root


PAGE = StudioPage("hello", "Hello", "waving_hand", Permission.VIEW, adopting(HelloApp))
"""What the entry point names: the page's name (`?page=hello`), title, icon, permission and
factory."""
