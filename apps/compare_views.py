"""The compare app's views over a `CompareSession`: the attempts of one segment side by
side with their QA verdicts, two of them (or two whole takes of a scene type) played compared
in the browser player, side by side or as a wipe, frame for frame (PRD-101), and one scene
type across characters in a grid of real videos playing in sync (apps/video_grid.py,
PRD-68, PRD-36).

An attempt's card shows its first frame decoded on the server, as lossless PNG.
"""

import html

import numpy as np
import panel as pn
import param

from apps.compare_state import AttemptCard, CompareSession
from apps.images import png_data_url
from apps.video_grid import VideoGrid
from apps.video_player import COMPARE_MODES, VideoPlayer


def image(picture: np.ndarray, css_class: str, **data: object) -> str:
    """An <img> of a decoded frame, pixel for pixel, with `data-*` attributes."""
    attributes = " ".join(f'data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    return (
        f'<img class="{css_class}" {attributes} src="{png_data_url(picture)}" '
        f'style="width: 256px; image-rendering: pixelated">'
    )


def chooser(
    label: str, css_class: str, session: CompareSession, choices: str, chosen: str
) -> pn.widgets.Select:
    """A Select over the session's `choices` (label → value) showing and setting its
    `chosen`."""
    select = pn.widgets.Select(
        label=label, options=dict(getattr(session, choices)), css_classes=[css_class]
    )
    select.value = getattr(session, chosen)
    session.param.watch(lambda event: setattr(select, "options", dict(event.new)), choices)
    session.param.watch(lambda event: setattr(select, "value", event.new), chosen)
    select.param.watch(lambda event: setattr(session, chosen, event.new), "value")
    return select


def attempt_card(card: AttemptCard) -> pn.Column:
    """One attempt's card: its first frame (or why there is none) over its verdict."""
    if card.frame is None:
        picture = f"<em>{html.escape(card.problem or '')}</em>"
    else:
        picture = image(card.frame, "compare-attempt-image", attempt=card.attempt.attempt)
    return pn.Column(
        pn.pane.HTML(picture),
        pn.pane.Markdown("\n\n".join(card.lines)),
        css_classes=["compare-attempt"],
    )


def link_player(session: CompareSession, player: VideoPlayer) -> None:
    """The compare player shows the session's pair: the shown attempt played, the compared
    one following it; layout, wipe and frame kept the same both ways."""

    def sources(*_: object) -> None:
        shown, compared = session.shown_video, session.compared_video
        wanted = {
            "playing": False,
            "src": shown.src if shown else "",
            "times": list(shown.times) if shown else [],
            "fps": shown.fps if shown else 24.0,
            "compare_src": compared.src if compared else "",
            "compare_times": list(compared.times) if compared else [],
            "frame": session.attempt_frame,
        }
        # only what changed: a frame sent again would pull back a browser already stepping
        player.param.update({k: v for k, v in wanted.items() if getattr(player, k) != v})

    session.param.watch(sources, ["shown_video", "compared_video"])
    sources()
    player.blurred = session.compared_blurred
    session.param.watch(lambda e: setattr(player, "blurred", e.new), "compared_blurred")
    for name in ("compare_mode", "wipe"):
        player.param.update({name: getattr(session, name)})
        session.param.watch(lambda e: player.param.update({e.name: e.new}), name)
        player.param.watch(lambda e: session.param.update({e.name: e.new}), name)
    # the user's own keys step the grid: the player leaves them to it
    player.keys_taken = list(session.keys.values())
    session.param.watch(lambda e: setattr(player, "keys_taken", list(e.new.values())), "keys")
    session.param.watch(lambda e: setattr(player, "frame", e.new), "attempt_frame")
    player.param.watch(lambda e: setattr(session, "attempt_frame", e.new), "frame")


class ComparePlayerView(pn.viewable.Viewer):
    """Two chosen attempts (or two takes) in one player, side by side or as a wipe, with
    each one's verdict and the change between them beside it."""

    session = param.ClassSelector(class_=CompareSession)

    def __init__(self, **params):
        super().__init__(**params)
        session = self.session
        self.shown_select = chooser("Play", "compare-shown", session, "playable", "shown_attempt")
        self.compared_select = chooser(
            "Compare with", "compare-compared", session, "playable", "compared_attempt"
        )
        self.mode = pn.widgets.RadioButtonGroup.from_param(
            session.param.compare_mode, options=list(COMPARE_MODES), css_classes=["compare-mode"]
        )
        self.wipe = pn.widgets.FloatSlider.from_param(
            session.param.wipe, name="Wipe", step=0.01, css_classes=["compare-wipe"]
        )
        self.player = VideoPlayer(css_classes=["compare-player"], sizing_mode="stretch_width")
        link_player(session, self.player)
        self.verdicts = pn.pane.Markdown("", css_classes=["compare-verdicts"], width=320)
        self.heading = pn.pane.Markdown("", css_classes=["compare-heading"])
        session.param.watch(self._words, ["compared_lines", "change", "comparing"])
        self._layout = pn.Column(
            self.heading,
            pn.Row(self.shown_select, self.compared_select, self.mode, self.wipe),
            pn.Row(self.player, self.verdicts, sizing_mode="stretch_width"),
            visible=False,
        )
        session.param.watch(self._words, "attempts")

    def _words(self, *_: param.parameterized.Event) -> None:
        """The pair's verdicts and the change between them; hidden with nothing to play."""
        session = self.session
        blocks = ["\n\n".join(lines) for lines in session.compared_lines]
        if session.change:
            blocks.append(f"**Change:** {html.escape(session.change)}")
        self.verdicts.object = "\n\n---\n\n".join(blocks)
        attempts = session.comparing == "attempts"
        self.shown_select.visible = self.compared_select.visible = attempts
        self.heading.object = (
            f"### Attempts of segment {session.shown_segment} compared"
            if attempts
            else "### Two takes compared"
        )
        self._layout.visible = session.shown_video is not None

    def __panel__(self) -> pn.Column:
        return self._layout


