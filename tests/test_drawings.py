"""Drawn notes (PRD-70): Drawing JSON checked and flattened, kept with the note, all or
nothing, and read back with the take's notes."""

import io
import json
from fractions import Fraction

import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.review_takes import commit_segments, make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.errors import InvalidValue
from trulience.cli import main
from trulience.delivery.deliver import deliver_take
from trulience.delivery.package import verify_package
from trulience.media.encode import encode_frames
from trulience.review import add_note, decide, notes_for, resolve_note
from trulience.review.drawings import (
    MAX_POINTS,
    MAX_SHAPES,
    MAX_TEXT,
    Drawing,
    InvalidDrawing,
    flatten,
    parse_drawing,
)
from trulience.storage import storage_key

# -- Drawing JSON: any valid drawing round-trips and flattens ---------------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)
point = st.tuples(unit, unit).map(list)
color = st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)
stroke = st.floats(0.0005, 0.1, allow_nan=False)
pen = st.fixed_dictionaries(
    {
        "kind": st.just("pen"),
        "points": st.lists(point, min_size=1, max_size=40),
        "color": color,
        "width": stroke,
    }
)
boxed = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["arrow", "rect", "ellipse"]),
        "from": point,
        "to": point,
        "color": color,
        "width": stroke,
    }
)
words = st.text(min_size=1, max_size=60).filter(str.strip)
text = st.fixed_dictionaries(
    {
        "kind": st.just("text"),
        "at": point,
        "text": words,
        "color": color,
        "size": st.floats(0.005, 0.5, allow_nan=False),
    }
)
drawings = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "frame": st.integers(0, 100_000),
        "width": st.integers(1, 4096),
        "height": st.integers(1, 4096),
        "shapes": st.lists(st.one_of(pen, boxed, text), min_size=1, max_size=8),
    }
)


def red_pen(**overrides) -> dict:
    return {
        "version": 1,
        "frame": 3,
        "width": 64,
        "height": 48,
        "shapes": [
            {
                "kind": "pen",
                "points": [[0.1, 0.1], [0.5, 0.5]],
                "color": "#ff3b30",
                "width": 0.05,
            }
        ],
    } | overrides


def rgb(picture: np.ndarray, y: int, x: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in picture[y, x])


@given(drawings)
def test_any_valid_drawing_round_trips_through_json(data):
    parsed = parse_drawing(json.dumps(data))
    assert isinstance(parsed, Drawing)
    assert parsed.to_json() == data
    assert parse_drawing(parsed.to_json()) == parsed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawings, st.integers(1, 300), st.integers(1, 300))
def test_any_valid_drawing_flattens_at_any_frame_size(data, width, height):
    frame = np.full((height, width, 3), 90, np.uint8)
    png = flatten(frame, data)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    assert picture.size == (width, height) and picture.mode == "RGB"


def test_flattened_pen_is_drawn_in_its_colour_over_the_frame_and_anti_aliased():
    frame = np.full((48, 64, 3), 40, np.uint8)
    picture = np.asarray(Image.open(io.BytesIO(flatten(frame, red_pen()))))
    # on the stroke: its colour; far from it: the frame untouched
    assert rgb(picture, 15, 19) == pytest.approx((0xFF, 0x3B, 0x30), abs=8)
    assert tuple(picture[40, 60]) == (40, 40, 40)
    # anti-aliased: edge pixels between the frame and the stroke's colour
    reds = set(picture[..., 0].ravel().tolist())
    assert any(40 < r < 0xF0 for r in reds)


def test_arrow_rect_ellipse_and_text_each_leave_their_mark():
    frame = np.zeros((120, 160, 3), np.uint8)
    for shape in [
        {"kind": "arrow", "from": [0.1, 0.5], "to": [0.9, 0.5], "color": "#00ff00", "width": 0.02},
        {"kind": "rect", "from": [0.2, 0.2], "to": [0.8, 0.8], "color": "#00ff00", "width": 0.02},
        {
            "kind": "ellipse",
            "from": [0.8, 0.8],
            "to": [0.2, 0.2],
            "color": "#00ff00",
            "width": 0.02,
        },
        {"kind": "text", "at": [0.1, 0.1], "text": "too dark", "color": "#00ff00", "size": 0.1},
    ]:
        picture = np.asarray(Image.open(io.BytesIO(flatten(frame, red_pen(shapes=[shape])))))
        assert picture[..., 1].max() > 200, shape["kind"]
        assert picture[..., 0].max() == 0 and picture[..., 2].max() == 0


