"""The scene types page (PRD-63): every scene type (a page at a time) with its parent; one
opened shows each setting with where its value comes from (own, inherited from a parent,
or the default); a producer changes the prompt or any setting (a new version; a refused
value is said at its field and nothing is stored), diffs any two versions and rolls back
to one (a NEW version equal to it). A viewer sees it all read-only.

Serve with `panel serve apps/scene_types.py` or open `?page=scene-types` in the Studio.
State: apps/scene_types_state.py; views: apps/scene_types_views.py. Help:
docs/help/scene-types.md.

Stable selectors (CSS classes), for tests and screenshots:
  .scene-types-list (the scene type chooser), .scene-types-more / .scene-types-less (pages)
  .scene-types-title; table.scene-types-settings > tr.scene-setting.scene-setting-<name>
      [data-source=own|inherited|default|unset] with .scene-setting-value,
      .scene-setting-source ("inherited from base"), .scene-types-field-error
  .scene-types-prompt (textarea) and .scene-types-save-prompt; .scene-types-field,
      .scene-types-value, .scene-types-set; .scene-types-back-to and .scene-types-rollback
  .scene-types-versions > li.scene-types-version-<n>; .scene-types-diff-old,
      .scene-types-diff-new, .scene-types-diff-go; .scene-types-diff > .diff-line.diff-add /
      .diff-remove / .diff-context / .diff-hunk
"""

import panel as pn

from apps import theme
from apps.notices import NoticeBox
from apps.scene_types_state import SceneTypesSession
from apps.scene_types_views import EditorView
from trulience.config import Settings


class SceneTypesApp:
    """One browser session of the scene types page; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = SceneTypesSession(settings)
        self.login = session.login
        self.chooser = pn.widgets.Select(
            label="Scene type", options=[], css_classes=["scene-types-list"]
        )
        self.more = pn.widgets.Button(label="Next", css_classes=["scene-types-more"])
        self.less = pn.widgets.Button(label="Previous", css_classes=["scene-types-less"])
        self.more.on_click(lambda _: session.page(+1))
        self.less.on_click(lambda _: session.page(-1))
        session.param.watch(lambda *_: self._list(), ["slugs", "parents"])
        self.chooser.param.watch(self._chosen, "value")
        self.editor = EditorView(session)
        self.main = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            NoticeBox(session=session),
            pn.Row(self.chooser, self.less, self.more),
            self.editor,
            sizing_mode="stretch_width",
        )
        self.body = pn.Column(self.login.form, self.main, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Scene types", self.body)

    def _list(self) -> None:
        parents = self.session.parents
        options = {"(choose)": ""} | {
            (f"{s} (inherits {parents[s]})" if parents.get(s) else s): s for s in self.session.slugs
        }
        self.chooser.options = options
        self.more.visible = self.less.visible = self.session.total > len(self.session.slugs)

    def _chosen(self, event) -> None:
        if event.new:
            self.session.hush()
            self.session.open(event.new)

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.main.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    SceneTypesApp(Settings.from_env()).view().servable(title="Trulience · Scene types")
