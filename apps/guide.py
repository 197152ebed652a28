"""The first-run guide page (PRD-53): what the Studio opens on an empty install, walking to
the first character and the first take, each step ticked as the catalog fills (re-read every
few seconds while served, and on "Check again"). State: apps/guide_state.py. Help:
docs/help/guide.md.

Stable selectors: .guide-steps > .guide-step.guide-step-<key> (.guide-done once done),
.guide-finished.
"""

import panel as pn

from apps import theme
from apps.guide_state import GuideSession
from trulience.config import Settings

CHECK_MS = 5000


class GuideApp:
    """One browser session of the guide; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = GuideSession(settings)
        self.login = session.login
        check = pn.widgets.Button(label="Check again", css_classes=["guide-check"])
        check.on_click(lambda _: session.check())
        self.steps = pn.Column(sizing_mode="stretch_width", css_classes=["guide-steps"])
        self.finished = pn.pane.Markdown(
            "**All set.** Your first take waits in the Review page's queue.",
            css_classes=["guide-finished"],
            visible=False,
        )
        self.guide_view = pn.Column(
            pn.pane.Markdown(
                "Welcome. This install is new: two steps take it to its first take to review."
            ),
            self.steps,
            self.finished,
            check,
            sizing_mode="stretch_width",
        )
        self.body = pn.Column(self.login.form, self.guide_view, sizing_mode="stretch_width")
        self._periodic = None
        session.param.watch(lambda *_: self._draw(), ["steps", "finished"])
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Getting started", self.body)

    def _draw(self) -> None:
        self.steps.objects = [
            pn.pane.Markdown(
                f"### {'✓' if step.done else '○'} {number}. {step.title}\n\n{step.how}",
                css_classes=["guide-step", f"guide-step-{step.key}"]
                + (["guide-done"] if step.done else []),
                sizing_mode="stretch_width",
            )
            for number, step in enumerate(self.session.steps, start=1)
        ]
        self.finished.visible = self.session.finished

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.guide_view.visible = not signed_in, signed_in
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        if signed_in and served and self._periodic is None:
            self._periodic = pn.state.add_periodic_callback(self._tick, period=CHECK_MS)
        elif not signed_in and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def _tick(self) -> None:
        if self.session.user is not None and not self.session.finished:
            self.session.check()

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    GuideApp(Settings.from_env()).view().servable(title="Trulience · Getting started")
