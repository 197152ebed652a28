"""The data maintenance page (PRD-18, `?page=maintenance`): search/replace in character
metadata and repathing storage URIs in bulk, each previewed as a dry run (the report shown)
and applied by Confirm in one audited transaction. State: apps/maintenance_state.py.

Serve alone with `panel serve apps/maintenance.py`; in the Studio it is the Maintenance page.

Stable selectors (CSS classes), for tests and screenshots:
  replace form: .maintenance-find, .maintenance-replace, .maintenance-field,
      .maintenance-regex, .maintenance-project, button .maintenance-preview-replace
  repath form: .maintenance-old, .maintenance-new, .maintenance-allow-missing,
      button .maintenance-preview-repath
  .maintenance-report (one line per change / table / missing file), button
      .maintenance-confirm ("Confirm")
"""

import html

import panel as pn

from apps import theme
from apps.login import typed
from apps.maintenance_state import MaintenanceSession
from apps.notices import NoticeBox
from trulience.config import Settings

MAX_SHOWN = 500  # report lines drawn (the CLI prints them all)


def _text(label: str, css: str, placeholder: str = "") -> pn.widgets.TextInput:
    return pn.widgets.TextInput(label=label, placeholder=placeholder, css_classes=[css])


class MaintenanceApp:
    """One browser session of the maintenance page; shows nothing until a login."""

    def __init__(self, settings: Settings):
        self.session = session = MaintenanceSession(settings)
        self.login = session.login
        self.forms = pn.Row(self._replace_form(), self._repath_form())
        self.confirm = pn.widgets.Button(
            label="Confirm", color="success", css_classes=["maintenance-confirm"]
        )
        self.confirm.on_click(lambda _: session.confirm())
        self.report = pn.pane.HTML("", sizing_mode="stretch_width")
        self.page = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            NoticeBox(session=session),
            self.forms,
            self.confirm,
            self.report,
            sizing_mode="stretch_width",
        )
        session.param.watch(
            lambda *_: self._draw(), ["report", "pending", "blocked", "may_maintain"]
        )
        self.body = pn.Column(self.login.form, self.page, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self._draw()
        self.root = theme.page("Maintenance", self.body)

    def _replace_form(self) -> pn.Column:
        """Find / replace / field / project / regex, and Preview replace."""
        session = self.session
        self.find = _text("Find", "maintenance-find")
        self.replace = _text("Replace with", "maintenance-replace")
        self.field = _text("Field", "maintenance-field", "every field")
        self.regex = pn.widgets.Checkbox(
            label="Regular expression", css_classes=["maintenance-regex"]
        )
        self.project = _text("Project", "maintenance-project", "every project")
        preview = pn.widgets.Button(
            label="Preview replace", css_classes=["maintenance-preview-replace"]
        )
        preview.on_click(
            lambda _: session.preview_replace(
                typed(self.find),
                typed(self.replace),
                typed(self.field),
                self.regex.value,
                typed(self.project),
            )
        )
        return pn.Column(
            pn.pane.Markdown("### Search and replace in metadata"),
            self.find,
            self.replace,
            self.field,
            self.project,
            self.regex,
            preview,
        )

    def _repath_form(self) -> pn.Column:
        """Old / new prefix, allow missing, and Preview repath."""
        session = self.session
        self.old = _text("Old prefix", "maintenance-old", "file:///old/storage")
        self.new = _text("New prefix", "maintenance-new", "file:///new/storage")
        self.allow_missing = pn.widgets.Checkbox(
            label="Allow missing files", css_classes=["maintenance-allow-missing"]
        )
        preview = pn.widgets.Button(
            label="Preview repath", css_classes=["maintenance-preview-repath"]
        )
        preview.on_click(
            lambda _: session.preview_repath(
                typed(self.old), typed(self.new), self.allow_missing.value
            )
        )
        return pn.Column(
            pn.pane.Markdown("### Repath storage URIs"),
            self.old,
            self.new,
            self.allow_missing,
            preview,
        )

    def _draw(self) -> None:
        session = self.session
        lines = session.report[:MAX_SHOWN]
        more = len(session.report) - len(lines)
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        tail = f"<p>and {more:,} more line(s)</p>" if more > 0 else ""
        self.report.object = f'<ul class="maintenance-report">{items}</ul>{tail}' if lines else ""
        self.forms.visible = session.may_maintain
        self.confirm.disabled = session.pending is None or session.blocked

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.page.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    MaintenanceApp(Settings.from_env()).view().servable(title="Trulience · Maintenance")
