"""Delivery packages (manifest, sidecar, segments CSV, poster) and the compliance checker."""

import csv
import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.ingest_files import ASTRONAUT
from trulience.delivery.compliance import (
    DeliverySpec,
    InvalidDeliverySpec,
    check_compliance,
)
from trulience.delivery.package import build_package, verify_package
from trulience.media.encode import encode_frames

SIZE = 128
FPS = 12
SHARP = 17


@pytest.fixture(scope="module")
def scene_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of the astronaut, blurred in every frame but frame 17."""
    picture = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    sharp = cv2.resize(picture[:256, 96:352], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    frames = [
        sharp if index == SHARP else cv2.GaussianBlur(sharp, (0, 0), 1.5 + (index % 3))
        for index in range(36)
    ]
    path = tmp_path_factory.mktemp("scene") / "scene.mp4"
    encode_frames(frames, path, FPS, gop=6)
    return path


SEGMENTS = [
    {"frames": 12, "seed": 1, "workflow_hash": "abc", "worker": "gpu-1"},
    {"frames": 12, "seed": 2, "workflow_hash": "abc", "worker": "gpu-2"},
    {"frames": 12, "seed": 3, "workflow_hash": "abc", "worker": "gpu-1"},
]


def test_package_holds_video_poster_sidecar_csv_and_a_manifest_that_verifies(
    scene_video: Path, tmp_path: Path
) -> None:
    package = build_package(
        scene_video,
        tmp_path / "delivery",
        segments_info=SEGMENTS,
        provenance={"character": "eileen", "scene_type": "walk", "take": 1},
    )
    assert verify_package(package.directory) == []
    assert package.poster_frame == SHARP
    sidecar = json.loads(package.sidecar.read_text())
    assert (sidecar["frames"], sidecar["fps"], sidecar["seams"]) == (36, "12", [12, 24])
    assert sidecar["provenance"]["character"] == "eileen"
    with package.segments_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["index"], r["start_frame"], r["frames"]) for r in rows] == [
        ("0", "0", "12"),
        ("1", "12", "12"),
        ("2", "24", "12"),
    ]
    assert [r["seam_before"] for r in rows] == ["", "12", "24"]
    assert rows[1]["worker"] == "gpu-2" and rows[2]["seed"] == "3"
    manifest = json.loads(package.manifest.read_text())
    assert {entry["path"] for entry in manifest["files"]} == {
        "scene.mp4",
        "poster.png",
        "sidecar.json",
        "segments.csv",
    }


def test_manifest_detects_a_modified_missing_or_extra_file(
    scene_video: Path, tmp_path: Path
) -> None:
    package = build_package(
        scene_video, tmp_path / "delivery", segments_info=SEGMENTS, provenance={}
    )
    data = bytearray(package.video.read_bytes())
    data[-100] ^= 0xFF  # same size, different content
    package.video.write_bytes(bytes(data))
    package.sidecar.unlink()
    (package.directory / "notes.txt").write_text("added later")
    problems = verify_package(package.directory)
    assert any("scene.mp4" in p and "sha256" in p for p in problems)
    assert any("sidecar.json" in p and "missing" in p for p in problems)
    assert any("notes.txt" in p and "not listed" in p for p in problems)
    assert len(problems) == 3


def test_an_explicit_poster_frame_overrides_the_sharpest(scene_video: Path, tmp_path: Path) -> None:
    package = build_package(
        scene_video, tmp_path / "d", segments_info=SEGMENTS, provenance={}, poster_frame=5
    )
    assert package.poster_frame == 5
    assert json.loads(package.sidecar.read_text())["poster"]["frame"] == 5


def test_segments_that_do_not_add_up_to_the_video_are_refused(
    scene_video: Path, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="segments list 24 frames but the video has 36"):
        build_package(scene_video, tmp_path / "d", segments_info=SEGMENTS[:2], provenance={})


def test_a_compliant_video_has_no_violations(scene_video: Path) -> None:
    spec = DeliverySpec.from_dict(
        {
            "codec": "h264",
            "width": SIZE,
            "height": SIZE,
            "fps": "12",
            "duration_s": 3.0,
            "duration_tolerance_s": 0.1,
            "min_bitrate": 1_000,
            "max_bitrate": 20_000_000,
            "pix_fmt": "yuv420p",
            "audio": "forbidden",
        }
    )
    assert spec.fps == Fraction(12)
    assert check_compliance(scene_video, spec) == []


def test_every_violation_is_listed_at_once(scene_video: Path) -> None:
    spec = DeliverySpec.from_dict(
        {
            "codec": "h264",
            "width": 1920,
            "height": 1080,
            "fps": "30000/1001",
            "duration_s": 10.0,
            "duration_tolerance_s": 0.5,
            "max_bitrate": 1_000,
            "audio": "required",
        }
    )
    violations = check_compliance(scene_video, spec)
    assert {v.field for v in violations} == {
        "width",
        "height",
        "fps",
        "duration_s",
        "bitrate",
        "audio",
    }
    fps = next(v for v in violations if v.field == "fps")
    assert (fps.expected, fps.actual) == ("30000/1001", "12")


def test_a_bad_spec_names_every_bad_field() -> None:
    with pytest.raises(InvalidDeliverySpec) as error:
        DeliverySpec.from_dict(
            {
                "width": -1,
                "fps": "fast",
                "audio": "maybe",
                "colour": "red",
                "min_bitrate": 9,
                "max_bitrate": 5,
            }
        )
    message = str(error.value)
    for part in ("width", "fps", "audio", "'colour'", "min_bitrate 9 is above"):
        assert part in message
