"""The library page (issue 17): every character, filtered by tag, readiness, project and
text, sorted, one server-side page at a time; each row links to its character page
(`?page=character&character=SLUG`). A producer selects many and edits a metadata field or a
tag across them: counted first, then applied in one transaction. A viewer only reads.

Serve with `panel serve apps/library.py` or open `/studio?page=library`. State:
apps/library_state.py; views: apps/library_views.py.

Stable selectors (CSS classes), for tests and screenshots:
  .library-text, .library-tag, .library-readiness, .library-project, .library-sort
  .library-rows > .library-row.library-row-<slug>: .library-select (a producer's),
      a.library-open (to the character page), .library-ready, .library-chip (a tag)
  .library-where ("page 1 of 3 · 120 characters"), .library-previous, .library-next
  .library-bulk (a producer's): .library-selected, .library-select-page, .library-select-all,
      .library-clear, .library-bulk-field, .library-bulk-value, .library-count-field,
      .library-bulk-tag, .library-count-add, .library-count-remove, .library-pending,
      .library-apply, .library-cancel
"""

import panel as pn

from apps import theme
from apps.library_state import LibrarySession
from apps.library_views import BulkBar, FilterBar, RowsView, wrapping
from apps.notices import NoticeBox
from trulience.config import Settings


class LibraryApp:
    """One browser session of the library page; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = LibrarySession(settings)
        self.login = session.login
        self.library_view = pn.Column(
            wrapping(self.login.who, self.login.logout_button),
            FilterBar(session),
            NoticeBox(session=session),
            BulkBar(session),
            RowsView(session),
            sizing_mode="stretch_width",
            css_classes=["library-page"],
        )
        self.body = pn.Column(self.login.form, self.library_view, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Library", self.body)

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.library_view.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    LibraryApp(Settings.from_env()).view().servable(title="Trulience · Library")
