"""The review player component: the take's proxy played natively by the browser, frame
accurate (frames named from the stream's real timestamps and requestVideoFrameCallback,
never currentTime × fps), with stepping (while paused, from frames decoded in the page
with WebCodecs when the proxy's packet index is given), shuttle, speed, loop, in/out
points, timecode, a scrubber of segments, seams and notes, cinema mode, sound, a drawing
layer and a blur for sensitive media, and a compare mode: a second video (`compare_src`)
following the first frame for frame, side by side or as a wipe. Its JavaScript is
`apps/video_player.js`; its parameters are synced both ways with the browser (interface 3
of the review issue)."""

from pathlib import Path
from typing import ClassVar

import panel as pn
import param

TOOLS = ("none", "pen", "arrow", "rect", "ellipse", "text")
MARKER_KINDS = ("seam", "segment", "note")
COMPARE_MODES = ("side", "wipe")

_CSS = """
:host { display: block; width: 100%; }
.vp-box { display: flex; flex-direction: column; gap: 4px; width: 100%; background: #111;
  color: #eee; padding: 4px; box-sizing: border-box; border-radius: 4px; }
.vp-box [hidden] { display: none !important; }
.vp-box:fullscreen { justify-content: center; padding: 12px; }
.vp-stage { position: relative; width: 100%; margin: 0 auto; overflow: hidden;
  background: #000; aspect-ratio: 16 / 9; }
.vp-box:fullscreen .vp-stage { width: min(100%, calc((100vh - 90px) * var(--vp-aspect, 1.78))); }
.vp-video { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.vp-still { position: absolute; inset: 0; width: 100%; height: 100%; display: block;
  object-fit: contain; }
.vp-ink { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.vp-ink.vp-drawing { pointer-events: auto; cursor: crosshair; }
.vp-veil { position: absolute; inset: 0; display: none; align-items: center;
  justify-content: center; gap: 12px; flex-direction: column; }
.vp-blurred .vp-video, .vp-blurred .vp-still { filter: blur(28px); }
.vp-blurred .vp-veil { display: flex; }
.vp-scrubber { width: 100%; height: 28px; cursor: pointer; touch-action: none; }
.vp-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; font: 13px sans-serif; }
.vp-bar.vp-following .vp-button, .vp-bar.vp-following input, .vp-bar.vp-following select {
  pointer-events: none; opacity: 0.5; }
.vp-button { background: #2b2f36; color: #eee; border: 1px solid #444; border-radius: 3px;
  padding: 3px 8px; min-width: 32px; cursor: pointer; }
.vp-button.vp-on { background: #2563eb; }
.vp-label { font-variant-numeric: tabular-nums; min-width: 9em; padding: 0 6px; }
.vp-timecode { font-family: monospace; padding: 0 6px; }
.vp-goto { width: 11em; }
.vp-message { color: #fca5a5; }
.vp-stage.vp-side .vp-video, .vp-stage.vp-side .vp-still, .vp-stage.vp-side .vp-ink {
  width: 50%; }
.vp-stage.vp-side .vp-compare { left: 50%; }
.vp-divider { display: none; position: absolute; top: 0; bottom: 0; width: 4px;
  margin-left: -2px; background: #f8fafc; cursor: ew-resize; z-index: 3; touch-action: none; }
.vp-stage.vp-wipe .vp-divider { display: block; }
.vp-text-field { position: absolute; z-index: 2; font-size: 14px; }
"""


class VideoPlayer(pn.custom.JSComponent):
    """A take's proxy in the browser, frame accurate; `frame` is the frame on screen."""

    src = param.String("", doc="The proxy's URL (same origin, Range requests).")
    times = param.List([], item_type=float, doc="Each frame's presentation time, seconds.")
    packets = param.Dict(
        None,
        allow_None=True,
        doc="The proxy's packet index (`Packets.to_data()`): steps decode in the page.",
    )
    fps = param.Number(24.0, bounds=(0, None))
    frame = param.Integer(0, bounds=(0, None), doc="The frame on screen (either side sets it).")
    playing = param.Boolean(False)
    rate = param.Number(1.0, bounds=(0.25, 2))
    loop = param.Boolean(False)
    in_point = param.Integer(None, allow_None=True, bounds=(0, None))
    out_point = param.Integer(None, allow_None=True, bounds=(0, None))
    start_number = param.Integer(0, bounds=(0, None), doc="The first frame's number: 0, 1001...")
    drop_frame = param.Boolean(False, doc="Drop-frame timecode (29.97 and 59.94 fps).")
    markers = param.List([], item_type=dict, doc='{"frame", "kind", "label"} on the scrubber.')
    overlays = param.List([], item_type=dict, doc='{"frame", "drawing"} shown at that frame.')
    tool = param.Selector(objects=list(TOOLS), default="none")
    color = param.String("#ff3b30")
    drawing = param.Dict(None, allow_None=True, doc="The Drawing JSON drawn on the frame shown.")
    blurred = param.Boolean(False, doc="Sensitive media hidden until the user reveals it.")
    presenter = param.Boolean(True, doc="Whether this session leads a review room.")
    following = param.Boolean(False, doc="A read-only follower of the presenter.")
    has_audio = param.Boolean(False, doc="Whether the proxy has sound (the mute toggle shows).")
    muted = param.Boolean(True, doc="Sound off (browsers only autoplay muted).")
    compare_src = param.String("", doc="The compared video's URL ('' = no compare).")
    compare_times = param.List([], item_type=float, doc="The compared video's frame times.")
    compare_mode = param.Selector(objects=list(COMPARE_MODES), default="side")
    wipe = param.Number(0.5, bounds=(0, 1), doc="Where the wipe's divider is, 0..1 of the width.")
    keys_taken = param.List([], item_type=str, doc="Keys the page's own shortcuts handle.")

    _esm = Path(__file__).parent / "video_player.js"
    _stylesheets: ClassVar[list[str]] = [_CSS]