def _broken(path: str, value) -> dict:
    """red_pen() with the value at `path` (keys and indexes, dotted) replaced."""
    data = json.loads(json.dumps(red_pen()))
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = data
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    "path, value, field, reason",
    [
        ("shapes.0.points.1", [1.5, 0.2], "shapes[0].points[1]", "x 1.5 is outside 0..1"),
        ("shapes.0.points.0", [0.2, -0.01], "shapes[0].points[0]", "y -0.01 is outside 0..1"),
        ("shapes.0.points", [], "shapes[0].points", "is empty"),
        ("shapes.0.kind", "star", "shapes[0].kind", "'star' is not one of"),
        ("shapes.0.color", "red", "shapes[0].color", "must be #rrggbb"),
        ("shapes.0.width", 0, "shapes[0].width", "above 0"),
        ("shapes.0.width", True, "shapes[0].width", "above 0"),
        ("shapes.0.points", [[0.1, float("nan")]], "shapes[0].points[0]", "must be a number"),
        ("shapes.0.colour", "#ffffff", "shapes[0].colour", "is not a field"),
        ("shapes.0.color", _DELETE, "shapes[0].color", "is missing"),
        ("shapes", [], "shapes", "is empty"),
        ("version", 2, "version", "only version 1"),
        ("frame", -1, "frame", "out of range"),
        ("frame", 2.5, "frame", "whole number"),
        ("width", 0, "width", "out of range"),
    ],
)
def test_invalid_drawing_is_refused_naming_the_shape_and_field(path, value, field, reason):
    with pytest.raises(InvalidDrawing, match=reason) as refused:
        parse_drawing(_broken(path, value))
    assert refused.value.field == field
    assert str(refused.value).startswith(f"drawing {field}:")


def test_too_many_shapes_points_or_words_are_refused():
    shape = red_pen()["shapes"][0]
    with pytest.raises(InvalidDrawing, match=f"at most {MAX_SHAPES}") as refused:
        parse_drawing(red_pen(shapes=[shape] * (MAX_SHAPES + 1)))
    assert refused.value.field == "shapes"
    with pytest.raises(InvalidDrawing, match=f"at most {MAX_POINTS}") as refused:
        parse_drawing(red_pen(shapes=[shape | {"points": [[0.5, 0.5]] * (MAX_POINTS + 1)}]))
    assert refused.value.field == "shapes[0].points"
    long = {"kind": "text", "at": [0, 0], "text": "x" * (MAX_TEXT + 1), "color": "#ffffff"}
    with pytest.raises(InvalidDrawing, match=f"at most {MAX_TEXT}") as refused:
        parse_drawing(red_pen(shapes=[long | {"size": 0.04}]))
    assert refused.value.field == "shapes[0].text"


@given(drawings, st.integers(0, 7), st.sampled_from([-0.5, 1.0001, 7.0, "0.5", None]))
def test_a_coordinate_out_of_range_anywhere_is_refused_naming_its_shape(data, which, bad):
    index = which % len(data["shapes"])
    shape = data["shapes"][index]
    field = {"pen": "points", "text": "at"}.get(shape["kind"], "from")
    if field == "points":
        shape["points"][0] = [bad, 0.5]
        where = f"shapes[{index}].points[0]"
    else:
        shape[field] = [0.5, bad]
        where = f"shapes[{index}].{field}"
    with pytest.raises(InvalidDrawing) as refused:
        parse_drawing(data)
    assert refused.value.field == where


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.one_of(json_values, drawings), st.data())
def test_anything_sent_is_a_drawing_or_refused_naming_a_field_never_a_crash(data, draw):
    if isinstance(data, dict) and isinstance(data.get("shapes"), list) and data["shapes"]:
        # a valid drawing with one of its shapes' fields replaced by any JSON value
        shape = draw.draw(st.sampled_from(data["shapes"]))
        shape[draw.draw(st.sampled_from(sorted(shape)))] = draw.draw(json_values)
    try:
        parsed = parse_drawing(data)
    except InvalidDrawing as refused:
        top = refused.field.split(".")[0].split("[")[0]
        assert top in {"(whole)", "version", "frame", "width", "height", "shapes"} or (
            isinstance(data, dict) and top in data
        )
        assert refused.reason
    else:
        assert parse_drawing(parsed.to_json()) == parsed


# -- kept with the note: service, catalog and storage ------------------------------------------

SIZE = (64, 48)
FRAMES = 8


def shade(index: int) -> int:
    """The grey of frame `index` of the test take: each frame its own."""
    return 30 + 25 * index