class AttemptsView(pn.viewable.Viewer):
    """The take and segment choosers, Compare attempts, and the attempts' cards (the pair
    plays in the page's `ComparePlayerView`)."""

    session = param.ClassSelector(class_=CompareSession)

    def __init__(self, **params):
        super().__init__(**params)
        session = self.session
        self.take_select = chooser("Take", "compare-take", session, "takes", "take")
        self.segment_index = pn.widgets.IntInput.from_param(
            session.param.segment, name="Segment", width=100
        )
        show = pn.widgets.Button(label="Compare attempts", color="primary")
        show.on_click(lambda _: session.show_attempts())
        self.attempts = pn.Row(css_classes=["compare-attempts"])
        session.param.watch(self._draw, "attempts", onlychanged=False)
        self._layout = pn.Column(
            pn.pane.Markdown("### Attempts of a segment"),
            pn.Row(self.take_select, self.segment_index, show),
            self.attempts,
        )

    def _draw(self, _: param.parameterized.Event) -> None:
        cards = self.session.attempts
        if cards:
            self.attempts.objects = [attempt_card(card) for card in cards]
        elif cards is not None:
            message = f"Segment {self.session.shown_segment} has no attempts."
            self.attempts.objects = [pn.pane.Markdown(message)]

    def __panel__(self) -> pn.Column:
        return self._layout


class TakesView(pn.viewable.Viewer):
    """Two whole takes of a scene type chosen (two characters' takes, or two takes or
    branches of one cell) and Compare takes: they play in the page's `ComparePlayerView`."""

    session = param.ClassSelector(class_=CompareSession)

    def __init__(self, **params):
        super().__init__(**params)
        session = self.session
        self.scene_type_select = chooser(
            "Scene type", "compare-pair-scene-type", session, "scene_types", "scene_type"
        )
        self.first_select = chooser(
            "Play", "compare-first-take", session, "pair_takes", "first_take"
        )
        self.second_select = chooser(
            "Compare with", "compare-second-take", session, "pair_takes", "second_take"
        )
        show = pn.widgets.Button(label="Compare takes", color="primary")
        show.on_click(lambda _: session.compare_takes())
        self._layout = pn.Column(
            pn.pane.Markdown("### Two takes of a scene type"),
            pn.Row(self.scene_type_select, self.first_select, self.second_select, show),
        )

    def __panel__(self) -> pn.Column:
        return self._layout


def link_grid(session: CompareSession, grid: VideoGrid) -> None:
    """The browser grid shows the session's cells; the grid's frame kept the same both ways
    (the user's own keys step it through the session)."""
    session.param.watch(
        lambda e: grid.param.update(
            cells=[c.to_data() for c in e.new or []], frame=session.frame, playing=False
        ),
        "grid",
        onlychanged=False,
    )
    session.param.watch(lambda e: setattr(grid, "frame", e.new), "frame")
    grid.param.watch(lambda e: setattr(session, "frame", e.new), "frame")


class GridView(pn.viewable.Viewer):
    """The scene type chooser, Compare characters and the grid of each character's newest
    take playing in sync, or why there is none."""

    session = param.ClassSelector(class_=CompareSession)

    def __init__(self, **params):
        super().__init__(**params)
        session = self.session
        self.scene_type_select = chooser(
            "Scene type", "compare-scene-type", session, "scene_types", "scene_type"
        )
        show = pn.widgets.Button(label="Compare characters", color="primary")
        show.on_click(lambda _: session.show_grid())
        self.grid = VideoGrid(css_classes=["compare-grid"], sizing_mode="stretch_width")
        link_grid(session, self.grid)
        self.grid.visible = False
        self.empty = pn.pane.Markdown("No assembled takes to compare.", visible=False)
        session.param.watch(self._lay_out, "grid", onlychanged=False)
        self._layout = pn.Column(
            pn.pane.Markdown("### One scene type across characters"),
            pn.Row(self.scene_type_select, show),
            self.empty,
            self.grid,
            sizing_mode="stretch_width",
        )

    def _lay_out(self, _: param.parameterized.Event) -> None:
        """The grid when it has cells; why there is none otherwise."""
        cells = self.session.grid
        self.grid.visible = bool(cells)
        self.empty.visible = cells is not None and not cells

    def __panel__(self) -> pn.Column:
        return self._layout
