"""The consistency report (PRD-94): a character's identity take by take, across all its
scenes, with the outliers flagged by the catalog's view take_consistency, exported to the
lake as `consistency`, read with DuckDB and printed by `trulience lake consistency`."""

import os

import duckdb
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from apps.dashboards_state import DashboardsSession
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.cli import main
from trulience.config import Settings
from trulience.lake.catalog_export import export_catalog
from trulience.lake.consistency import NO_SCORES, character_consistency
from trulience.lake.files import LakeError

THRESHOLD = 0.6  # the band threshold the gates held ada's takes to


def add_segment(conn, scene_id: int, index: int, median: float, *, current=True, gate=True):
    """A QA-passed segment of the take whose sampled frames had `median` identity (and a
    lowest frame 0.05 under it)."""
    gates = [{"name": "frozen", "value": 0.1, "passed": True, "threshold": 1.5}]
    if gate:
        gates.append({"name": "identity", "value": median, "passed": True, "threshold": THRESHOLD})
    metrics = {"identity_median": median, "identity_min": round(median - 0.05, 4)}
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                 provenance, qa, current)
           VALUES (%s, %s, (SELECT count(*) + 1 FROM segments WHERE scene_id = %s
                               AND index = %s),
                   'qa_passed', 'file:///x.mp4', repeat('a', 64), 48, %s, %s, %s)""",
        (
            scene_id,
            index,
            scene_id,
            index,
            Jsonb({"fps": "24", "backend": "test"}),
            Jsonb({"passed": True, "failed": [], "gates": gates, "metrics": metrics}),
            current,
        ),
    )


def takes_of(conn, medians: list[list[float]], first: int = 1) -> list[int]:
    """One take of ada in 'walk' per entry (numbered from `first`; the project made with
    the first), its segments of those medians."""
    if first == 1:
        make_project(conn)
    scenes = []
    for number, segments in enumerate(medians, start=first):
        scene = make_take(conn, take=number)
        for index, median in enumerate(segments):
            add_segment(conn, scene, index, median)
        scenes.append(scene)
    return scenes


def rows(conn) -> dict[int, dict]:
    cursor = conn.execute(
        "SELECT take, median_identity, min_identity, threshold, z_score, outlier, reason, "
        "segments FROM take_consistency ORDER BY take"
    )
    names = [c.name for c in cursor.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


AGREEING = [[0.80, 0.82, 0.81], [0.79, 0.80], [0.83, 0.81, 0.82], [0.80, 0.81], [0.82, 0.80]]


def test_takes_that_agree_are_not_flagged(conn):
    takes_of(conn, AGREEING)
    found = rows(conn)
    assert len(found) == 5
    assert not any(r["outlier"] for r in found.values())
    assert all(r["reason"] is None for r in found.values())
    first = found[1]
    assert first["median_identity"] == pytest.approx(0.81)  # the median of its segments
    assert first["min_identity"] == pytest.approx(0.75)  # its lowest sampled frame
    assert first["threshold"] == pytest.approx(THRESHOLD)
    assert first["segments"] == 3
    assert all(abs(r["z_score"]) < 3.5 for r in found.values())


def test_a_take_clearly_off_the_character_is_flagged(conn):
    # take 6 stays above the band (0.6) but far below the character's other takes
    takes_of(conn, [*AGREEING, [0.66, 0.67, 0.65]])
    found = rows(conn)
    assert [t for t, r in found.items() if r["outlier"]] == [6]
    assert found[6]["z_score"] < -3.5
    assert found[6]["reason"].startswith("low against the character: z -")
    assert "below band" not in found[6]["reason"]


def test_a_take_below_the_band_is_flagged_even_with_few_takes(conn):
    takes_of(conn, [[0.80, 0.81], [0.55, 0.50]])
    found = rows(conn)
    assert found[1]["z_score"] is None and found[2]["z_score"] is None  # fewer than 3 takes
    assert not found[1]["outlier"]
    assert found[2]["outlier"]
    assert found[2]["reason"] == "below band: median 0.525 under the character's threshold 0.600"


def test_only_committed_segments_count(conn):
    (scene,) = takes_of(conn, [[0.80, 0.82]])
    add_segment(conn, scene, 1, 0.10, current=False)  # a refused attempt, not committed
    add_segment(conn, scene, 2, 0.90, gate=False)  # metrics alone, no identity gate
    found = rows(conn)
    assert found[1]["segments"] == 3
    assert found[1]["median_identity"] == pytest.approx(0.82)
    assert not found[1]["outlier"]


def test_takes_without_identity_scores_are_not_reported(conn):
    make_project(conn)
    scene = make_take(conn)
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                 provenance, qa, current)
           VALUES (%s, 0, 1, 'qa_passed', 'file:///x.mp4', repeat('a', 64), 48, '{}', %s,
                   true)""",
        (scene, Jsonb({"passed": True, "failed": [], "gates": []})),
    )
    assert rows(conn) == {}


# -- the lake dataset, its reader and the command ----------------------------------------