@pytest.fixture
def drawn_take(conn, storage, tmp_path):
    """An assembled take whose video is stored, each frame a flat grey of its own; and rita."""
    make_project(conn)
    scene_id = make_take(conn)
    video = tmp_path / "scene.mp4"
    frames = (np.full((SIZE[1], SIZE[0], 3), shade(i), np.uint8) for i in range(FRAMES))
    encode_frames(frames, video, Fraction(24), gop=4)
    stored = storage.put_file(storage_key("scenes", str(scene_id), "scene.mp4"), video)
    conn.execute(
        "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s, frames = %s WHERE id = %s",
        (stored.uri, stored.sha256, FRAMES, scene_id),
    )
    rita = accounts.create_user(conn, "rita", "Rita", "reviewer", "s3cret-pass")
    return scene_id, rita


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_drawn_note_is_flattened_over_its_frame_stored_beside_the_take_and_read_back(
    conn, storage, drawn_take
):
    scene_id, rita = drawn_take
    note = add_note(conn, rita, scene_id, "too dark", drawing=red_pen(), storage=storage)
    assert note.frame == 3
    (shown,) = notes_for(conn, rita, scene_id)
    assert shown.drawing == parse_drawing(red_pen()).to_json()
    assert shown.drawing_uri == storage.uri(f"scenes/{scene_id}/notes/{note.id}.png")
    key = f"scenes/{scene_id}/notes/{note.id}.png"
    picture = np.asarray(Image.open(io.BytesIO(storage.read_bytes(key))))
    assert picture.shape == (SIZE[1], SIZE[0], 3)
    # the frame under the drawing is frame 3, not its neighbours
    assert picture[40:46, 50:60].mean() == pytest.approx(shade(3), abs=4)
    assert rgb(picture, 15, 19) == pytest.approx((0xFF, 0x3B, 0x30), abs=8)
    sha = conn.execute("SELECT png_sha256 FROM note_drawings").fetchone()[0]
    assert sha == storage.sha256(f"scenes/{scene_id}/notes/{note.id}.png")
    # audited as the reviewer, like the note
    actors = conn.execute(
        "SELECT actor FROM audit_log WHERE table_name = 'note_drawings'"
    ).fetchall()
    assert actors == [("user:rita",)]


def test_note_without_a_drawing_reads_back_undrawn(conn, storage, drawn_take):
    scene_id, rita = drawn_take
    add_note(conn, rita, scene_id, "fine otherwise", frame=2)
    (shown,) = notes_for(conn, rita, scene_id)
    assert shown.drawing is None and shown.drawing_uri is None


@pytest.mark.parametrize(
    "drawing, frame, error, match",
    [
        (red_pen(frame=FRAMES), None, InvalidValue, f"has {FRAMES} frames, there is no frame"),
        (red_pen(), 5, InvalidValue, "is of frame 3, but the note is at 5"),
        (red_pen(shapes=[]), None, InvalidDrawing, "shapes: is empty"),
        (red_pen(width=48, height=64), None, InvalidValue, "drawn on a 48×64 frame, but take 1"),
    ],
)
def test_a_drawing_that_cannot_be_kept_leaves_no_note_and_no_picture(
    conn, storage, drawn_take, drawing, frame, error, match
):
    scene_id, rita = drawn_take
    with pytest.raises(error, match=match):
        add_note(conn, rita, scene_id, "x", frame=frame, drawing=drawing, storage=storage)
    assert count(conn, "notes") == 0 and count(conn, "note_drawings") == 0
    assert storage.list(f"scenes/{scene_id}/notes") == []


def test_storage_that_fails_leaves_no_note(conn, storage, drawn_take):
    scene_id, rita = drawn_take
    # a file where the take's notes folder would be: storing the picture fails for real
    storage.put_bytes(f"scenes/{scene_id}/notes", b"in the way")
    with pytest.raises(OSError):
        add_note(conn, rita, scene_id, "too dark", drawing=red_pen(), storage=storage)
    assert count(conn, "notes") == 0 and count(conn, "note_drawings") == 0
    assert count(conn, "notifications") == 0


def test_catalog_refuses_a_drawing_row_of_another_version_or_frame(conn, storage, drawn_take):
    scene_id, rita = drawn_take
    note = add_note(conn, rita, scene_id, "too dark", frame=3)
    for vector, frame, constraint in [
        (red_pen(version=2), 3, "note_drawings_vector_version"),
        (red_pen(), 4, "note_drawings_vector_frame"),
    ]:
        with (
            pytest.raises(psycopg.errors.CheckViolation, match=constraint),
            conn.transaction(),
        ):
            conn.execute(
                "INSERT INTO note_drawings (note_id, frame, vector, png_uri, png_sha256) "
                "VALUES (%s, %s, %s, 'file:///x.png', repeat('a', 64))",
                (note.id, frame, json.dumps(vector)),
            )
    assert count(conn, "note_drawings") == 0


