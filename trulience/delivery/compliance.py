"""Deliverable specs (PRD-102): check a video against a client's spec and list every miss."""

import math
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from trulience.errors import TrulienceError
from trulience.media.probe import probe

AUDIO_RULES = ("required", "forbidden", "any")


class InvalidDeliverySpec(TrulienceError):
    """A delivery spec with unknown fields or impossible values; lists every problem."""


@dataclass(frozen=True)
class Violation:
    """One way a file misses its spec."""

    field: str
    expected: str
    actual: str
    message: str


@dataclass(frozen=True)
class DeliverySpec:
    """What a deliverable must be; a field left None is not checked."""

    codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: Fraction | None = None
    duration_s: float | None = None
    duration_tolerance_s: float = 0.0
    min_bitrate: int | None = None  # bits per second
    max_bitrate: int | None = None
    pix_fmt: str | None = None
    audio: str = "any"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DeliverySpec":
        """A spec from plain values (fps may be "30000/1001" or 29.97); InvalidDeliverySpec
        lists every bad field at once."""
        problems = []
        known = {f.name for f in fields(cls)}
        problems += [f"unknown field {k!r}" for k in data if k not in known]
        values: dict[str, Any] = {}
        for name in ("codec", "pix_fmt"):
            if data.get(name) is not None:
                if isinstance(data[name], str) and data[name]:
                    values[name] = data[name].lower()
                else:
                    problems.append(f"{name} must be a non-empty string, got {data[name]!r}")
        for name in ("width", "height", "min_bitrate", "max_bitrate"):
            value = data.get(name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    problems.append(f"{name} must be a positive integer, got {value!r}")
                else:
                    values[name] = value
        for name in ("duration_s", "duration_tolerance_s"):
            value = data.get(name)
            if value is not None:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or value < 0:
                    problems.append(f"{name} must be a number >= 0, got {value!r}")
                else:
                    values[name] = float(value)
        if data.get("fps") is not None:
            try:
                fps = Fraction(str(data["fps"]))
                if fps <= 0:
                    raise ValueError
                values["fps"] = fps
            except (ValueError, ZeroDivisionError):
                problems.append(f"fps must be a positive number or ratio, got {data['fps']!r}")
        if "audio" in data:
            if data["audio"] in AUDIO_RULES:
                values["audio"] = data["audio"]
            else:
                problems.append(f"audio must be one of {', '.join(AUDIO_RULES)}")
        low, high = values.get("min_bitrate"), values.get("max_bitrate")
        if low is not None and high is not None and low > high:
            problems.append(f"min_bitrate {low} is above max_bitrate {high}")
        if problems:
            raise InvalidDeliverySpec("invalid delivery spec: " + "; ".join(problems))
        return cls(**values)


def check_compliance(path: str | Path, spec: DeliverySpec) -> list[Violation]:
    """Every way the video at `path` misses `spec` (empty when it complies)."""
    info = probe(path)
    found: list[Violation] = []

    def miss(field: str, expected: object, actual: object, message: str) -> None:
        found.append(Violation(field, str(expected), str(actual), message))

    if spec.codec is not None and info.codec != spec.codec:
        miss("codec", spec.codec, info.codec, f"codec is {info.codec}, spec wants {spec.codec}")
    if spec.width is not None and info.width != spec.width:
        miss("width", spec.width, info.width, f"width is {info.width}, spec wants {spec.width}")
    if spec.height is not None and info.height != spec.height:
        miss(
            "height", spec.height, info.height, f"height is {info.height}, spec wants {spec.height}"
        )
    if spec.fps is not None and info.fps != spec.fps:
        miss("fps", spec.fps, info.fps, f"frame rate is {info.fps}, spec wants {spec.fps}")
    if spec.pix_fmt is not None and info.pix_fmt != spec.pix_fmt:
        miss("pix_fmt", spec.pix_fmt, info.pix_fmt, f"pixel format is {info.pix_fmt}")
    if spec.duration_s is not None:
        off = abs(info.duration_s - spec.duration_s)
        # A hair of slack for float rounding of frames / fps.
        if off > spec.duration_tolerance_s + 1e-9:
            miss(
                "duration_s",
                f"{spec.duration_s} ± {spec.duration_tolerance_s}",
                round(info.duration_s, 6),
                f"duration is {info.duration_s:.3f} s, {off:.3f} s from the spec's "
                f"{spec.duration_s} s (tolerance {spec.duration_tolerance_s} s)",
            )
    if spec.min_bitrate is not None or spec.max_bitrate is not None:
        rate = info.bit_rate or round(Path(path).stat().st_size * 8 / info.duration_s)
        if spec.min_bitrate is not None and rate < spec.min_bitrate:
            miss("bitrate", f">= {spec.min_bitrate}", rate, f"bitrate {rate} b/s is too low")
        if spec.max_bitrate is not None and rate > spec.max_bitrate:
            miss("bitrate", f"<= {spec.max_bitrate}", rate, f"bitrate {rate} b/s is too high")
    if spec.audio == "required" and not info.has_audio:
        miss("audio", "required", "none", "the file has no audio stream")
    if spec.audio == "forbidden" and info.has_audio:
        miss("audio", "forbidden", "present", "the file has an audio stream")
    return found
