"""The review app's picture: the take's proxy in the browser player (`VideoPlayer`, linked
to the session's `Player`), onion skin and zoom (PRD-37), the storyboard.

The browser plays and steps the proxy natively, frame accurate; while onion skin or zoom is
on, the server composes the frame on screen from the full-resolution take and shows it
under the player.
"""

import panel as pn
import param

from apps.images import png_data_url, png_file_data_url
from apps.review_player import AIDS, ZOOM_OFF, Aid, Player
from apps.review_views import wrapping
from apps.shortcuts import ShortcutKeys
from apps.video_player import TOOLS, VideoPlayer
from trulience.review.onion_skin import NEIGHBOURS
from trulience.review.zoom import FACTORS, REGIONS

# Shared by the state and the browser player, changed on either side.
BOTH_WAYS = ("playing", "rate", "loop", "in_point", "out_point", "tool", "drawing", "blurred")
# Set by the state only.
TO_BROWSER = (
    "src",
    "times",
    "packets",
    "fps",
    "has_audio",
    "markers",
    "overlays",
    "following",
    "compare_src",
    "compare_times",
    "compare_mode",
)


def _image(css_class: str, attributes: str, alt: str, source: str) -> str:
    return (
        f'<img class="{css_class}" {attributes}alt="{alt}" src="{source}" '
        'style="width: 100%; max-width: 640px; image-rendering: pixelated">'
    )


def link(player: Player, video: VideoPlayer) -> None:
    """Keep the browser player and the state in step: the frame on screen both ways."""

    def follow(source: param.Parameterized, target: param.Parameterized, names: dict) -> None:
        for name, other in names.items():
            source.param.watch(lambda e, other=other: setattr(target, other, e.new), name)

    follow(player, video, {"index": "frame", **{n: n for n in (*BOTH_WAYS, *TO_BROWSER)}})
    follow(video, player, {"frame": "index", **{n: n for n in BOTH_WAYS}})


class PlayerView(pn.viewable.Viewer):
    """The picture: the browser player, its drawing tool, onion skin and zoom (PRD-37),
    the storyboard."""

    player = param.ClassSelector(class_=Player)

    def __init__(self, player: Player, shortcuts: ShortcutKeys):
        super().__init__(player=player)
        self.shortcuts = shortcuts
        self.video = VideoPlayer(sizing_mode="stretch_width", css_classes=["review-player"])
        link(player, self.video)
        self.aid = pn.pane.HTML("", css_classes=["review-aid"], sizing_mode="stretch_width")
        self.zoomed = pn.pane.HTML("", css_classes=["review-zoom"], sizing_mode="stretch_width")
        self.storyboard = pn.pane.HTML(
            "", css_classes=["review-storyboard"], sizing_mode="stretch_width"
        )
        self.aids = self._visual_aids()
        # Drawing on the frame shown (PRD-70): the browser keeps the shapes as Drawing JSON.
        self.tool = pn.widgets.RadioButtonGroup(
            options=list(TOOLS), value="none", css_classes=["review-tool"]
        )
        self.tool.link(player, value="tool")
        player.param.watch(lambda e: setattr(self.tool, "value", e.new), "tool")
        player.param.watch(lambda _: self._show_aid(), "aid", onlychanged=False)
        player.param.watch(lambda _: self._storyboard(), "storyboard", onlychanged=False)

    def use_keys(self, taken: list[str]) -> None:
        """The keys the page's shortcuts own: the browser player leaves them alone."""
        self.video.keys_taken = list(taken)

    def _visual_aids(self) -> pn.FlexBox:
        """Onion skin and region zoom controls; each change re-composes the aid picture."""
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
        # advanced, behind "More": open or closed as the user last left it (apps/prefs.py)
        more = pn.widgets.Toggle.from_param(
            self.player.param.more, name="More", css_classes=["studio-more"]
        )
        aids = wrapping(*widgets)
        aids.visible = self.player.more
        self.player.param.watch(lambda e: setattr(aids, "visible", e.new), "more")
        return wrapping(more, aids)

    def _show_aid(self) -> None:
        """The server-composed frame on screen (onion skin) and its zoomed region."""
        aid: Aid | None = self.player.aid
        if aid is None:
            self.aid.object = self.zoomed.object = ""
            return
        index, onion = aid.index, ",".join(str(i) for i in aid.over)
        self.aid.object = _image(
            "review-aid-image",
            f'data-frame="{index}" data-onion="{onion}" ',
            f"frame {index}, composed",
            png_data_url(aid.picture),
        )
        self.zoomed.object = (
            ""
            if aid.zoomed is None
            else _image(
                "review-zoom-image",
                f'data-frame="{index}" data-region="{aid.region}" data-factor="{aid.factor}" ',
                f"frame {index}, {aid.region} ×{aid.factor}",
                png_data_url(aid.zoomed),
            )
        )

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
            self.video,
            self.tool,
            self.aids,
            self.aid,
            self.zoomed,
            self.storyboard,
            sizing_mode="stretch_width",
            styles={"flex": "3 1 480px", "min-width": "0"},
            css_classes=["review-viewer"],
        )
