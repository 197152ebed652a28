"""A grid of real videos playing in sync (PRD-36, PRD-68): one cell per take, each a <video>
of the take's proxy played natively by the browser, and one transport for all of them (play
and pause, steps of ±1 and ±10 frames, a shared scrubber, speed).

The longest cell is the clock: while playing, every other cell is nudged (its playback rate)
when it drifts more than half a frame from the clock, or sought when it is far off. Each
cell names the frame on screen from its own frame times (`proxy.frames.json`, from PyAV) and
the times requestVideoFrameCallback reports, never currentTime × fps. A cell shorter than
the grid holds its last frame, marked "ended". Sensitive cells are blurred until revealed,
as in the player (apps/video_player.py). The cells stack to one column at 768 px and below.
Its JavaScript is `apps/video_grid.js`; `frame`, `playing` and `rate` are synced both ways.
"""

from pathlib import Path
from typing import ClassVar

import panel as pn
import param

_CSS = """
:host { display: block; width: 100%; }
.vg-box { display: flex; flex-direction: column; gap: 6px; width: 100%; background: #111;
  color: #eee; padding: 6px; box-sizing: border-box; border-radius: 4px; font: 13px sans-serif; }
.vg-cells { display: grid; gap: 6px; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
@media (max-width: 768px) { .vg-cells { grid-template-columns: 1fr; } }
.vg-cell { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.vg-stage { position: relative; width: 100%; aspect-ratio: 16 / 9; max-height: 70vh;
  background: #000; overflow: hidden; }
.vg-video { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.vg-veil { position: absolute; inset: 0; display: none; align-items: center;
  justify-content: center; gap: 8px; flex-direction: column; }
.vg-blurred .vg-video { filter: blur(28px); }
.vg-blurred .vg-veil { display: flex; }
.vg-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.vg-name { font-weight: bold; }
.vg-frame { font-variant-numeric: tabular-nums; }
.vg-ended { color: #fbbf24; }
.vg-ended[hidden] { display: none; }
.vg-verdict { color: #cbd5e1; }
.vg-scrubber { position: relative; height: 14px; background: #2b2f36; border-radius: 3px;
  cursor: pointer; touch-action: none; }
.vg-progress { position: absolute; top: 0; bottom: 0; left: 0; background: #2563eb;
  border-radius: 3px; pointer-events: none; }
.vg-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; }
.vg-button { background: #2b2f36; color: #eee; border: 1px solid #444; border-radius: 3px;
  padding: 3px 8px; min-width: 32px; cursor: pointer; }
.vg-label { font-variant-numeric: tabular-nums; min-width: 9em; padding: 0 6px; }
"""


class VideoGrid(pn.custom.JSComponent):
    """Takes side by side in sync; `frame` is the grid's frame (every cell shows it, or its
    own last frame when it is shorter)."""

    cells = param.List(
        [],
        item_type=dict,
        doc='One dict per cell: {"src", "times", "fps", "name", "take", "verdict", "blurred"}.',
    )
    frame = param.Integer(0, bounds=(0, None), doc="The grid's frame (either side sets it).")
    playing = param.Boolean(False)
    rate = param.Number(1.0, bounds=(0.25, 2))

    _esm = Path(__file__).parent / "video_grid.js"
    _stylesheets: ClassVar[list[str]] = [_CSS]
