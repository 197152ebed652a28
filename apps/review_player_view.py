"""The review app's picture: the frame on screen, stepping and playback, onion skin and
zoom (PRD-37), the storyboard; a Panel view of the session's `Player`.

Frames are decoded on the server by index, never by seeking a browser <video> to a time;
the view shows the lossless PNG of the frame the player composed.
"""

import panel as pn
import param

from apps.images import png_data_url, png_file_data_url
from apps.review_player import AIDS, ZOOM_OFF, Frame, Player
from apps.review_views import wrapping
from apps.shortcuts import ShortcutKeys
from trulience.review.onion_skin import NEIGHBOURS
from trulience.review.zoom import FACTORS, REGIONS

# The player's size on a wide screen; it shrinks with a narrow one (PRD-55).
PLAYER_WIDTH = 384


def _image(css_class: str, attributes: str, alt: str, source: str) -> str:
    return (
        f'<img class="{css_class}" {attributes}alt="{alt}" src="{source}" '
        f'style="width: {PLAYER_WIDTH}px; max-width: 100%; image-rendering: pixelated">'
    )


class PlayerView(pn.viewable.Viewer):
    """The picture: the frame on screen, its number, the jog slider, stepping and playback,
    onion skin and zoom (PRD-37), and the take's storyboard."""

    player = param.ClassSelector(class_=Player)

    def __init__(self, player: Player, shortcuts: ShortcutKeys):
        super().__init__(player=player)
        self.shortcuts = shortcuts
        self._timer: pn.io.PeriodicCallback | None = None
        self.frame = pn.pane.HTML("", css_classes=["review-frame"], sizing_mode="stretch_width")
        self.zoomed = pn.pane.HTML("", css_classes=["review-zoom"], sizing_mode="stretch_width")
        self.frame_label = pn.pane.Markdown("", css_classes=["frame-label"])
        self.storyboard = pn.pane.HTML(
            "", css_classes=["review-storyboard"], sizing_mode="stretch_width"
        )
        # The jog slider is the frame index itself: moving it shows that frame (decoded on the
        # server like every other), and stepping or playing moves it.
        self.jog = pn.widgets.EditableIntSlider(
            label="Frame",
            start=0,
            end=1,
            fixed_start=0,
            fixed_end=1,
            value=0,
            sizing_mode="stretch_width",
            max_width=PLAYER_WIDTH,
            css_classes=["review-jog"],
        )
        self.jog.param.watch(lambda event: player.go_to(event.new), "value")
        self.play_button = shortcuts.button("Play", "play", "primary")
        self.steps = wrapping(
            shortcuts.button("−1", "back"), shortcuts.button("+1", "forward"), self.play_button
        )
        self.aids = self._visual_aids()
        player.param.watch(lambda _: self._follow(), "frame", onlychanged=False)
        player.param.watch(lambda _: self._play(), "playing")
        player.param.watch(lambda _: self._storyboard(), "storyboard", onlychanged=False)

    def _visual_aids(self) -> pn.FlexBox:
        """Onion skin and region zoom controls; each change re-composes the frame."""
        widgets = (
            pn.widgets.Select(
                label="Onion skin",
                options=list(NEIGHBOURS),
                value="off",
                width=110,
                css_classes=["review-onion"],
            ),
            pn.widgets.IntSlider(
                label="Opacity %",
                start=0,
                end=100,
                step=5,
                value=50,
                width=140,
                css_classes=["review-onion-opacity"],
            ),
            pn.widgets.Select(
                label="Zoom",
                options=[ZOOM_OFF, *REGIONS],
                value=ZOOM_OFF,
                width=120,
                css_classes=["review-zoom-region"],
            ),
            pn.widgets.Select(
                label="×",
                options={f"{f}×": f for f in FACTORS},
                value=FACTORS[0],
                width=70,
                css_classes=["review-zoom-factor"],
            ),
        )
        self.onion, self.opacity, self.zoom_region, self.zoom_factor = widgets
        for aid, widget in zip(AIDS, widgets, strict=True):
            widget.param.watch(lambda e, aid=aid: setattr(self.player, aid, e.new), "value")
        return wrapping(*widgets)

    def _follow(self) -> None:
        """Show the frame on screen: its picture, zoomed region, number and jog position."""
        frame: Frame | None = self.player.frame
        if frame is None:
            self.frame.object = self.frame_label.object = self.zoomed.object = ""
            return
        if frame.picture is not None:
            index, onion = frame.index, ",".join(str(i) for i in frame.over)
            self.frame.object = _image(
                "review-frame-image",
                f'data-frame="{index}" data-onion="{onion}" ',
                f"frame {index}",
                png_data_url(frame.picture),
            )
            self.zoomed.object = (
                ""
                if frame.zoomed is None
                else _image(
                    "review-zoom-image",
                    f'data-frame="{index}" data-region="{frame.region}" '
                    f'data-factor="{frame.factor}" ',
                    f"frame {index}, {frame.region} ×{frame.factor}",
                    png_data_url(frame.zoomed),
                )
            )
        self.frame_label.object = f"frame {frame.index} / {frame.total}"
        last = max(frame.total - 1, 1)  # a slider needs an end past its start
        # go_to() sees the index already shown and does nothing
        self.jog.param.update(end=last, fixed_end=last, value=frame.index)

    def _play(self) -> None:
        """Advance the frame index on the server every 1/fps s while playing."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.player.playing:
            self._timer = pn.state.add_periodic_callback(
                self.player.advance, period=self.player.period_ms
            )
        self.shortcuts.relabel("play", "Pause" if self.player.playing else "Play")

    def _storyboard(self) -> None:
        data = self.player.storyboard
        self.storyboard.object = (
            ""
            if data is None
            else '<img class="review-storyboard-image" alt="storyboard" '
            f'src="{png_file_data_url(data)}">'
        )

    def __panel__(self) -> pn.Column:
        return pn.Column(
            self.frame,
            self.frame_label,
            self.jog,
            self.steps,
            self.aids,
            self.zoomed,
            self.storyboard,
            sizing_mode="stretch_width",
            max_width=PLAYER_WIDTH + 20,
            styles={"flex": f"1 1 {PLAYER_WIDTH // 2}px"},
            css_classes=["review-viewer"],
        )
