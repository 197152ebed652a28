"""The checks a decoded source image must pass to stand for a character, and its score.

Pure functions over a DecodedImage and the face boxes a detector found in its upright
pixels: resolution, one face of a usable size with room around it, sharpness and exposure.
Sharpness and exposure are measured inside the face when there is exactly one, because
that is what generation copies: a sharp face on a bokeh background or a well-lit face
against a white studio wall must pass.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

import cv2
import numpy as np

from trulience.errors import ConfigError
from trulience.media.image_decode import DecodedImage

# Sharpness and exposure are measured on the image scaled to this long side, so that the
# score of a framing does not depend on the file's resolution.
WORKING_LONG_SIDE = 1024

# Luma at or beyond these counts as clipped: detail there is lost, not just dark or bright.
SHADOW_CLIP = 2
HIGHLIGHT_CLIP = 253

SETTINGS_SECTION = "image_qa"


class FaceBox(Protocol):
    """A face found by the detector: `box` is (x, y, w, h) in pixels of the upright image."""

    @property
    def box(self) -> tuple[float, float, float, float]: ...

    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class QAThresholds:
    """Limits a source image must meet; a project may override any of them in its settings
    under "image_qa"."""

    min_short_side: int = 512
    # Measured inside the face, at a fixed face size of 160 px: scikit-image's astronaut 249
    # sharp (175 at 2x, 100 at 0.7x), 22 after a Gaussian blur of σ=1, 5 after σ=2, 3.1 after
    # σ=3; faces cropped from insightface's t1.jpg 102-108. 15 passes σ≤1 and fails σ≥2.
    min_sharpness: float = 15.0
    max_clipped_share: float = 0.05
    # Lenient on purpose: a well-exposed dark-skinned face can average below 80; crushed
    # shadows (the clipping check) are the stronger sign of underexposure.
    min_mean_luminance: float = 40.0
    max_mean_luminance: float = 220.0
    # A real detector (YuNet) finds the reference astronaut's face 90 px across.
    min_face_side: int = 80
    min_face_margin: float = 0.10

    def __post_init__(self) -> None:
        # Refuse values no image could sensibly be held to, however the thresholds were made.
        for key in ("min_short_side", "min_face_side"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{SETTINGS_SECTION}.{key} must be at least 1 pixel")
        for key in ("min_sharpness", "min_face_margin"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{SETTINGS_SECTION}.{key} must not be negative")
        if not 0 <= self.max_clipped_share <= 1:
            raise ConfigError(f"{SETTINGS_SECTION}.max_clipped_share must be between 0 and 1")
        if not 0 <= self.min_mean_luminance < self.max_mean_luminance <= 255:
            raise ConfigError(
                f"{SETTINGS_SECTION}.min_mean_luminance and max_mean_luminance must satisfy "
                "0 ≤ min < max ≤ 255"
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "QAThresholds":
        """Thresholds for a project: defaults overridden by `settings["image_qa"]`.

        Raises ConfigError naming the key for unknown keys, wrong types or impossible values."""
        overrides = settings.get(SETTINGS_SECTION, {})
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"project setting {SETTINGS_SECTION} must be an object of thresholds, "
                f"got {type(overrides).__name__}"
            )
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            named = ", ".join(f"{SETTINGS_SECTION}.{key}" for key in unknown)
            raise ConfigError(f"unknown project setting {named}; known: {', '.join(known)}")
        values = {key: _setting(key, value, known[key]) for key, value in overrides.items()}
        return cls(**values)


DEFAULT_THRESHOLDS = QAThresholds()


def _setting(key: str, value: Any, expected: Any) -> int | float:
    # bool is an int to Python, but `true` for a pixel count is a typo, not a threshold.
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"project setting {SETTINGS_SECTION}.{key} must be an integer (pixels), "
                f"got {type(value).__name__} {value!r}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(
            f"project setting {SETTINGS_SECTION}.{key} must be a number, "
            f"got {type(value).__name__} {value!r}"
        )
    return float(value)


@dataclass(frozen=True)
class CheckResult:
    """One check: what was measured (`value`) against which limit, and what it means."""

    name: str
    passed: bool
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Exposure:
    """Luma statistics of a region: shares of clipped pixels and the mean (0–255)."""

    shadow_share: float
    highlight_share: float
    mean: float

    @property
    def clipped_share(self) -> float:
        """Share of pixels clipped at either end."""
        return self.shadow_share + self.highlight_share


@dataclass(frozen=True)
class ImageQAResult:
    """The verdict on one source image: every check, whether all passed, and a score.

    `score` is in [0, 1]: images that pass take the upper half, ordered by sharpness,
    exposure and face size, so the highest score is the best choice of primary image."""

    passed: bool
    checks: tuple[CheckResult, ...]
    score: float
    region: str
    face_box: tuple[float, float, float, float] | None
    face_score: float | None
    thresholds: QAThresholds

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed, in the order they were run."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the catalog's `source_images.qa` jsonb."""
        return {
            "passed": self.passed,
            "score": self.score,
            "region": self.region,
            "face": None
            if self.face_box is None
            else {"box": list(self.face_box), "score": self.face_score},
            "checks": [c.to_dict() for c in self.checks],
            "thresholds": asdict(self.thresholds),
        }


