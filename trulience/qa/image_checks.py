"""The checks a decoded source image must pass to stand for a character, and its score.

Pure functions over a DecodedImage and the face boxes a detector found in its upright
pixels: resolution, one face of a usable size with room around it, sharpness and exposure.
Sharpness and exposure are measured inside the face when there is exactly one, because
that is what generation copies: a sharp face on a bokeh background or a well-lit face
against a white studio wall must pass. The measuring is trulience.qa.image_measures'.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from trulience.errors import ConfigError
from trulience.media.image_decode import DecodedImage
from trulience.qa.image_measures import Exposure, measure
from trulience.qa.settings import overrides

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
        values = overrides(
            settings.get(SETTINGS_SECTION, {}),
            cls,
            SETTINGS_SECTION,
            holds="thresholds",
            label="project setting ",
            unknown_as="project setting",
            integer_unit="pixels",
        )
        return cls(**values)


DEFAULT_THRESHOLDS = QAThresholds()


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
    sharpness, exposure = measure(image, box)
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
