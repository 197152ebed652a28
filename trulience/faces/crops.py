"""Face-centred crops and padded frames of an image (PRD-21): pure image maths, used for a
character's variants at onboarding, a take's seed image in generation, and the tiles of a
face contact sheet."""

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

# In a crop, the face box fills this share of the frame height: a head-and-shoulders shot.
FACE_SHARE = 0.4


@dataclass(frozen=True, eq=False)
class Variant:
    kind: str  # crop | pad
    width: int
    height: int
    params: dict[str, Any]
    pixels: np.ndarray

    def png(self) -> bytes:
        out = io.BytesIO()
        Image.fromarray(self.pixels).save(out, format="PNG")
        return out.getvalue()


def face_crop(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    width: int,
    height: int,
    face_share: float = FACE_SHARE,
) -> Variant:
    """A window of the target aspect ratio centred on the face, kept inside the image, then
    resized to width x height."""
    image_h, image_w = image.shape[:2]
    x, y, w, h = box
    aspect = width / height
    window_h = h / face_share
    window_w = window_h * aspect
    scale = min(1.0, image_w / window_w, image_h / window_h)  # never reach outside the image
    window_w, window_h = window_w * scale, window_h * scale
    centre_x, centre_y = x + w / 2, y + h / 2 - 0.05 * window_h  # a little headroom
    left = min(max(centre_x - window_w / 2, 0.0), image_w - window_w)
    top = min(max(centre_y - window_h / 2, 0.0), image_h - window_h)
    region = (round(left), round(top), round(left + window_w), round(top + window_h))
    pixels = Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS, box=region)
    params = {
        "crop_box": list(region),
        "face_box": [round(v) for v in box],
        "face_share": round(h / window_h, 3),
    }
    return Variant("crop", width, height, params, np.asarray(pixels))


def padded(image: np.ndarray, width: int, height: int) -> Variant:
    """The whole image fitted inside width x height, the rest filled with its edge colour."""
    image_h, image_w = image.shape[:2]
    scale = min(width / image_w, height / image_h)
    fit_w, fit_h = max(1, round(image_w * scale)), max(1, round(image_h * scale))
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    fill = tuple(int(v) for v in np.median(edges, axis=0))
    canvas = Image.new("RGB", (width, height), fill)
    offset = ((width - fit_w) // 2, (height - fit_h) // 2)
    canvas.paste(Image.fromarray(image).resize((fit_w, fit_h), Image.Resampling.LANCZOS), offset)
    params = {"scale": round(scale, 4), "offset": list(offset), "fill": list(fill)}
    return Variant("pad", width, height, params, np.asarray(canvas))


def make_variants(
    image: np.ndarray, box: tuple[float, float, float, float], sizes: list[tuple[int, int]]
) -> list[Variant]:
    """A face crop and a padded frame at each width x height."""
    return [v for w, h in sizes for v in (face_crop(image, box, w, h), padded(image, w, h))]


def face_tile(frame: np.ndarray, box: tuple[float, float, float, float], size: int) -> Image.Image:
    """A square crop around a face box (with a margin), resized to `size`."""
    x, y, w, h = box
    side = max(w, h) * 1.4
    cx, cy = x + w / 2, y + h / 2
    region = (
        round(cx - side / 2),
        round(cy - side / 2),
        round(cx + side / 2),
        round(cy + side / 2),
    )
    return Image.fromarray(frame).crop(region).resize((size, size))
