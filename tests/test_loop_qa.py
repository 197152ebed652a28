"""Quality gates inside the loop (PRD-49, 71, 64, 91): planted defects fail the right gate,
the segment is retaken with another seed, every take and its reason is kept."""

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from tests.ingest_files import ASTRONAUT, TOM
from trulience.catalog import characters, projects, scenes
from trulience.generation.loop import QARefused, run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, InvalidSceneType, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.library import add_image_file
from trulience.media.encode import encode_frames
from trulience.media.frames import read_frames

TOM_FRAME = np.asarray(Image.open(TOM).convert("RGB").resize((128, 128)))


class Planted(LocalPreviewBackend):
    """The preview backend, but the first take of some segments comes out defective: each
    new attempt (a new seed) takes the segment's next planted defect, and an attempt asked
    for again (made ahead, then discarded when the segment before it failed) comes out as
    it did the first time."""

    def __init__(self, defects: dict[int, list[str]]):
        super().__init__()
        self.defects = {i: list(kinds) for i, kinds in defects.items()}
        self.planted: dict[tuple[int, int], str | None] = {}

    def generate_segment(self, seed_frame, request, work_dir):
        result = super().generate_segment(seed_frame, request, work_dir)
        attempt = (request.index, request.seed)
        if attempt not in self.planted:
            kinds = self.defects.get(request.index)
            self.planted[attempt] = kinds.pop(0) if kinds else None
        kind = self.planted[attempt]
        if kind is None:
            return result
        frames = {
            "black": [np.zeros_like(seed_frame)] * request.frames,
            "frozen": [seed_frame] * request.frames,
            "flicker": [
                np.clip(seed_frame.astype(int) + (40 if (i // 2) % 2 else -40), 0, 255).astype(
                    np.uint8
                )
                for i in range(request.frames)
            ],
            "stranger": [TOM_FRAME] * request.frames,
            "wrong_fps": list(read_frames(result.video_path)),
        }[kind]
        fps = Fraction(30) if kind == "wrong_fps" else request.fps
        encode_frames(frames, result.video_path, fps)
        return type(result)(
            result.video_path,
            frames[-1],
            request.frames,
            result.backend,
            result.started_at,
            result.finished_at,
            result.compute_s,
        )


@pytest.fixture
def eileen(conn, storage, face_models):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    embed_character(conn, storage, face_models, "eileen")
    define(
        conn,
        Definition(
            "walk",
            "Walk",
            settings={
                "target_duration_s": 8,
                "segment_duration_s": 2,
                "fps": 12,
                "width": 128,
                "height": 128,
                "qa_rules": {"max_takes": 3, "retake_params": {"motion": 0.2}},
            },
        ),
    )
    return conn


def takes(conn, scene_id):
    return conn.execute(
        "SELECT index, attempt, status, current, qa -> 'failed' FROM segments "
        "WHERE scene_id = %s ORDER BY index, attempt",
        (scene_id,),
    ).fetchall()


def test_planted_defects_fail_their_gate_and_are_retaken(eileen, storage, face_models, tmp_path):
    backend = Planted({0: ["black"], 1: ["frozen"], 2: ["flicker"], 3: ["stranger", "wrong_fps"]})
    result = run_loop(eileen, storage, backend, "eileen", "walk", tmp_path, faces=face_models)
    assert result.take.status == "generated"
    rows = takes(eileen, result.take.id)
    failed: dict[int, list[list[str]]] = {}
    for index, _, status, _, gates in rows:
        if status == "qa_failed":
            failed.setdefault(index, []).append(gates)
    assert "black" in failed[0][0]
    assert "frozen" in failed[1][0]
    assert "flicker" in failed[2][0]
    assert "identity" in failed[3][0]
    assert failed[3][1] == ["fps"]  # the second take came at 30 fps: only the fps gate
    passed = [(i, a) for i, a, status, current, _ in rows if current]
    assert passed == [(0, 2), (1, 2), (2, 2), (3, 3)]  # retaken with new seeds
    seeds = eileen.execute(
        "SELECT index, attempt, (provenance ->> 'seed')::bigint FROM segments "
        "WHERE scene_id = %s AND index = 0",
        (result.take.id,),
    ).fetchall()
    assert seeds[0][2] != seeds[1][2]
    motions = eileen.execute(
        "SELECT attempt, provenance -> 'params' ->> 'motion' FROM segments "
        "WHERE scene_id = %s AND index = 0 ORDER BY attempt",
        (result.take.id,),
    ).fetchall()
    assert motions == [(1, None), (2, "0.2")]  # the retake nudged its parameters
    counts = {gate: n for gate, _, _, n in scenes.qa_failure_counts(eileen)}
    assert counts["black"] == 1 and counts["identity"] >= 1


def test_a_clean_scene_passes_every_gate(eileen, storage, face_models, tmp_path):
    result = run_loop(
        eileen, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path, faces=face_models
    )
    statuses = {status for _, _, status, _, _ in takes(eileen, result.take.id)}
    assert statuses == {"qa_passed"}
    segment = scenes.current_segments(eileen, result.take.id)[1]
    gates = {g["name"]: g["passed"] for g in segment.qa["gates"]}
    assert gates["identity"] and gates["seam"] and gates["frame_count"]
    assert segment.qa["metrics"]["identity_band"] is not None


def test_a_segment_failing_every_take_stops_the_scene_with_the_reasons(eileen, storage, tmp_path):
    backend = Planted({1: ["black", "black", "black"]})
    with pytest.raises(QARefused, match="segment 1 failed its quality gates in 3 take"):
        run_loop(eileen, storage, backend, "eileen", "walk", tmp_path)
    take = scenes.latest_take(eileen, "moonbase", "eileen", "walk")
    assert take.status == "qa_failed" and "black" in take.failure
    assert [r[2] for r in takes(eileen, take.id)] == ["qa_passed"] + ["qa_failed"] * 3
    # running it again retakes segment 1 and goes on from there
    result = run_loop(eileen, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path)
    assert result.take.id == take.id and result.generated == [1, 2, 3]


def test_qa_rules_are_checked_when_the_scene_type_is_saved(conn):
    with pytest.raises(InvalidSceneType, match=r"video_qa\.frozen_max_s"):
        define(
            conn,
            Definition(
                "bad",
                "Bad",
                settings={
                    "target_duration_s": 4,
                    "segment_duration_s": 2,
                    "fps": 12,
                    "width": 64,
                    "height": 64,
                    "qa_rules": {"video_qa": {"frozen_max_s": "long"}},
                },
            ),
        )


class Drifting(LocalPreviewBackend):
    """The preview backend with a warm cast added to every segment, which compounds as each
    segment starts from the previous one's last frame (a backend's colour drift)."""

    def generate_segment(self, seed_frame, request, work_dir):
        result = super().generate_segment(seed_frame, request, work_dir)
        warm = np.array([14, 0, -14])
        frames = [
            np.clip(f.astype(int) + warm, 0, 255).astype(np.uint8)
            for f in read_frames(result.video_path)
        ]
        encode_frames(frames, result.video_path, request.fps)
        return type(result)(
            result.video_path,
            frames[-1],
            request.frames,
            result.backend,
            result.started_at,
            result.finished_at,
            result.compute_s,
        )


def test_colour_anchor_keeps_drift_from_compounding(eileen, storage, tmp_path):
    from trulience.generation.continuity import colour_stats
    from trulience.media.frames import first_frame, last_frame

    def drift(scene_type):
        result = run_loop(eileen, storage, Drifting(), "eileen", scene_type, tmp_path / scene_type)
        segments = scenes.current_segments(eileen, result.take.id)
        files = []
        for index in (0, max(segments)):
            path = tmp_path / f"{scene_type}-{index}.mp4"
            path.write_bytes(storage.read_bytes(storage.key_of(segments[index].uri)))
            files.append(path)
        start, end = colour_stats(first_frame(files[0])), colour_stats(last_frame(files[1]))
        return float(np.abs(np.array(end.mean) - np.array(start.mean)).sum()), segments

    settings = {
        "target_duration_s": 8,
        "segment_duration_s": 2,
        "fps": 12,
        "width": 128,
        "height": 128,
    }
    define(eileen, Definition("free", "Free", settings=settings))
    define(
        eileen,
        Definition(
            "anchored",
            "Anchored",
            settings=settings | {"params": {"colour_anchor": True, "chain_depth_limit": 2}},
        ),
    )
    free, _ = drift("free")
    anchored, segments = drift("anchored")
    assert anchored < free / 3, (anchored, free)
    assert "re-anchored" in segments[2].provenance["seed_frame_source"]
