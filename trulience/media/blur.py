"""A blurred copy of a picture (PRD-82): sensitive media is shown blurred until revealed,
and the blur is made on the server so the sharp pixels never reach a browser that hides
them."""

import io

from PIL import Image, ImageFilter

# A fraction of the picture's height: strong enough that a face cannot be recognised.
BLUR_FRACTION = 0.08


def blurred_png(png: bytes, fraction: float = BLUR_FRACTION) -> bytes:
    """`png` blurred by a Gaussian of radius `fraction` × its height (at least 4 px), as PNG."""
    with Image.open(io.BytesIO(png)) as picture:
        picture = picture.convert("RGB")
        radius = max(4.0, picture.height * fraction)
        out = io.BytesIO()
        picture.filter(ImageFilter.GaussianBlur(radius)).save(out, format="PNG")
    return out.getvalue()