def evaluate(
    image: DecodedImage, faces: Sequence[FaceBox], thresholds: QAThresholds = DEFAULT_THRESHOLDS
) -> ImageQAResult:
    """Run every check on a decoded source image and the faces found in its upright pixels."""
    face = faces[0] if len(faces) == 1 else None
    box = tuple(float(v) for v in face.box) if face is not None else None
    region = "face" if box is not None else "image"

    checks = [_resolution(image, thresholds), _face_count(len(faces))]
    if box is not None:
        checks += [_face_size(box, thresholds), _face_margin(image, box, thresholds)]
    luma, scale = _working_luma(image)
    sharpness = (
        _face_sharpness(image, box) if box is not None else _laplacian_variance(luma, None, scale)
    )
    exposure = _exposure(_region(luma, box, scale))
    checks += [
        _sharpness(sharpness, region, thresholds),
        _clipping(exposure, region, thresholds),
        _underexposure(exposure, region, thresholds),
        _overexposure(exposure, region, thresholds),
    ]
    passed = all(c.passed for c in checks)
    quality = _quality(sharpness, exposure, box, thresholds)
    return ImageQAResult(
        passed=passed,
        checks=tuple(checks),
        score=round((1 + quality) / 2 if passed else quality / 2, 4),
        region=region,
        face_box=box,
        face_score=float(face.score) if face is not None else None,
        thresholds=thresholds,
    )


def measure_sharpness(
    image: DecodedImage, box: tuple[float, float, float, float] | None = None
) -> float:
    """Variance of the Laplacian of the luma: inside `box` at a fixed face size if given,
    else over the whole frame at the working size."""
    if box is not None:
        return _face_sharpness(image, box)
    luma, scale = _working_luma(image)
    return _laplacian_variance(luma, None, scale)