def test_the_lake_holds_one_row_per_take_read_back_with_duckdb(conn, tmp_path):
    lake = tmp_path / "lake"
    takes_of(conn, [*AGREEING, [0.66, 0.67, 0.65]])
    export_catalog(conn, lake)
    files = sorted((lake / "consistency").rglob("*.parquet"))
    assert files
    read = duckdb.sql(
        f"SELECT character, scene_type, take, median_identity, outlier, reason "
        f"FROM read_parquet('{lake}/consistency/**/*.parquet') ORDER BY take"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in read] == [("ada", "walk", n) for n in range(1, 7)]
    assert [r[2] for r in read if r[4]] == [6]
    assert read[5][5].startswith("low against the character")

    table = character_consistency(lake, "ada")
    assert table.num_rows == 6
    assert table.column_names[:4] == ["character", "scene_type", "project", "take"]
    assert b"as_of" in table.schema.metadata


def test_an_empty_history_says_so_instead_of_failing(conn, tmp_path):
    lake = tmp_path / "lake"
    make_project(conn)
    make_take(conn)  # a take, but no segment measured yet
    export_catalog(conn, lake)
    with pytest.raises(LakeError, match=f"ada: {NO_SCORES}"):
        character_consistency(lake, "ada")
    with pytest.raises(LakeError, match=r"character 'bob' not found in the lake \(known: ada\)"):
        character_consistency(lake, "bob")


def test_lake_consistency_prints_the_characters_takes(conn, db_url, tmp_path):
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    make_project(conn)
    make_take(conn)  # take 1, not measured yet
    export_catalog(conn, tmp_path / "home" / "lake")
    empty = CliRunner().invoke(main, ["lake", "consistency", "ada"], env=env)
    assert empty.exit_code != 0 and NO_SCORES in empty.output
    takes_of(conn, [*AGREEING, [0.66, 0.67, 0.65]], first=2)
    export_catalog(conn, tmp_path / "home" / "lake")
    result = CliRunner().invoke(main, ["lake", "consistency", "ada"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("as of ")
    assert lines[1].split()[:5] == ["character", "scene_type", "project", "take", "revision"]
    flagged = [line for line in lines[3:] if "low against the character" in line]
    assert len(flagged) == 1 and flagged[0].split()[3] == "7"
    assert len(lines) == 3 + 6
    narrowed = CliRunner().invoke(
        main, ["lake", "consistency", "ada", "--project", "demo"], env=env
    )
    assert narrowed.output == result.output
    unknown = CliRunner().invoke(main, ["lake", "consistency", "ada", "--project", "nope"], env=env)
    assert unknown.exit_code == 1 and "project 'nope' not found in the lake" in unknown.output


# -- the dashboards' Consistency tab -------------------------------------------------------


def test_the_dashboards_show_the_chosen_characters_takes_with_outliers(conn, db_url, tmp_path):
    from apps.dashboards_views import consistency_tab
    from tests.test_dashboards_state import css_of, sign_in
    from tests.test_review_app import PASSWORD

    accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    session = DashboardsSession(settings)
    sign_in(session)
    session.refresh()  # an empty catalog: nothing to choose, and the tab says why
    assert session.character is None and session.consistency is None
    (empty,) = consistency_tab(session.consistency, session.character)
    assert f"{NO_SCORES.capitalize()}." in empty.object

    takes_of(conn, [*AGREEING, [0.66, 0.67, 0.65]])
    conn.execute("INSERT INTO characters (slug, name) VALUES ('bob', 'Bob')")
    conn.execute(
        "INSERT INTO project_characters (project_id, character_id) "
        "SELECT p.id, c.id FROM projects p, characters c WHERE c.slug = 'bob'"
    )
    for take, median in enumerate([0.7, 0.71, 0.72], start=1):
        scene = conn.execute(
            """INSERT INTO scenes (project_id, character_id, scene_type_id,
                                   scene_type_version_id, take)
               SELECT p.id, c.id, v.scene_type_id, v.id, %s
                 FROM projects p, characters c, scene_type_versions v
                WHERE c.slug = 'bob' RETURNING id""",
            (take,),
        ).fetchone()[0]
        add_segment(conn, scene, 0, median)
    session.refresh()
    assert session.param.character.objects == ["ada", "bob"]
    assert session.character == "ada"  # the first, until one is chosen
    table = session.consistency
    assert table.num_rows == 6
    assert [r["take"] for r in table.to_pylist() if r["outlier"]] == [6]
    objects = consistency_tab(table, "ada")
    assert css_of(objects) == ["consistency-chart", "consistency-table"]
    assert "6 take(s) of ada, 1 outlier(s)" in objects[1].object
    chart = objects[0].object
    source = chart.select_one({"name": "consistency-takes"})
    assert source.data["flag"] == ["consistent"] * 5 + ["outlier"]

    session.character = "bob"  # a choice shows that character's takes, no outlier among them
    assert [r["character"] for r in session.consistency.to_pylist()] == ["bob"] * 3
    assert not any(session.consistency.column("outlier").to_pylist())
    session.refresh()  # the choice holds across reads
    assert session.character == "bob"


# -- the analysts' notebook -------------------------------------------------------------


def test_the_identity_notebook_marks_the_outlying_take(conn, db_url, tmp_path):
    from tests.test_notebooks import charts_of, execute, text_of

    home = tmp_path / "home"
    takes_of(conn, [*AGREEING, [0.66, 0.67, 0.65]])
    export_catalog(conn, home / "lake")
    env = {"TRULIENCE_HOME": str(home), "DATABASE_URL": db_url}
    out = text_of(execute("identity_consistency.py", env, tmp_path))  # character: the most off
    assert charts_of(out)["outlier_chart"] > 0
    assert "outlier: ada walk · 6 (demo): low against the character: z -" in out
    assert "ada: 6 take(s), 1 outlier(s)" in out
