"""Safe decoding of a source image file into an upright 8-bit RGB array.

Whatever a file may hold that the QA checks should not have to know about (EXIF rotation,
16-bit samples, alpha, palettes, CMYK, several frames) is normalised here and each change
is recorded as a note. Files that are not images, are truncated, or declare more pixels than
we allow are refused; the size is checked from the header, before any pixel is decoded.
"""

import io
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from trulience.errors import ConfigError, FileProblem
from trulience.local_files import NotARegularFile, open_regular

if TYPE_CHECKING:
    from trulience.storage import Storage

DEFAULT_MAX_PIXELS = 50_000_000

# What cameras, phones and editors produce. Pillow opens many more formats (EPS even runs
# Ghostscript); each extra parser is attack surface for files uploaded by anyone.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "AVIF", "GIF", "TIFF", "BMP")

# Mid grey counts neither as clipped highlight nor as crushed shadow in the exposure check,
# and reads as a plain backdrop to a generator.
ALPHA_BACKGROUND = (128, 128, 128)

# Errors Pillow raises for damaged data, besides OSError (which covers truncation).
_DAMAGED_DATA = (SyntaxError, ValueError, EOFError, struct.error)

_ORIENTATIONS = {
    2: "mirrored left to right",
    3: "rotated 180°",
    4: "mirrored top to bottom",
    5: "transposed",
    6: "rotated 90° clockwise",
    7: "transversed",
    8: "rotated 90° counter-clockwise",
}

_MODE_NAMES = {
    "1": "1-bit black and white",
    "L": "grayscale",
    "P": "palette",
    "CMYK": "CMYK (without colour management)",
}

_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


class InvalidSourceImage(FileProblem):
    """A file offered as a character's source image cannot be used; says which file and why."""

    @property
    def file(self) -> str:
        return self.path


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """An upright RGB image as a read-only uint8 array (H, W, 3), with what the file held
    before normalisation and a note for each change made."""

    name: str
    pixels: np.ndarray
    format: str
    original_mode: str
    original_width: int
    original_height: int
    notes: tuple[str, ...]

    @property
    def width(self) -> int:
        """Width of the upright pixels (differs from the file's when EXIF rotated it)."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Height of the upright pixels (differs from the file's when EXIF rotated it)."""
        return int(self.pixels.shape[0])

    def info(self) -> "ImageInfo":
        """What is known about the image without its pixels (what an import keeps)."""
        return ImageInfo(
            name=self.name,
            format=self.format,
            original_mode=self.original_mode,
            original_width=self.original_width,
            original_height=self.original_height,
            width=self.width,
            height=self.height,
            notes=self.notes,
        )


@dataclass(frozen=True)
class ImageInfo:
    """A checked image's description without its pixels: what the catalog records. A
    folder of photos is checked one at a time and keeps only these, so memory stays flat."""

    name: str
    format: str
    original_mode: str
    original_width: int
    original_height: int
    width: int
    height: int
    notes: tuple[str, ...]


