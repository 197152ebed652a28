"""What the source image checks measure: the sharpness (variance of the Laplacian of the
luma) and the exposure (clipped shares and mean) of a decoded image, over the whole frame at
a fixed working size or inside a face box at a fixed face size.
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np

from trulience.media.image_decode import DecodedImage

# Sharpness and exposure are measured on the image scaled to this long side, so that the
# score of a framing does not depend on the file's resolution.
WORKING_LONG_SIDE = 1024

# Luma at or beyond these counts as clipped: detail there is lost, not just dark or bright.
SHADOW_CLIP = 2
HIGHLIGHT_CLIP = 253


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


def measure(
    image: DecodedImage, box: tuple[float, float, float, float] | None = None
) -> tuple[float, Exposure]:
    """Sharpness and exposure in one pass over the working luma (see measure_sharpness and
    measure_exposure)."""
    luma, scale = _working_luma(image)
    sharpness = (
        _face_sharpness(image, box) if box is not None else _laplacian_variance(luma, None, scale)
    )
    return sharpness, _exposure(_region(luma, box, scale))


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
