"""SMPTE timecode of a take's frames: HH:MM:SS:FF, and drop-frame HH:MM:SS;FF at 29.97 and
59.94 fps (frame numbers 0-1 (0-3 at 59.94) are skipped at each minute but every tenth, so
the timecode keeps to the wall clock). Pure functions; the player's JavaScript prints the
same strings (tests/test_review_player.py compares them)."""

import re

from trulience.errors import TrulienceError

# Rates whose timecode may drop frames: 30000/1001 and 60000/1001 fps.
_DROP_RATES = (30000 / 1001, 60000 / 1001)
_PATTERN = re.compile(r"^(\d{2,}):(\d{2}):(\d{2})([:;])(\d{2})$")


class InvalidTimecode(TrulienceError):
    """A timecode, frame or rate that has no SMPTE timecode; says which and why."""


def nominal_rate(fps: float) -> int:
    """The whole frames per timecode second: 24 for 23.976, 30 for 29.97."""
    if not fps > 0:
        raise InvalidTimecode(f"frame rate {fps!r} must be positive")
    return max(1, round(fps))


def _dropped(fps: float, drop_frame: bool) -> int:
    """Frame numbers skipped each minute (0 without drop-frame)."""
    if not drop_frame:
        return 0
    if not any(abs(fps - rate) < 0.01 for rate in _DROP_RATES):
        raise InvalidTimecode(f"drop-frame timecode is for 29.97 or 59.94 fps, not {fps:g}")
    return nominal_rate(fps) // 15


def to_timecode(frame: int, fps: float, *, drop_frame: bool = False) -> str:
    """Frame `frame` (0 at 00:00:00:00) as SMPTE timecode at `fps`."""
    if frame < 0:
        raise InvalidTimecode(f"frame {frame} is before the first frame (0)")
    nominal, drop = nominal_rate(fps), _dropped(fps, drop_frame)
    if drop:
        per_ten_minutes = nominal * 600 - drop * 9
        per_minute = nominal * 60 - drop
        tens, rest = divmod(frame, per_ten_minutes)
        frame += drop * 9 * tens + (drop * ((rest - drop) // per_minute) if rest > drop else 0)
    seconds, ff = divmod(frame, nominal)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"


def from_timecode(timecode: str, fps: float, *, drop_frame: bool = False) -> int:
    """The frame at SMPTE `timecode` (`;` or `:` before the frames) at `fps`."""
    found = _PATTERN.match(timecode.strip())
    if found is None:
        raise InvalidTimecode(f"timecode {timecode!r} is not HH:MM:SS:FF")
    hh, mm, ss, ff = (int(found.group(i)) for i in (1, 2, 3, 5))
    nominal, drop = nominal_rate(fps), _dropped(fps, drop_frame)
    if mm > 59 or ss > 59 or ff >= nominal:
        raise InvalidTimecode(
            f"timecode {timecode!r}: minutes and seconds run to 59, frames to {nominal - 1}"
        )
    minutes = hh * 60 + mm
    if drop and ss == 0 and ff < drop and mm % 10 != 0:
        raise InvalidTimecode(
            f"timecode {timecode!r} does not exist in drop-frame: frames 00-{drop - 1:02d} "
            "are skipped at each minute but every tenth"
        )
    return (minutes * 60 + ss) * nominal + ff - drop * (minutes - minutes // 10)


def frame_label(frame: int, start_number: int = 0) -> int:
    """The number a frame is shown by: its index from `start_number` (0, or 1001...)."""
    return frame + start_number
