"""Source image QA: safe decoding of real files written here, and the checks on the result.

The reference portrait is scikit-image's astronaut; its face box is what OpenCV's YuNet
detector reports for it (x=178, y=62, w=90, h=114), checked by drawing it on the image.
"""

import io
import json
import struct
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageFile
from skimage.filters import gaussian

from tests.ingest_files import png_chunks
from trulience.errors import ConfigError, TrulienceError
from trulience.media.image_decode import DecodedImage, InvalidSourceImage, decode_image
from trulience.qa.image_checks import QAThresholds, evaluate
from trulience.qa.image_measures import measure_exposure, measure_sharpness

ASTRONAUT = Path(skimage.data.__file__).parent / "astronaut.png"
ASTRONAUT_FACE = (178, 62, 90, 114)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]
    score: float = 0.93


def encoded(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def decoded(pixels: np.ndarray, name: str = "test.png") -> DecodedImage:
    return decode_image(encoded(Image.fromarray(pixels)), name=name)


def blurred(pixels: np.ndarray, sigma: float) -> np.ndarray:
    smooth = gaussian(pixels, sigma=sigma, channel_axis=-1, preserve_range=True)
    return smooth.round().astype(np.uint8)


def failed(result) -> list[str]:
    return [c.name for c in result.failures]


@pytest.fixture(scope="module")
def astronaut() -> DecodedImage:
    return decode_image(ASTRONAUT)


# -- refusals -------------------------------------------------------------------------------


def test_truncated_jpeg_is_refused_as_truncated(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    data = encoded(Image.fromarray(noise), "JPEG", quality=90)
    path = tmp_path / "ava.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidSourceImage) as refused:
        decode_image(path)
    assert str(refused.value) == "ava.jpg: image is truncated"
    assert isinstance(refused.value, TrulienceError)


def test_text_file_named_png_is_refused_as_not_an_image(tmp_path):
    path = tmp_path / "ava.png"
    path.write_text("name: Ava\nmood: cheerful\n")
    with pytest.raises(InvalidSourceImage, match=r"^ava\.png: not an image \(cannot identify"):
        decode_image(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "ava.png"
    path.write_bytes(b"")
    with pytest.raises(InvalidSourceImage, match=r"^ava\.png: file is empty \(0 bytes\)$"):
        decode_image(path)
    with pytest.raises(InvalidSourceImage, match=r"^upload\.png: file is empty"):
        decode_image(b"", name="upload.png")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(InvalidSourceImage, match=r"^gone\.png: no such file$"):
        decode_image(tmp_path / "gone.png")


def test_png_with_damaged_pixel_data_is_refused_as_corrupt(tmp_path):
    good = png_chunks(4, 4, 8, 2, b"".join(b"\x00" + bytes(12) for _ in range(4)))
    at = good.index(b"IDAT") + 4
    path = tmp_path / "ava.png"
    path.write_bytes(good[:at] + b"\xff" * 8 + good[at + 8 :])
    with pytest.raises(InvalidSourceImage, match=r"^ava\.png: image (data is corrupt|is trunc)"):
        decode_image(path)


def _decode_measuring_allocations(path: Path) -> tuple[InvalidSourceImage, int, int]:
    """Decode a file that must be refused; return the error, the peak of Python-visible
    allocations and how many images Pillow's own allocator created meanwhile."""
    images_before = Image.core.get_stats()["new_count"]
    tracemalloc.start()
    try:
        with pytest.raises(InvalidSourceImage) as refused:
            decode_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return refused.value, peak, Image.core.get_stats()["new_count"] - images_before


def test_decompression_bomb_is_refused_from_its_header_without_allocating(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_chunks(20_000, 20_000, 8, 2, b"\x00" * 60_001))
    assert path.stat().st_size < 1_000
    error, peak, images_made = _decode_measuring_allocations(path)
    assert str(error).startswith("bomb.png: 400 MP exceeds the 50 MP limit")
    # tracemalloc sees numpy and Python; Pillow's pixel memory shows in its own counter.
    assert peak < 20_000_000
    assert images_made == 0


def test_image_over_our_limit_but_under_pillows_guard_is_refused_from_its_header(tmp_path):
    # 64 MP passes Pillow's own guard (89 MP); only our header check stands in the way.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_chunks(8_000, 8_000, 8, 2, b"\x00" * 24_001))
    error, peak, images_made = _decode_measuring_allocations(path)
    assert str(error) == "bomb.png: 8000×8000 = 64 MP exceeds the 50 MP limit"
    assert peak < 20_000_000
    assert images_made == 0


def test_pixel_limit_is_the_callers_to_choose():
    data = encoded(Image.new("RGB", (100, 100)))
    with pytest.raises(InvalidSourceImage, match=r"100×100 = 0\.01 MP exceeds the 0\.005 MP limit"):
        decode_image(data, name="small.png", max_pixels=5_000)
    assert decode_image(data, name="small.png", max_pixels=10_000).pixels.shape == (100, 100, 3)


def test_decoding_refuses_to_run_when_pillow_would_pad_truncated_files(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ConfigError, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(encoded(Image.new("RGB", (8, 8))), name="ava.png")


# -- normalisation --------------------------------------------------------------------------


def test_cmyk_jpeg_decodes_to_rgb():
    cmyk = Image.new("CMYK", (64, 32), (0, 255, 255, 0))  # red
    cmyk.paste((0, 0, 0, 128), (32, 0, 64, 32))  # half black: mid grey
    image = decode_image(encoded(cmyk, "JPEG", quality=95), name="print.jpg")
    assert (image.format, image.original_mode) == ("JPEG", "CMYK")
    assert image.pixels.dtype == np.uint8 and image.pixels.shape == (32, 64, 3)
    assert np.allclose(image.pixels[16, 8], (255, 0, 0), atol=8)
    assert np.allclose(image.pixels[16, 56], (127, 127, 127), atol=8)
    assert "CMYK (without colour management) converted to RGB" in image.notes


def test_16_bit_grayscale_png_is_scaled_to_8_bit_not_clipped():
    samples = np.array([[65535, 32896, 1000, 0]], dtype=np.uint16)
    image = decode_image(encoded(Image.fromarray(samples)), name="scan.png")
    assert image.original_mode == "I;16"
    # Clipping would turn 32896 and 1000 into 255.
    assert image.pixels[0, :, 0].tolist() == [255, 128, 4, 0]
    assert (image.pixels[..., 0] == image.pixels[..., 2]).all()
    assert "16-bit grayscale scaled to 8-bit" in image.notes


def test_16_bit_rgb_png_is_scaled_to_8_bit():
    row = b"\x00" + struct.pack(">6H", 65535, 32896, 0, 0, 16448, 65535)
    image = decode_image(png_chunks(2, 1, 16, 2, row), name="raw.png")
    assert image.pixels[0].tolist() == [[255, 128, 0], [0, 64, 255]]
    assert "16-bit channels scaled to 8-bit" in image.notes


def test_rgba_png_is_composited_on_neutral_grey():
    rgba = Image.new("RGBA", (30, 10), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (10, 0, 20, 10))  # fully transparent blue
    rgba.paste((255, 255, 255, 128), (20, 0, 30, 10))  # half-transparent white
    image = decode_image(encoded(rgba), name="cutout.png")
    assert image.original_mode == "RGBA"
    assert image.pixels[5, 5].tolist() == [255, 0, 0]
    assert image.pixels[5, 15].tolist() == [128, 128, 128]
    assert np.allclose(image.pixels[5, 25], (191, 191, 191), atol=2)
    assert any("composited on neutral grey" in note for note in image.notes)


def test_palette_png_decodes_to_rgb_and_its_transparent_colour_to_grey():
    palette = Image.new("P", (20, 10), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0, 0, 0] * 254)
    palette.paste(1, (10, 0, 20, 10))
    plain = decode_image(encoded(palette), name="logo.png")
    assert plain.pixels[5, 5].tolist() == [255, 0, 0]
    assert plain.pixels[5, 15].tolist() == [0, 255, 0]
    assert "palette converted to RGB" in plain.notes

    see_through = decode_image(encoded(palette, transparency=1), name="logo.png")
    assert see_through.pixels[5, 5].tolist() == [255, 0, 0]
    assert see_through.pixels[5, 15].tolist() == [128, 128, 128]


def test_grayscale_png_decodes_to_rgb():
    image = decode_image(encoded(Image.new("L", (4, 4), 77)), name="bw.png")
    assert image.pixels[0, 0].tolist() == [77, 77, 77]
    assert "grayscale converted to RGB" in image.notes


def test_sideways_portrait_is_turned_upright_by_its_exif_orientation():
    # Stored landscape 128×64 in quadrants; orientation 6 means "rotate 90° clockwise".
    stored = Image.new("RGB", (128, 64))
    for box, colour in [
        ((0, 0, 64, 32), (255, 0, 0)),  # top left: red
        ((64, 0, 128, 32), (0, 255, 0)),  # top right: green
        ((0, 32, 64, 64), (0, 0, 255)),  # bottom left: blue
        ((64, 32, 128, 64), (255, 255, 255)),  # bottom right: white
    ]:
        stored.paste(colour, box)
    exif = Image.Exif()
    exif[0x0112] = 6
    image = decode_image(encoded(stored, "JPEG", quality=95, exif=exif), name="phone.jpg")

    assert (image.original_width, image.original_height) == (128, 64)
    assert (image.width, image.height) == (64, 128)
    centres = {"top left": (32, 16), "top right": (32, 48), "bottom left": (96, 16)}
    expected = {"top left": (0, 0, 255), "top right": (255, 0, 0), "bottom left": (255,) * 3}
    for where, (row, col) in centres.items():
        assert np.allclose(image.pixels[row, col], expected[where], atol=10), where
    assert np.allclose(image.pixels[96, 48], (0, 255, 0), atol=10)
    assert "EXIF orientation 6 applied (rotated 90° clockwise)" in image.notes


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16), (0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = decode_image(data, name="wave.gif")
    assert image.pixels[8, 8].tolist() == [255, 0, 0]
    assert "GIF holds several frames; used the first" in image.notes


def test_decoded_pixels_are_read_only(astronaut):
    assert astronaut.notes == ()
    with pytest.raises(ValueError):
        astronaut.pixels[0, 0] = 0


# -- checks ---------------------------------------------------------------------------------


def test_astronaut_with_its_face_passes_every_check(astronaut):
    result = evaluate(astronaut, [Face(ASTRONAUT_FACE)], QAThresholds())
    assert result.passed, [c.message for c in result.failures]
    assert [c.name for c in result.checks] == [
        "resolution",
        "face_count",
        "face_size",
        "face_margin",
        "sharpness",
        "clipping",
        "underexposure",
        "overexposure",
    ]
    assert result.region == "face"
    assert 0.5 <= result.score <= 1
    stored = json.loads(json.dumps(result.to_dict()))
    assert stored["passed"] is True
    assert stored["face"] == {"box": [178, 62, 90, 114], "score": 0.93}
    assert stored["thresholds"]["min_short_side"] == 512


def test_blurred_astronaut_fails_sharpness(astronaut):
    result = evaluate(decoded(blurred(astronaut.pixels, 3)), [Face(ASTRONAUT_FACE)])
    assert failed(result) == ["sharpness"]
    assert "face looks blurred" in result.failures[0].message
    assert result.score < 0.5


def test_sharp_face_on_a_blurred_background_passes(astronaut):
    bokeh = blurred(astronaut.pixels, 6)
    x, y, w, h = ASTRONAUT_FACE
    bokeh[y : y + h, x : x + w] = astronaut.pixels[y : y + h, x : x + w]
    image = decoded(bokeh)
    assert measure_sharpness(image) < QAThresholds().min_sharpness
    assert evaluate(image, [Face(ASTRONAUT_FACE)]).passed


def test_well_lit_face_against_a_white_wall_passes(astronaut):
    studio = np.full_like(astronaut.pixels, 255)
    x, y, w, h = ASTRONAUT_FACE
    studio[y : y + h, x : x + w] = astronaut.pixels[y : y + h, x : x + w]
    image = decoded(studio)
    assert measure_exposure(image).clipped_share > 0.9
    assert evaluate(image, [Face(ASTRONAUT_FACE)]).passed


def test_sharpness_does_not_depend_on_resolution(astronaut):
    double = decoded(np.array(Image.fromarray(astronaut.pixels).resize((1024, 1024))))
    native = measure_sharpness(astronaut, ASTRONAUT_FACE)
    doubled = measure_sharpness(double, tuple(v * 2 for v in ASTRONAUT_FACE))
    # the face is judged at one fixed size: resolution moves the score far less than blur
    blurred_native = measure_sharpness(decoded(blurred(astronaut.pixels, 2)), ASTRONAUT_FACE)
    assert 0.5 < doubled / native < 2
    assert min(native, doubled) > 10 * blurred_native


def test_almost_white_image_fails_exposure():
    white = np.random.default_rng(2).integers(240, 256, (768, 768, 3), dtype=np.uint8)
    result = evaluate(decoded(white), [Face((300, 300, 150, 180))])
    assert "overexposure" in failed(result)
    assert "too bright" in next(c for c in result.failures if c.name == "overexposure").message


def test_overexposed_and_underexposed_astronaut_fail_exposure(astronaut):
    bright = np.clip(astronaut.pixels * 2.0, 0, 255).astype(np.uint8)
    dark = (astronaut.pixels * 0.2).astype(np.uint8)
    assert {"clipping", "overexposure"} <= set(
        failed(evaluate(decoded(bright), [Face(ASTRONAUT_FACE)]))
    )
    assert "underexposure" in failed(evaluate(decoded(dark), [Face(ASTRONAUT_FACE)]))


def test_small_crop_fails_resolution(astronaut):
    crop = decoded(np.ascontiguousarray(astronaut.pixels[0:300, 100:400]))
    x, y, w, h = ASTRONAUT_FACE
    result = evaluate(crop, [Face((x - 100, y, w, h))])
    resolution = next(c for c in result.checks if c.name == "resolution")
    assert not resolution.passed
    assert resolution.message == "short side 300 px is below the 512 px minimum"


def test_no_face_is_reported(astronaut):
    result = evaluate(astronaut, [])
    assert result.failures[0].name == "face_count"
    assert result.failures[0].message == "no face"
    # Without one face, sharpness and exposure are measured over the whole frame.
    assert result.region == "image"


def test_several_faces_are_reported(astronaut):
    result = evaluate(astronaut, [Face((20 + 80 * i, 20, 60, 60)) for i in range(6)])
    assert result.failures[0].message == "6 faces found, expected 1"
    assert "face_size" not in [c.name for c in result.checks]


def test_tiny_face_fails_size(astronaut):
    result = evaluate(astronaut, [Face((200, 100, 40, 50))])
    assert "face_size" in failed(result)
    assert "face is 40 px across, below the 80 px minimum" in [c.message for c in result.checks]


def test_face_touching_or_cut_by_the_frame_fails_margin(astronaut):
    # Roll the photo sideways so its real face meets the left edge, then crosses it.
    x, y, w, h = ASTRONAUT_FACE
    touching = decoded(np.roll(astronaut.pixels, -x, axis=1))
    result = evaluate(touching, [Face((0, y, w, h))])
    assert failed(result) == ["face_margin"]
    assert (
        result.failures[0].message
        == "face is too close to the left edge: 0% of its size, needs 10%"
    )

    cut = decoded(np.roll(astronaut.pixels, -(x + 30), axis=1))
    result = evaluate(cut, [Face((-30, y, w, h))])
    assert failed(result) == ["face_margin"]
    assert result.failures[0].message == "face is cut by the left edge of the frame"


def test_score_prefers_the_better_image(astronaut):
    sharp = evaluate(astronaut, [Face(ASTRONAUT_FACE)])
    dimmer = decoded((astronaut.pixels * 0.6).astype(np.uint8))
    dim = evaluate(dimmer, [Face(ASTRONAUT_FACE)])
    soft = evaluate(decoded(blurred(astronaut.pixels, 3)), [Face(ASTRONAUT_FACE)])
    assert dim.passed
    assert sharp.score > dim.score > 0.5 > soft.score


def test_exposure_is_measured_in_the_face(astronaut):
    face = measure_exposure(astronaut, ASTRONAUT_FACE)
    whole = measure_exposure(astronaut)
    # The black helmet visor and space behind clip 14% of the frame but none of the face.
    assert whole.clipped_share > 0.10 > 0.05 > face.clipped_share


# -- thresholds -----------------------------------------------------------------------------


def test_project_settings_override_thresholds(astronaut):
    thresholds = QAThresholds.from_settings({"fps": 24, "image_qa": {"min_short_side": 768}})
    assert thresholds == QAThresholds(min_short_side=768)
    assert QAThresholds.from_settings({}) == QAThresholds()
    assert QAThresholds.from_settings({"image_qa": {"min_sharpness": 20}}).min_sharpness == 20.0
    assert failed(evaluate(astronaut, [Face(ASTRONAUT_FACE)], thresholds)) == ["resolution"]


@pytest.mark.parametrize(
    ("section", "named", "why"),
    [
        ({"min_short": 768}, "image_qa.min_short", "unknown project setting"),
        ({"min_short_side": "768"}, "image_qa.min_short_side", "must be an integer"),
        ({"min_short_side": 767.5}, "image_qa.min_short_side", "must be an integer"),
        ({"min_face_side": True}, "image_qa.min_face_side", "must be an integer"),
        ({"max_clipped_share": "5%"}, "image_qa.max_clipped_share", "must be a number"),
        ({"max_clipped_share": 2}, "image_qa.max_clipped_share", "between 0 and 1"),
        ({"min_face_side": 0}, "image_qa.min_face_side", "at least 1 pixel"),
        ({"min_mean_luminance": 230}, "image_qa.min_mean_luminance", "min < max"),
    ],
)
def test_bad_project_settings_are_refused_naming_the_key(section, named, why):
    with pytest.raises(ConfigError) as refused:
        QAThresholds.from_settings({"image_qa": section})
    assert named in str(refused.value)
    assert why in str(refused.value)


def test_image_qa_settings_must_be_an_object():
    with pytest.raises(ConfigError, match="image_qa must be an object"):
        QAThresholds.from_settings({"image_qa": 768})


def test_one_settings_loader_keeps_each_sections_wording():
    # image_qa and video_qa share trulience.qa.settings; each keeps its own messages
    from trulience.qa.video_rules import QARules

    with pytest.raises(ConfigError) as image:
        QAThresholds.from_settings({"image_qa": {"min_short_side": "768"}})
    assert str(image.value) == (
        "project setting image_qa.min_short_side must be an integer (pixels), got str '768'"
    )
    with pytest.raises(ConfigError) as section:
        QAThresholds.from_settings({"image_qa": 768})
    assert str(section.value) == "project setting image_qa must be an object of thresholds, got int"
    with pytest.raises(ConfigError) as video:
        QARules.from_config({"black_max_frames": True})
    assert str(video.value) == "video_qa.black_max_frames must be an integer, got bool True"
    with pytest.raises(ConfigError) as unknown:
        QARules.from_config({"frozen_seconds": 1})
    assert str(unknown.value).startswith("unknown setting video_qa.frozen_seconds; known: ")
