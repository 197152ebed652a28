"""Region-of-interest zoom (PRD-37): a part of the full-resolution decoded frame, enlarged
so a reviewer can judge eyes, hands or an edge without the browser's own scaling.

Enlarging repeats each decoded pixel into a factor × factor block (nearest neighbour):
what the reviewer sees is the frame's own pixels, nothing interpolated into them.
"""

from dataclasses import dataclass

import numpy as np

from trulience.catalog.errors import InvalidValue

REGIONS = ("centre", "top-left", "top-right", "bottom-left", "bottom-right")
FACTORS = (2, 3, 4)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of a frame in pixels: rows [top, top + height), columns [left, left + width)."""

    top: int
    left: int
    height: int
    width: int


def region_box(height: int, width: int, region: str, factor: int) -> Box:
    """The part of a `height` × `width` frame that `region` at `factor` × shows: 1/factor of
    each side, in that corner, or in the middle for `centre`."""
    if region not in REGIONS:
        raise InvalidValue("zoom", "region", region, f"must be one of {', '.join(REGIONS)}")
    if factor not in FACTORS:
        raise InvalidValue("zoom", "factor", factor, f"must be one of {FACTORS}")
    crop_h, crop_w = max(height // factor, 1), max(width // factor, 1)
    vertical, _, horizontal = region.partition("-")
    if region == "centre":
        return Box((height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w)
    top = 0 if vertical == "top" else height - crop_h
    left = 0 if horizontal == "left" else width - crop_w
    return Box(top, left, crop_h, crop_w)


def zoom(frame: np.ndarray, region: str, factor: int) -> np.ndarray:
    """`region` of `frame` enlarged `factor` times, each pixel a factor × factor block."""
    box = region_box(frame.shape[0], frame.shape[1], region, factor)
    crop = frame[box.top : box.top + box.height, box.left : box.left + box.width]
    return np.repeat(np.repeat(crop, factor, axis=0), factor, axis=1)
