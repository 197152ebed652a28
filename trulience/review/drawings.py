"""Drawn notes (PRD-70): a reviewer's pen strokes, arrows, boxes, ellipses and words on one
frame, as vector data and as a flattened PNG over that frame.

The vector form is the player's Drawing JSON (version 1): coordinates are fractions of the
frame (0..1, x to the right, y down), stroke widths and text sizes fractions of the frame's
width, so one drawing fits the proxy, the full-size take and any screen. `parse_drawing`
checks everything the browser sends (it is user input) and names the shape, the field and
why when it refuses; `flatten` draws it over the decoded frame, anti-aliased by drawing at
a multiple of the frame's size and scaling down.
"""

import io
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from trulience.errors import TrulienceError

VERSION = 1
KINDS = ("pen", "arrow", "rect", "ellipse", "text")
# Limits a reviewer's drawing never reaches and a forged one cannot exceed: a few dozen
# shapes is a busy drawing; a pen stroke sampled at 60 Hz for a minute is 3600 points.
MAX_SHAPES = 200
MAX_POINTS = 4000
MAX_TEXT = 500
MAX_STROKE = 0.1  # of the frame's width
MAX_TEXT_SIZE = 0.5
MAX_SIDE = 16384  # pixels, the frame size the drawing was made on
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Supersampling for anti-aliased strokes: at most this many pixels along the longer side.
_SUPERSAMPLED_SIDE = 4096
_MAX_FACTOR = 4
_ARROW_HEAD_ANGLE = math.radians(28)

Point = tuple[float, float]


class InvalidDrawing(TrulienceError):
    """A drawing that cannot be kept: names the field (`shapes[2].points[5]`) and why."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"drawing {field}: {reason}")


@dataclass(frozen=True, slots=True)
class Pen:
    """A freehand stroke through `points`."""

    points: tuple[Point, ...]
    color: str
    width: float
    kind: str = "pen"


@dataclass(frozen=True, slots=True)
class Arrow:
    """A straight line from `start` with its head at `end`."""

    start: Point
    end: Point
    color: str
    width: float
    kind: str = "arrow"


@dataclass(frozen=True, slots=True)
class Rect:
    """The outline of the box with corners `start` and `end`."""

    start: Point
    end: Point
    color: str
    width: float
    kind: str = "rect"


@dataclass(frozen=True, slots=True)
class Ellipse:
    """The outline of the ellipse inside the box with corners `start` and `end`."""

    start: Point
    end: Point
    color: str
    width: float
    kind: str = "ellipse"


@dataclass(frozen=True, slots=True)
class Text:
    """Words whose top-left corner is at `at`, `size` tall (a fraction of the width)."""

    at: Point
    text: str
    color: str
    size: float
    kind: str = "text"


Shape = Pen | Arrow | Rect | Ellipse | Text


@dataclass(frozen=True, slots=True)
class Drawing:
    """What a reviewer drew on frame `frame` of a take shown `width` × `height` pixels."""

    frame: int
    width: int
    height: int
    shapes: tuple[Shape, ...]
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        """The Drawing JSON (interface 4): what the player and the catalog keep."""
        return {
            "version": self.version,
            "frame": self.frame,
            "width": self.width,
            "height": self.height,
            "shapes": [_shape_json(s) for s in self.shapes],
        }


def _shape_json(shape: Shape) -> dict[str, Any]:
    if isinstance(shape, Pen):
        points = [list(p) for p in shape.points]
        return {"kind": "pen", "points": points, "color": shape.color, "width": shape.width}
    if isinstance(shape, Text):
        return {
            "kind": "text",
            "at": list(shape.at),
            "text": shape.text,
            "color": shape.color,
            "size": shape.size,
        }
    return {
        "kind": shape.kind,
        "from": list(shape.start),
        "to": list(shape.end),
        "color": shape.color,
        "width": shape.width,
    }


# -- parsing ---------------------------------------------------------------------------------


def parse_drawing(data: Any) -> Drawing:
    """The drawing `data` (Drawing JSON, as a dict or its JSON text) describes; InvalidDrawing
    naming the field and why when anything is missing, unknown or out of range."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise InvalidDrawing("(whole)", f"is not JSON ({error})") from error
    _keys(data, "(whole)", {"version", "frame", "width", "height", "shapes"})
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise InvalidDrawing("version", f"is {data.get('version')!r}; only version 1 is known")
    frame = _integer(data, "frame", 0, None)
    width = _integer(data, "width", 1, MAX_SIDE)
    height = _integer(data, "height", 1, MAX_SIDE)
    shapes = data.get("shapes")
    if not isinstance(shapes, list):
        raise InvalidDrawing("shapes", f"must be a list of shapes, not {_kind_of(shapes)}")
    if not shapes:
        raise InvalidDrawing("shapes", "is empty: a drawing has at least one shape")
    if len(shapes) > MAX_SHAPES:
        raise InvalidDrawing("shapes", f"has {len(shapes)} shapes; at most {MAX_SHAPES}")
    parsed = tuple(_shape(shape, f"shapes[{i}]") for i, shape in enumerate(shapes))
    return Drawing(frame, width, height, parsed)