def decode_image(
    source: Path | bytes, *, name: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Decode a source image file (a path or its bytes) into an upright RGB uint8 array.

    Raises InvalidSourceImage naming the file (`name`, else the path's name) and the reason."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Pillow would pad a truncated file with grey and we could no longer refuse it.
        raise ConfigError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is enabled in this process; source image QA "
            "needs it off to refuse truncated files"
        )
    in_memory = isinstance(source, (bytes, bytearray, memoryview))
    label = name or ("source image" if in_memory else Path(source).name)
    with _open_file(source, label) as handle, _open_image(handle, label, max_pixels) as image:
        return _normalise(image, label)


def check_image(
    source: Path | bytes, *, name: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageInfo:
    """Decode an image file fully (so truncation and corruption are found) and keep only
    its description; the pixels are released before this returns."""
    return decode_image(source, name=name, max_pixels=max_pixels).info()


class StoredImage(Protocol):
    """A stored source image as the catalog records it: where it is and what it was called."""

    @property
    def uri(self) -> str: ...

    @property
    def original_name(self) -> str: ...


def load_image(storage: "Storage", image: StoredImage) -> DecodedImage:
    """Decode a stored source image (orientation applied, RGB)."""
    return decode_image(storage.read_bytes(storage.key_of(image.uri)), name=image.original_name)


def _open_file(source: Path | bytes, label: str) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise InvalidSourceImage(label, "file is empty (0 bytes)")
        return io.BytesIO(source)
    try:
        # Never a link, a pipe (opening one blocks forever) or a device: regular files only.
        handle = open_regular(source, label)
    except NotARegularFile as exc:
        raise InvalidSourceImage(label, exc.reason) from exc
    if os.fstat(handle.fileno()).st_size == 0:
        handle.close()
        raise InvalidSourceImage(label, "file is empty (0 bytes)")
    return handle


def _open_image(handle: BinaryIO, label: str, max_pixels: int) -> ImageFile.ImageFile:
    """Identify the file and read its header only; refuse it if it declares too many pixels."""
    formats = _accepted_formats()
    try:
        image = Image.open(handle, formats=formats)
    except UnidentifiedImageError as exc:
        accepted = ", ".join(f for f in formats if f != "MPO")
        raise InvalidSourceImage(
            label, f"not an image (cannot identify format; accepted: {accepted})"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise InvalidSourceImage(label, _bomb_reason(exc, max_pixels)) from exc
    except (OSError, *_DAMAGED_DATA) as exc:
        raise InvalidSourceImage(label, f"image header is unreadable ({exc})") from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise InvalidSourceImage(
            label,
            f"{width}×{height} = {_megapixels(width * height)} exceeds the "
            f"{_megapixels(max_pixels)} limit",
        )
    return image


def _accepted_formats() -> tuple[str, ...]:
    # Optional plugins (AVIF) are missing from some Pillow builds; naming one that is not
    # registered makes Image.open fail instead of skipping it.
    Image.init()
    return tuple(f for f in ACCEPTED_FORMATS if f in Image.OPEN)


def _bomb_reason(exc: Image.DecompressionBombError, max_pixels: int) -> str:
    # Pillow's own guard fires inside Image.open, before we can see the size, and reports
    # only the pixel count.
    found = _BOMB_PIXELS.search(str(exc))
    if found is None:
        return f"image is too large to decode safely ({exc})"
    pixels = int(found.group(1))
    if pixels > max_pixels:
        limit = f"the {_megapixels(max_pixels)} limit"
    else:
        limit = f"Pillow's process-wide limit of {_megapixels(2 * (Image.MAX_IMAGE_PIXELS or 0))}"
    return f"{_megapixels(pixels)} exceeds {limit} (refused from its header, before decoding)"


def _megapixels(pixels: int) -> str:
    if pixels < 100_000:
        return f"{pixels / 1_000_000:.2g} MP"
    return f"{round(pixels / 1_000_000, 1):g} MP"


def _normalise(image: ImageFile.ImageFile, label: str) -> DecodedImage:
    notes: list[str] = []
    file_format = image.format or "unknown"
    original_mode = image.mode
    original_width, original_height = image.size
    # The tile list, the only record of 16-bit RGB samples, is gone once pixels are loaded.
    sixteen_bit = _has_16_bit_samples(image)
    _load_first_frame(image, label, notes)

    upright = _apply_exif_orientation(image, notes)
    eight_bit = _to_8_bit(upright, label, notes, sixteen_bit)
    opaque = _flatten_alpha(eight_bit, notes)
    rgb = _to_rgb(opaque, label, notes)

    pixels = np.array(rgb, dtype=np.uint8)
    pixels.flags.writeable = False
    return DecodedImage(
        name=label,
        pixels=pixels,
        format=file_format,
        original_mode=original_mode,
        original_width=original_width,
        original_height=original_height,
        notes=tuple(notes),
    )


def _has_16_bit_samples(image: ImageFile.ImageFile) -> bool:
    # Pillow decodes 16-bit RGB(A) PNG and TIFF straight into 8-bit modes (keeping the high
    # byte, which scales rather than clips); only the raw mode says what the file held.
    for tile in image.tile:
        args = tile.args
        rawmode = args if isinstance(args, str) else (args[0] if args else "")
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _load_first_frame(image: ImageFile.ImageFile, label: str, notes: list[str]) -> None:
    try:
        # Animated GIF/WebP/APNG, multi-page TIFF and MPO: the first frame is the picture a
        # producer sees as the thumbnail, and it is the only one we can decode within limits.
        if getattr(image, "is_animated", False):
            image.seek(0)
            notes.append(f"{image.format} holds several frames; used the first")
        image.load()
    except Image.DecompressionBombError as exc:
        raise InvalidSourceImage(label, f"image is too large to decode safely ({exc})") from exc
    except OSError as exc:
        if "truncated" in str(exc):
            raise InvalidSourceImage(label, "image is truncated") from exc
        raise InvalidSourceImage(label, f"image data is corrupt ({exc})") from exc
    except _DAMAGED_DATA as exc:
        raise InvalidSourceImage(label, f"image data is corrupt ({exc})") from exc


def _apply_exif_orientation(image: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, *_DAMAGED_DATA):
        notes.append("EXIF data is unreadable; orientation not applied")
        return image
    if orientation not in _ORIENTATIONS:
        return image
    notes.append(f"EXIF orientation {orientation} applied ({_ORIENTATIONS[orientation]})")
    return ImageOps.exif_transpose(image)


def _to_8_bit(image: Image.Image, label: str, notes: list[str], sixteen_bit: bool) -> Image.Image:
    if image.mode.startswith("I;16") or image.mode == "I":
        # Pillow's convert("L") clips at 255, which turns a 16-bit photo nearly white.
        # Mode "I" has no declared depth; it is what Pillow makes of 16-bit grayscale files.
        samples = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
        notes.append("16-bit grayscale scaled to 8-bit")
        return Image.fromarray(((samples * 255 + 32767) // 65535).astype(np.uint8))
    if image.mode == "F":
        raise InvalidSourceImage(label, "32-bit floating-point images are not accepted")
    if sixteen_bit:
        notes.append("16-bit channels scaled to 8-bit")
    return image


def _flatten_alpha(image: Image.Image, notes: list[str]) -> Image.Image:
    if not image.has_transparency_data:
        return image
    rgba = image.convert("RGBA")
    if rgba.getextrema()[3][0] == 255:
        notes.append("alpha channel is fully opaque; dropped")
        return rgba.convert("RGB")
    notes.append(f"transparent areas composited on neutral grey {ALPHA_BACKGROUND}")
    background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_rgb(image: Image.Image, label: str, notes: list[str]) -> Image.Image:
    if image.mode == "RGB":
        return image
    try:
        rgb = image.convert("RGB")
    except ValueError as exc:
        raise InvalidSourceImage(
            label, f"colour mode {image.mode} cannot be converted to RGB"
        ) from exc
    notes.append(f"{_MODE_NAMES.get(image.mode, image.mode)} converted to RGB")
    return rgb
