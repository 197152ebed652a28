"""A character's same-identity band (PRD-79): the centroid of its face embeddings, how
tightly its own faces gather around it, and the gate derived; and the mild augmentations
that calibrate the band.

Pure maths over embeddings and pixels: onboarding (trulience.ingest.identity) computes and
stores the band, segment QA (trulience.qa.video) and generation read it.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

# The character's own threshold sits this far below the 5th percentile of its images'
# similarity to their centroid: tight for characters whose photos agree, looser for ones
# photographed in many conditions, and never below the model's own threshold.
BAND_MARGIN = 0.15


@dataclass(frozen=True)
class IdentityBand:
    """How similar a character's own faces are to its centroid, and the gate derived."""

    samples: int
    same_min: float
    same_p05: float
    same_median: float
    threshold: float


def augmentations(image_rgb: np.ndarray) -> list[np.ndarray]:
    """Mild variations a camera, grade or encoder would make: used to calibrate the band."""
    image = Image.fromarray(image_rgb)
    width, height = image.size
    out = [
        np.asarray(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        np.asarray(ImageEnhance.Brightness(image).enhance(1.25)),
        np.asarray(ImageEnhance.Brightness(image).enhance(0.75)),
        np.asarray(image.rotate(6, resample=Image.Resampling.BILINEAR)),
        np.asarray(image.resize((max(width // 2, 1), max(height // 2, 1)))),
    ]
    jpeg = io.BytesIO()
    image.save(jpeg, format="JPEG", quality=45)
    out.append(np.asarray(Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB")))
    return out


def identity_band(
    embeddings: np.ndarray, model_threshold: float
) -> tuple[np.ndarray, IdentityBand]:
    """Centroid (unit length) of a character's embeddings and the band they span around it."""
    centroid = embeddings.mean(axis=0)
    centroid = centroid / np.linalg.norm(centroid)
    similarities = embeddings @ centroid
    p05 = float(np.percentile(similarities, 5))
    band = IdentityBand(
        samples=len(embeddings),
        same_min=float(similarities.min()),
        same_p05=p05,
        same_median=float(np.median(similarities)),
        threshold=float(min(max(model_threshold, p05 - BAND_MARGIN), 0.95)),
    )
    return centroid, band