# -- listed with the take in the delivery's review report --------------------------------------


def test_delivery_review_report_lists_each_note_at_its_frame_with_the_drawn_png_checksummed(
    conn, storage, drawn_take, tmp_path
):
    scene_id, rita = drawn_take
    commit_segments(conn, scene_id, 2, frames=FRAMES // 2)
    conn.execute(
        "UPDATE scenes SET effective_config = %s WHERE id = %s",
        (json.dumps({"fps": 24, "width": SIZE[0], "height": SIZE[1]}), scene_id),
    )
    drawn = add_note(conn, rita, scene_id, "too dark", drawing=red_pen(), storage=storage)
    reply = add_note(conn, rita, scene_id, "<b>or lift</b> the fill", reply_to=drawn.id)
    plain = add_note(conn, rita, scene_id, "the blink is late", frame=6)
    resolve_note(conn, rita, plain.id)
    decide(conn, rita, scene_id, "approve", acknowledge_open_notes=True)
    delivery = deliver_take(conn, storage, scene_id, tmp_path / "d", poster_frame=0)
    package = tmp_path / "d" / "package"
    assert verify_package(package) == []
    report = json.loads((package / "review_report.json").read_text())
    listed = [(n["id"], n["frame"], n["drawn"], n["status"]) for n in report["notes"]]
    assert listed == [
        (drawn.id, 3, True, "open"),
        (reply.id, None, False, "open"),
        (plain.id, 6, False, "resolved"),
    ]
    assert [n["reply_depth"] for n in report["notes"]] == [0, 1, 0]
    picture = f"notes/{drawn.id}.png"
    assert report["notes"][0]["drawing"] == {"file": picture, "vector": red_pen()}
    png_key = f"scenes/{scene_id}/notes/{drawn.id}.png"
    assert (package / picture).read_bytes() == storage.read_bytes(png_key)
    manifest = json.loads((package / "manifest.json").read_text())
    checksummed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert checksummed[picture] == storage.sha256(png_key)
    assert {"review_report.json", "review_report.html"} <= checksummed.keys()
    page = (package / "review_report.html").read_text()
    assert f'src="{picture}"' in page and "&lt;b&gt;or lift&lt;/b&gt;" in page
    assert json.loads((package / "sidecar.json").read_text())["review_report"] == (
        "review_report.json"
    )
    # stored with the rest of the package, and recorded in the deliverable
    files = conn.execute(
        "SELECT manifest -> 'files' FROM deliverables WHERE id = %s", (delivery.deliverable_id,)
    ).fetchone()[0]
    assert (
        storage.read_bytes(storage.key_of(files[picture]["uri"]))
        == (package / picture).read_bytes()
    )


# -- the command line --------------------------------------------------------------------------


def test_cli_writes_a_drawn_note_from_a_file_and_lists_it_as_drawn(
    conn, db_url, storage, drawn_take, tmp_path
):
    scene_id, _ = drawn_take
    env = {"DATABASE_URL": db_url, "STORAGE_URL": storage.url, "TRULIENCE_HOME": str(tmp_path)}

    def run(*args: str):
        return CliRunner().invoke(main, ["takes", *args], env=env, catch_exceptions=False)

    drawing = tmp_path / "drawing.json"
    drawing.write_text(json.dumps(red_pen()))
    added = run("note", str(scene_id), "too dark", "--as", "rita", "--drawing", str(drawing))
    assert added.exit_code == 0, added.output
    assert added.output.startswith("note ") and "at frame 3 (drawn)" in added.output
    run("note", str(scene_id), "the blink is late", "--as", "rita", "--frame", "6")
    listed = run("notes", str(scene_id))
    assert listed.exit_code == 0, listed.output
    drawn, plain = listed.output.splitlines()
    (uri,) = conn.execute("SELECT png_uri FROM note_drawings").fetchone()
    assert "frame 3 rita (open): too dark" in drawn and drawn.endswith(f"[drawn: {uri}]")
    assert "frame 6 rita (open): the blink is late" in plain and "drawn" not in plain
    # a bad drawing is one clear line naming the field, and nothing is written
    drawing.write_text(json.dumps(red_pen(shapes=[{"kind": "star"}])))
    refused = run("note", str(scene_id), "x", "--as", "rita", "--drawing", str(drawing))
    assert refused.exit_code == 1
    assert "drawing shapes[0].kind: 'star' is not one of" in refused.output
    assert count(conn, "notes") == 2
    assert "scene 999999 not found" in run("notes", "999999").output