def _face_sharpness(image: DecodedImage, box: tuple[float, float, float, float]) -> float:
    # Judge the face at one fixed size, whatever the photo's resolution: enlarging a small
    # face to a frame-wide working size would smear it and read as blur, shrinking a large
    # one would hide real blur.
    x, y, w, h = box
    left, top = max(0, math.floor(x)), max(0, math.floor(y))
    right, bottom = min(image.width, math.ceil(x + w)), min(image.height, math.ceil(y + h))
    luma = cv2.cvtColor(image.pixels[top:bottom, left:right], cv2.COLOR_RGB2GRAY)
    scale = FACE_WORKING_SIDE / max(luma.shape)
    size = (max(8, round(luma.shape[1] * scale)), max(8, round(luma.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(luma, size, interpolation=interpolation)
    return float(cv2.Laplacian(resized, cv2.CV_64F)[2:-2, 2:-2].var())


def measure_exposure(
    image: DecodedImage, box: tuple[float, float, float, float] | None = None
) -> Exposure:
    """Clipped shares and mean of the luma at the working size, inside `box` if given."""
    luma, scale = _working_luma(image)
    return _exposure(_region(luma, box, scale))


FACE_WORKING_SIDE = 160


def _laplacian_variance(
    luma: np.ndarray, box: tuple[float, float, float, float] | None, scale: float
) -> float:
    # Filter the whole frame, then crop: filtering the crop would add the crop's own border.
    return float(_region(cv2.Laplacian(luma, cv2.CV_64F), box, scale).var())


def _exposure(luma: np.ndarray) -> Exposure:
    return Exposure(
        shadow_share=float(np.count_nonzero(luma <= SHADOW_CLIP) / luma.size),
        highlight_share=float(np.count_nonzero(luma >= HIGHLIGHT_CLIP) / luma.size),
        mean=float(luma.mean()),
    )


def _working_luma(image: DecodedImage) -> tuple[np.ndarray, float]:
    luma = cv2.cvtColor(image.pixels, cv2.COLOR_RGB2GRAY)
    scale = WORKING_LONG_SIDE / max(image.width, image.height)
    if scale == 1:
        return luma, scale
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Area averaging when shrinking avoids aliasing that would read as detail; cubic when
    # enlarging keeps a sharp small image from looking as soft as a blurred one.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(luma, size, interpolation=interpolation), scale


def _region(
    values: np.ndarray, box: tuple[float, float, float, float] | None, scale: float
) -> np.ndarray:
    if box is None:
        return values
    x, y, w, h = (v * scale for v in box)
    height, width = values.shape[:2]
    left, top = max(0, math.floor(x)), max(0, math.floor(y))
    right, bottom = min(width, math.ceil(x + w)), min(height, math.ceil(y + h))
    # A box outside the frame is a detector fault the margin check reports; measure the
    # whole image rather than nothing.
    if right - left < 2 or bottom - top < 2:
        return values
    return values[top:bottom, left:right]


def _resolution(image: DecodedImage, t: QAThresholds) -> CheckResult:
    short = min(image.width, image.height)
    passed = short >= t.min_short_side
    message = (
        f"short side {short} px (minimum {t.min_short_side} px)"
        if passed
        else f"short side {short} px is below the {t.min_short_side} px minimum"
    )
    return CheckResult("resolution", passed, short, t.min_short_side, message)


def _face_count(count: int) -> CheckResult:
    if count == 1:
        message = "one face"
    elif count == 0:
        message = "no face"
    else:
        message = f"{count} faces found, expected 1"
    return CheckResult("face_count", count == 1, count, 1, message)


def _face_size(box: tuple[float, float, float, float], t: QAThresholds) -> CheckResult:
    short = min(box[2], box[3])
    passed = short >= t.min_face_side
    message = (
        f"face is {short:.0f} px across (minimum {t.min_face_side} px)"
        if passed
        else f"face is {short:.0f} px across, below the {t.min_face_side} px minimum"
    )
    return CheckResult("face_size", passed, round(short, 1), t.min_face_side, message)


def _face_margin(
    image: DecodedImage, box: tuple[float, float, float, float], t: QAThresholds
) -> CheckResult:
    x, y = box[0], box[1]
    # A degenerate box already fails face_size; keep the ratios finite.
    w, h = max(box[2], 1.0), max(box[3], 1.0)
    # Room to each edge as a share of the face's own size, so the rule holds at any scale.
    gaps = {
        "left": x / w,
        "top": y / h,
        "right": (image.width - x - w) / w,
        "bottom": (image.height - y - h) / h,
    }
    edge, margin = min(gaps.items(), key=lambda item: item[1])
    passed = margin >= t.min_face_margin
    if passed:
        message = f"face has room on every side ({margin:.0%} of its size at the {edge})"
    elif margin < 0:
        message = f"face is cut by the {edge} edge of the frame"
    else:
        message = (
            f"face is too close to the {edge} edge: {margin:.0%} of its size, "
            f"needs {t.min_face_margin:.0%}"
        )
    return CheckResult("face_margin", passed, round(margin, 4), t.min_face_margin, message)


def _sharpness(value: float, region: str, t: QAThresholds) -> CheckResult:
    passed = value >= t.min_sharpness
    message = (
        f"{region} sharpness {value:.1f} (minimum {t.min_sharpness:g})"
        if passed
        else f"{region} looks blurred: sharpness {value:.1f} is below {t.min_sharpness:g}"
    )
    return CheckResult("sharpness", passed, round(value, 2), t.min_sharpness, message)


def _clipping(exposure: Exposure, region: str, t: QAThresholds) -> CheckResult:
    share = exposure.clipped_share
    passed = share <= t.max_clipped_share
    detail = (
        f"{exposure.highlight_share:.1%} blown highlights, "
        f"{exposure.shadow_share:.1%} crushed shadows"
    )
    message = (
        f"{share:.1%} of {region} pixels clipped ({detail}; maximum {t.max_clipped_share:.0%})"
        if passed
        else f"{share:.1%} of {region} pixels are clipped ({detail}); "
        f"maximum {t.max_clipped_share:.0%}"
    )
    return CheckResult("clipping", passed, round(share, 4), t.max_clipped_share, message)


def _underexposure(exposure: Exposure, region: str, t: QAThresholds) -> CheckResult:
    passed = exposure.mean >= t.min_mean_luminance
    message = (
        f"{region} mean luminance {exposure.mean:.0f} (minimum {t.min_mean_luminance:g})"
        if passed
        else f"{region} is too dark: mean luminance {exposure.mean:.0f} is below "
        f"{t.min_mean_luminance:g}"
    )
    return CheckResult(
        "underexposure", passed, round(exposure.mean, 2), t.min_mean_luminance, message
    )


def _overexposure(exposure: Exposure, region: str, t: QAThresholds) -> CheckResult:
    passed = exposure.mean <= t.max_mean_luminance
    message = (
        f"{region} mean luminance {exposure.mean:.0f} (maximum {t.max_mean_luminance:g})"
        if passed
        else f"{region} is too bright: mean luminance {exposure.mean:.0f} is above "
        f"{t.max_mean_luminance:g}"
    )
    return CheckResult(
        "overexposure", passed, round(exposure.mean, 2), t.max_mean_luminance, message
    )


def _quality(
    sharpness: float,
    exposure: Exposure,
    box: tuple[float, float, float, float] | None,
    t: QAThresholds,
) -> float:
    """Quality in [0, 1]: weighted sharpness, exposure and face size, each in [0, 1]."""
    # Saturating, never flat: at the threshold 0.5, at ten times it 0.91.
    sharp = sharpness / (sharpness + t.min_sharpness) if t.min_sharpness > 0 else 1.0
    clip = 1 - min(1.0, exposure.clipped_share / t.max_clipped_share) if t.max_clipped_share else 1
    middle = (t.min_mean_luminance + t.max_mean_luminance) / 2
    half_range = (t.max_mean_luminance - t.min_mean_luminance) / 2
    bright = 1 - min(1.0, abs(exposure.mean - middle) / half_range)
    # A face four times the minimum is as large as generation can use.
    face = 0.0 if box is None else min(1.0, min(box[2], box[3]) / (4 * t.min_face_side))
    return 0.4 * sharp + 0.15 * clip + 0.15 * bright + 0.3 * face
