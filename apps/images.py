"""Frames and stored pictures as what a browser shows: lossless PNG, inline as data: URLs."""

import base64
import io

import numpy as np
from PIL import Image


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB uint8 frame as lossless PNG bytes (what the browser shows must be exact)."""
    buffer = io.BytesIO()
    Image.fromarray(frame, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(frame: np.ndarray) -> str:
    """A frame as a data: URL for an <img> (no file is written, no URL to guess)."""
    return png_file_data_url(png_bytes(frame))


def png_file_data_url(data: bytes) -> str:
    """PNG file bytes (such as a stored storyboard) as a data: URL for an <img>."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