def _shape(data: Any, where: str) -> Shape:
    if not isinstance(data, dict):
        raise InvalidDrawing(where, f"must be an object, not {_kind_of(data)}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidDrawing(f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if kind == "pen":
        _keys(data, where, {"kind", "points", "color", "width"})
        return Pen(_points(data, where), _color(data, where), _fraction(data, where, "width"))
    if kind == "text":
        _keys(data, where, {"kind", "at", "text", "color", "size"})
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidDrawing(f"{where}.text", "must be words, not empty")
        if len(text) > MAX_TEXT:
            raise InvalidDrawing(f"{where}.text", f"is {len(text)} characters; at most {MAX_TEXT}")
        at = _point(data.get("at"), f"{where}.at")
        size = _fraction(data, where, "size", MAX_TEXT_SIZE)
        return Text(at, text, _color(data, where), size)
    _keys(data, where, {"kind", "from", "to", "color", "width"})
    start = _point(data.get("from"), f"{where}.from")
    end = _point(data.get("to"), f"{where}.to")
    shape = {"arrow": Arrow, "rect": Rect, "ellipse": Ellipse}[kind]
    return shape(start, end, _color(data, where), _fraction(data, where, "width"))


def _keys(data: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise InvalidDrawing(where, f"must be an object, not {_kind_of(data)}")
    missing = sorted(allowed - data.keys())
    if missing:
        prefix = "" if where == "(whole)" else f"{where}."
        raise InvalidDrawing(f"{prefix}{missing[0]}", "is missing")
    unknown = sorted(str(k) for k in data.keys() - allowed)
    if unknown:
        prefix = "" if where == "(whole)" else f"{where}."
        raise InvalidDrawing(f"{prefix}{unknown[0]}", f"is not a field (known: {sorted(allowed)})")


def _points(data: dict, where: str) -> tuple[Point, ...]:
    points = data.get("points")
    if not isinstance(points, list):
        raise InvalidDrawing(f"{where}.points", f"must be a list of [x, y], not {_kind_of(points)}")
    if not points:
        raise InvalidDrawing(f"{where}.points", "is empty: a pen stroke has at least one point")
    if len(points) > MAX_POINTS:
        raise InvalidDrawing(f"{where}.points", f"has {len(points)} points; at most {MAX_POINTS}")
    return tuple(_point(p, f"{where}.points[{i}]") for i, p in enumerate(points))


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidDrawing(where, f"must be [x, y], not {value!r:.60}")
    return (_unit(value[0], where, "x"), _unit(value[1], where, "y"))


def _unit(value: Any, where: str, axis: str) -> float:
    if not _is_number(value):
        raise InvalidDrawing(where, f"{axis} must be a number, not {_kind_of(value)}")
    if not 0.0 <= value <= 1.0:
        raise InvalidDrawing(where, f"{axis} {value!r} is outside 0..1 (a fraction of the frame)")
    return float(value)


def _fraction(data: dict, where: str, field: str, largest: float = MAX_STROKE) -> float:
    value = data.get(field)
    if not _is_number(value) or not 0.0 < value <= largest:
        raise InvalidDrawing(
            f"{where}.{field}",
            f"must be a fraction of the frame's width above 0 and at most {largest}, "
            f"not {value!r:.40}",
        )
    return float(value)


def _color(data: dict, where: str) -> str:
    value = data.get("color")
    if not isinstance(value, str) or not COLOR.match(value):
        raise InvalidDrawing(f"{where}.color", f"must be #rrggbb, not {value!r:.40}")
    return value.lower()


def _integer(data: dict, field: str, lowest: int, highest: int | None) -> int:
    value = data.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidDrawing(field, f"must be a whole number, not {_kind_of(value)}")
    if value < lowest or (highest is not None and value > highest):
        bound = f"{lowest}..{highest}" if highest is not None else f"at least {lowest}"
        raise InvalidDrawing(field, f"{value} is out of range ({bound})")
    return value


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _kind_of(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


# -- flattening ------------------------------------------------------------------------------


def flatten(frame_rgb: np.ndarray, drawing: Drawing | dict[str, Any]) -> bytes:
    """A PNG of the frame (H × W × 3 uint8 RGB) with the drawing over it, anti-aliased."""
    if isinstance(drawing, dict):
        drawing = parse_drawing(drawing)
    if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
        raise InvalidDrawing("frame", f"must be H × W × 3 uint8 RGB, not {frame_rgb.shape}")
    height, width = frame_rgb.shape[:2]
    factor = max(1, min(_MAX_FACTOR, _SUPERSAMPLED_SIDE // max(width, height)))
    layer = Image.new("RGBA", (width * factor, height * factor), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for shape in drawing.shapes:
        _draw(pen, shape, width * factor, height * factor)
    if factor > 1:
        layer = layer.resize((width, height), Image.Resampling.LANCZOS)
    picture = Image.fromarray(frame_rgb, "RGB").convert("RGBA")
    picture.alpha_composite(layer)
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _draw(pen: ImageDraw.ImageDraw, shape: Shape, width: int, height: int) -> None:
    """One shape on the (supersampled) layer of `width` × `height` pixels."""

    def at(point: Point) -> tuple[float, float]:
        return (point[0] * (width - 1), point[1] * (height - 1))

    if isinstance(shape, Text):
        size = max(1.0, shape.size * width)
        pen.text(at(shape.at), shape.text, fill=shape.color, font=_font(round(size)))
        return
    stroke = max(1, round(shape.width * width))
    if isinstance(shape, Pen):
        points = [at(p) for p in shape.points]
        if len(points) > 1:
            pen.line(points, fill=shape.color, width=stroke, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps (and a dot for a single point)
            r = stroke / 2
            pen.ellipse((x - r, y - r, x + r, y + r), fill=shape.color)
        return
    (x0, y0), (x1, y1) = at(shape.start), at(shape.end)
    if isinstance(shape, Arrow):
        _arrow(pen, (x0, y0), (x1, y1), shape.color, stroke, width)
        return
    box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if isinstance(shape, Rect):
        pen.rectangle(box, outline=shape.color, width=stroke)
    else:
        pen.ellipse(box, outline=shape.color, width=stroke)


def _arrow(
    pen: ImageDraw.ImageDraw, start: Point, end: Point, color: str, stroke: int, width: int
) -> None:
    """A shaft and a filled head at `end`, the head long enough to see on a thin stroke."""
    length = math.dist(start, end)
    head = min(max(4.0 * stroke, 0.015 * width), length) if length else 0.0
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    # the shaft stops inside the head, so its square end does not poke through the point
    inset = head * math.cos(_ARROW_HEAD_ANGLE) * 0.6
    shaft_end = (end[0] - inset * math.cos(angle), end[1] - inset * math.sin(angle))
    pen.line([start, shaft_end], fill=color, width=stroke)
    if head:
        left = angle + math.pi - _ARROW_HEAD_ANGLE
        right = angle + math.pi + _ARROW_HEAD_ANGLE
        pen.polygon(
            [
                end,
                (end[0] + head * math.cos(left), end[1] + head * math.sin(left)),
                (end[0] + head * math.cos(right), end[1] + head * math.sin(right)),
            ],
            fill=color,
        )


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own scalable font (bundled, so it is the same on every machine)."""
    return ImageFont.load_default(size=size)
