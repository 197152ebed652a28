"""The character page (issue 17): one character's source images with their QA verdicts, its
identity band, its takes per scene type (status, review decision, a link to review), a
metadata form generated from its project's schema (PRD-66: an invalid value is shown at its
field and nothing is written) and its own overrides of scene-type settings (PRD-108). A
viewer sees it all read-only.

Open `/studio?page=character&character=SLUG` (or serve `panel serve apps/character.py` and
pass `?character=SLUG`). State: apps/character_state.py; views: apps/character_views.py.

Stable selectors (CSS classes), for tests and screenshots:
  .character-facts: .character-title, .character-images > figure.character-image
      .character-qa-<status>, .character-bands, .character-takes > tr.character-take-<id>
  .character-form: .character-field-<name> (its input, then .character-field-error),
      .character-form-error (a problem of the whole), .character-save
  .character-overrides, .character-override-scene-type, .character-override-text,
      .character-override-save, .character-override-error
"""

import panel as pn

from apps import theme
from apps.character_state import CharacterSession
from apps.character_views import FactsView, MetadataForm, OverridesView
from apps.library_views import wrapping
from apps.notices import NoticeBox
from trulience.config import Settings
from trulience.storage import Storage


class CharacterApp:
    """One browser session of the character page; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = CharacterSession(settings)
        self.login = session.login
        storage = Storage(settings.storage_url, settings.storage_options)
        self.character_view = pn.Column(
            wrapping(self.login.who, self.login.logout_button),
            NoticeBox(session=session),
            FactsView(session, storage),
            MetadataForm(session),
            OverridesView(session),
            sizing_mode="stretch_width",
            css_classes=["character-page"],
        )
        self.body = pn.Column(self.login.form, self.character_view, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Character", self.body)

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.character_view.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    app = CharacterApp(Settings.from_env())
    wanted = pn.state.session_args.get("character", [b""])[0].decode()
    if wanted:
        app.session.slug = wanted
    app.view().servable(title="Trulience · Character")
