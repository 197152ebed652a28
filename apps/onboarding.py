"""The onboarding wizard page (PRD-67, `?page=onboarding`): upload a CSV of characters (and
a zip of their images), read the dry-run report — each row created, unchanged or refused with
its column and reason, from the same service as `trulience import characters` — then Confirm
writes the valid rows. Nothing is written before Confirm. State: apps/onboarding_state.py.

Serve alone with `panel serve apps/onboarding.py`; in the Studio it is the Onboarding page.

Stable selectors (CSS classes), for tests and screenshots:
  .onboarding-project (the project chooser), .onboarding-csv and .onboarding-images (the
  file inputs), buttons .onboarding-check ("Check"), .onboarding-confirm ("Confirm"),
  .onboarding-restart ("Start over"); .onboarding-summary; .onboarding-report table with
  tr.onboarding-row.onboarding-<outcome> (created | unchanged | refused) and cells
  .onboarding-line, .onboarding-slug, .onboarding-outcome, .onboarding-field,
  .onboarding-reason
"""

import html

import panel as pn

from apps import theme
from apps.notices import NoticeBox
from apps.onboarding_state import MAX_CSV_BYTES, MAX_ZIP_BYTES, OnboardingSession, ReportRow
from trulience.config import Settings

MAX_SHOWN = 500  # report rows drawn on the page (refused rows first)


def report_html(rows: list[ReportRow]) -> str:
    """The report as an HTML table: refused rows first, at most MAX_SHOWN drawn."""
    if not rows:
        return ""
    ordered = sorted(rows, key=lambda r: (r.outcome != "refused", r.line))
    cells = ("line", "slug", "outcome", "field", "reason")
    body = []
    for row in ordered[:MAX_SHOWN]:
        values = (
            str(row.line),
            row.slug,
            row.outcome,
            row.field,
            row.reason or f"{row.images} image(s)",
        )
        tds = "".join(
            f'<td class="onboarding-{name}">{html.escape(value)}</td>'
            for name, value in zip(cells, values, strict=True)
        )
        body.append(f'<tr class="onboarding-row onboarding-{row.outcome}">{tds}</tr>')
    more = len(ordered) - MAX_SHOWN
    tail = f"<p>and {more:,} more row(s) (the CLI prints them all)</p>" if more > 0 else ""
    head = "".join(f"<th>{name}</th>" for name in cells)
    return (
        f'<table class="onboarding-report"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{tail}"
    )


class OnboardingApp:
    """One browser session of the onboarding wizard; shows nothing until a login."""

    def __init__(self, settings: Settings):
        self.session = session = OnboardingSession(settings)
        self.login = session.login
        self.project = pn.widgets.Select(
            label="Project", options=[], css_classes=["onboarding-project"]
        )
        session.param.watch(lambda e: setattr(self.project, "options", e.new), "projects")
        session.param.watch(lambda e: setattr(self.project, "value", e.new), "project")
        self.project.param.watch(lambda e: setattr(session, "project", e.new), "value")
        self.csv = pn.widgets.FileInput(accept=".csv", css_classes=["onboarding-csv"])
        self.images = pn.widgets.FileInput(accept=".zip", css_classes=["onboarding-images"])
        self.csv.param.watch(lambda e: self._uploaded(self.csv, session.upload_csv), "value")
        self.images.param.watch(
            lambda e: self._uploaded(self.images, session.upload_images), "value"
        )
        self.check = pn.widgets.Button(
            label="Check", color="primary", css_classes=["onboarding-check"]
        )
        self.confirm = pn.widgets.Button(
            label="Confirm", color="success", css_classes=["onboarding-confirm"]
        )
        self.restart = pn.widgets.Button(label="Start over", css_classes=["onboarding-restart"])
        self.check.on_click(lambda _: session.check())
        self.confirm.on_click(lambda _: session.confirm())
        self.restart.on_click(lambda _: self._start_over())
        self.summary = pn.pane.Markdown("", css_classes=["onboarding-summary"])
        self.report = pn.pane.HTML("", sizing_mode="stretch_width")
        limits = pn.pane.Markdown(
            f"A CSV with columns `slug`, `name`, `images` (paths in the zip, separated by `;`) "
            f"and metadata columns; at most {MAX_CSV_BYTES // 2**20} MiB, images zip at most "
            f"{MAX_ZIP_BYTES // 2**20} MiB. Larger: `trulience import characters`."
        )
        self.wizard = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            NoticeBox(session=session),
            limits,
            self.project,
            pn.Row(
                pn.pane.Markdown("**CSV**"),
                self.csv,
                pn.pane.Markdown("**Images (zip)**"),
                self.images,
            ),
            pn.Row(self.check, self.confirm, self.restart),
            self.summary,
            self.report,
            sizing_mode="stretch_width",
        )
        session.param.watch(lambda *_: self._draw(), ["rows", "stage", "summary", "may_onboard"])
        self.body = pn.Column(self.login.form, self.wizard, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self._draw()
        self.root = theme.page("Onboarding", self.body)

    def _uploaded(self, widget: pn.widgets.FileInput, take) -> None:
        if widget.value is not None:
            take(widget.filename or "upload", widget.value)

    def _start_over(self) -> None:
        self.session.start_over()
        self.csv.value, self.images.value = None, None

    def _draw(self) -> None:
        session = self.session
        self.summary.object = session.summary
        self.report.object = report_html(session.rows)
        self.check.disabled = not session.may_onboard
        self.confirm.disabled = not session.may_onboard or session.stage != "report"

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.wizard.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    OnboardingApp(Settings.from_env()).view().servable(title="Trulience · Onboarding")
