"""Ingest end to end on real photos: image QA verdicts, identity in pgvector, duplicates,
primary choice, variants and readiness."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.ingest_files import (
    ASTRONAUT,
    CAT,
    GROUP,
    astronaut_variant,
    bomb_png,
    make_folder,
    truncated_jpeg,
)
from trulience.catalog import characters, projects, scene_types, source_images
from trulience.catalog.embeddings import nearest_characters
from trulience.catalog.readiness import duplicate_candidates, readiness, resolve_duplicate
from trulience.faces.crops import make_variants
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.ingest.inbox import import_drop, scan_inbox
from trulience.ingest.variants import store_variants, variant_sizes
from trulience.samples import crop_png


@pytest.fixture
def project(conn):
    projects.create_project(
        conn, "moonbase", "Moonbase", settings={"image_qa": {"min_short_side": 320}}
    )
    return "moonbase"


def onboard(conn, storage, inbox, slug, files, face_models):
    make_folder(inbox, "moonbase", slug, files)
    drop = next(d for d in scan_inbox(inbox) if d.name == slug)
    report = import_drop(conn, storage, drop)
    assessments = assess_images(conn, storage, face_models, slug, thresholds_for(conn, slug))
    return report, assessments


def test_image_qa_verdicts_on_real_photos(conn, storage, project, tmp_path, face_models):
    inbox = tmp_path / "inbox"
    _, (astronaut,) = onboard(conn, storage, inbox, "eileen", {"a.png": ASTRONAUT}, face_models)
    assert astronaut.passed, astronaut.failures
    (stored,) = source_images.list_source_images(conn, "eileen")
    assert len(stored.qa["faces"]) == 1  # stored for the UI and later steps
    _, (group,) = onboard(conn, storage, inbox, "crowd", {"t1.jpg": GROUP}, face_models)
    assert not group.passed and "6 faces found, expected 1" in group.failures
    _, (cat,) = onboard(conn, storage, inbox, "chelsea", {"cat.png": CAT}, face_models)
    assert not cat.passed and "no face" in cat.failures
    stored = {
        i.original_name: i.qa_status
        for c in ("eileen", "crowd", "chelsea")
        for i in source_images.list_source_images(conn, c)
    }
    assert stored == {"a.png": "passed", "t1.jpg": "failed", "cat.png": "failed"}


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.jpg", truncated_jpeg(), "truncated"),
        ("fake.png", b"just some text pretending to be a png", "not an image"),
        ("bomb.png", bomb_png(), "exceeds the 50 MP limit"),
    ],
)
def test_unsafe_files_are_refused_at_the_door(conn, storage, project, tmp_path, name, data, reason):
    make_folder(tmp_path / "inbox", "moonbase", "eileen", {name: data})
    report = import_drop(conn, storage, scan_inbox(tmp_path / "inbox")[0])
    assert report.outcome == "rejected"
    assert any(p.field == name and reason in p.message for p in report.problems)
    assert characters.list_characters(conn) == []


def test_identity_band_and_pgvector_index(conn, storage, project, tmp_path, face_models):
    inbox = tmp_path / "inbox"
    onboard(conn, storage, inbox, "eileen", {"a.png": ASTRONAUT}, face_models)
    result = embed_character(conn, storage, face_models, "eileen")
    assert result.images == 1 and result.duplicates == []
    band = result.band
    assert band.samples >= 6  # the photo and its augmentations
    assert band.same_min <= band.same_p05 <= band.same_median <= 1
    assert face_models.same_identity_threshold <= band.threshold <= 0.95
    row = conn.execute("SELECT threshold, samples FROM character_identities").fetchone()
    assert row == (pytest.approx(band.threshold), band.samples)
    # the per-model partial HNSW index exists and answers the nearest-face query
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT id FROM face_embeddings WHERE model = 'sface-2021dec' "
            "ORDER BY embedding::vector(128) <=> (SELECT embedding::vector(128) "
            "FROM face_embeddings LIMIT 1) LIMIT 5"
        )
    )
    assert "face_embeddings_hnsw_sface_2021dec" in plan
    embedding = np.array(
        conn.execute("SELECT embedding::text FROM face_embeddings")
        .fetchone()[0]
        .strip("[]")
        .split(","),
        dtype=np.float32,
    )
    (hit,) = nearest_characters(conn, face_models.code, 128, embedding)
    assert hit.character == "eileen" and hit.score == pytest.approx(1.0, abs=1e-4)
    # the exact scan finds the same face; its planner settings end with its transaction
    (exact,) = nearest_characters(conn, face_models.code, 128, embedding, exact=True, ef_search=7)
    assert exact == hit
    settings = conn.execute(
        "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
        "current_setting('hnsw.ef_search')"
    ).fetchone()
    assert settings == ("on", "on", "40")


def test_same_person_under_a_new_slug_is_flagged_and_others_are_not(
    conn, storage, project, tmp_path, face_models
):
    inbox = tmp_path / "inbox"
    marco = crop_png(GROUP, (380, 200, 700, 520))
    for slug, files in (("eileen", {"a.png": ASTRONAUT}), ("marco", {"m.png": marco})):
        onboard(conn, storage, inbox, slug, files, face_models)
        assert embed_character(conn, storage, face_models, slug).duplicates == []

    flipped = Image.open(io.BytesIO(astronaut_variant(1.15))).transpose(
        Image.Transpose.FLIP_LEFT_RIGHT
    )
    out = io.BytesIO()
    flipped.save(out, format="PNG")
    onboard(conn, storage, inbox, "commander-collins", {"c.png": out.getvalue()}, face_models)
    result = embed_character(conn, storage, face_models, "commander-collins")
    assert [d.character for d in result.duplicates] == ["eileen"]
    assert result.duplicates[0].score >= 0.85
    (candidate,) = duplicate_candidates(conn)
    assert (candidate.character, candidate.other) == ("commander-collins", "eileen")
    assert readiness(conn, "eileen").open_duplicates == 1
    # re-running does not flag the pair again, either way round
    embed_character(conn, storage, face_models, "eileen")
    assert len(duplicate_candidates(conn)) == 1

    resolve_duplicate(conn, candidate.id, "merged", "producer:maria")
    assert [c.slug for c in characters.list_characters(conn)] == ["eileen", "marco"]
    names = sorted(i.original_name for i in source_images.list_source_images(conn, "eileen"))
    assert names == ["a.png", "c.png"]
    assert readiness(conn, "eileen").open_duplicates == 0


def test_keep_both_closes_the_question_for_good(conn, storage, project, tmp_path, face_models):
    inbox = tmp_path / "inbox"
    onboard(conn, storage, inbox, "eileen", {"a.png": ASTRONAUT}, face_models)
    embed_character(conn, storage, face_models, "eileen")
    onboard(conn, storage, inbox, "twin", {"t.png": astronaut_variant(0.9)}, face_models)
    embed_character(conn, storage, face_models, "twin")
    (candidate,) = duplicate_candidates(conn)
    resolve_duplicate(conn, candidate.id, "keep_both", "producer:maria")
    embed_character(conn, storage, face_models, "twin")
    assert duplicate_candidates(conn) == []
    assert duplicate_candidates(conn, include_resolved=True)[0].resolution == "keep_both"
    from trulience.catalog.errors import InvalidValue

    with pytest.raises(InvalidValue, match="already resolved"):
        resolve_duplicate(conn, candidate.id, "merged", "producer:maria")


def test_primary_is_the_best_image_unless_a_producer_chose(
    conn, storage, project, tmp_path, face_models
):
    inbox = tmp_path / "inbox"
    files = {"a.png": ASTRONAUT, "b.png": astronaut_variant(0.7)}
    onboard(conn, storage, inbox, "eileen", files, face_models)
    images = {i.original_name: i for i in source_images.list_source_images(conn, "eileen")}
    assert images["a.png"].qa_status == images["b.png"].qa_status == "passed"
    assert images["a.png"].qa["score"] > images["b.png"].qa["score"]
    assert [n for n, i in images.items() if i.is_primary] == ["a.png"]

    source_images.set_primary(conn, "eileen", images["b.png"].id, by="producer")
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"), force=True)
    chosen = [
        i.original_name for i in source_images.list_source_images(conn, "eileen") if i.is_primary
    ]
    assert chosen == ["b.png"]  # a later QA pass keeps the producer's choice


def test_strictest_project_thresholds_apply(conn, project):
    projects.create_project(
        conn,
        "feature-film",
        "Feature",
        settings={"image_qa": {"min_short_side": 1024, "min_sharpness": 5}},
    )
    characters.create_character(conn, "eileen", "Eileen", projects=["moonbase", "feature-film"])
    thresholds = thresholds_for(conn, "eileen")
    assert thresholds.min_short_side == 1024
    assert thresholds.min_sharpness == 15.0  # the default is stricter than 5


def test_variants_at_scene_type_resolutions(conn, storage, project, tmp_path, face_models):
    scene_types.create_scene_type(conn, "portrait", "Portrait", width=480, height=640)
    inbox = tmp_path / "inbox"
    onboard(conn, storage, inbox, "eileen", {"a.png": ASTRONAUT}, face_models)
    (image,) = source_images.list_source_images(conn, "eileen")
    pixels = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    box = image.qa["face"]["box"]
    sizes = variant_sizes(conn)
    assert sizes == [(480, 640), (512, 512)]
    variants = make_variants(pixels, tuple(box), sizes)
    uris = store_variants(conn, storage, "eileen", image, variants)
    assert len(uris) == 4
    crop = next(v for v in variants if v.kind == "crop" and v.width == 480)
    assert crop.pixels.shape == (640, 480, 3)
    # the face is centred horizontally in the crop and fills a sensible share of it
    found = face_models.detector.detect(crop.pixels)
    assert len(found) == 1
    x, _, w, h = found[0].box
    assert abs((x + w / 2) - 240) < 48 and 0.2 < h / 640 < 0.6
    rows = conn.execute("SELECT kind, width, height FROM image_variants ORDER BY 1, 2").fetchall()
    assert rows == [("crop", 480, 640), ("crop", 512, 512), ("pad", 480, 640), ("pad", 512, 512)]
    # storing again replaces, never duplicates
    store_variants(conn, storage, "eileen", image, variants)
    assert conn.execute("SELECT count(*) FROM image_variants").fetchone()[0] == 4
    state = readiness(conn, "eileen")
    assert state.variants == 4 and state.has_primary and not state.ready  # no identity yet
