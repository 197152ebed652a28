"""Two videos compared frame by frame (PRD-65): SSIM (Wang et al. 2004, on luma, an 11 x 11
Gaussian window of sigma 1.5) and PSNR (on RGB, capped at 100 dB for identical frames), so
a workflow's re-run of a golden take can be held to thresholds."""

import math
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import cv2
import numpy as np

from trulience.media.frames import read_frames

PSNR_CAP_DB = 100.0  # identical frames: PSNR is infinite; stored and shown as this
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two RGB uint8 frames of one size (1.0: identical)."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)

    def blur(v: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(v, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    score = ((2 * mx * my + _C1) * (2 * cxy + _C2)) / ((mx * mx + my * my + _C1) * (vx + vy + _C2))
    return float(score.mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two RGB uint8 frames in dB (PSNR_CAP_DB if identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0:
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, 10 * math.log10(255.0**2 / mse))


@dataclass(frozen=True)
class FrameComparison:
    """Per-frame SSIM and PSNR of the frames both videos have, and each one's frame count."""

    ssim: tuple[float, ...]
    psnr_db: tuple[float, ...]
    reference_frames: int
    candidate_frames: int
    size_mismatch: str | None = None

    @property
    def mean_ssim(self) -> float | None:
        return float(np.mean(self.ssim)) if self.ssim else None

    @property
    def min_ssim(self) -> float | None:
        return min(self.ssim) if self.ssim else None

    @property
    def mean_psnr_db(self) -> float | None:
        return float(np.mean(self.psnr_db)) if self.psnr_db else None

    @property
    def min_psnr_db(self) -> float | None:
        return min(self.psnr_db) if self.psnr_db else None


def compare_videos(reference: str | Path, candidate: str | Path) -> FrameComparison:
    """Frame i of `candidate` against frame i of `reference`, decoding each once; frames
    only one of them has are counted, not compared."""
    scores: list[float] = []
    ratios: list[float] = []
    counts = [0, 0]
    mismatch = None
    for ref, cand in zip_longest(read_frames(reference), read_frames(candidate)):
        counts[0] += ref is not None
        counts[1] += cand is not None
        if ref is None or cand is None or mismatch:
            continue
        if ref.shape != cand.shape:
            mismatch = f"{cand.shape[1]}x{cand.shape[0]}, reference {ref.shape[1]}x{ref.shape[0]}"
            continue
        scores.append(ssim(ref, cand))
        ratios.append(psnr(ref, cand))
    return FrameComparison(tuple(scores), tuple(ratios), counts[0], counts[1], mismatch)
