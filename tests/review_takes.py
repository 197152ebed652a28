"""Takes for review tests, inserted with plain SQL (no media, no pipeline)."""

import hashlib

import psycopg

from trulience.catalog.scenes import commit_segment, next_attempt


def make_project(conn: psycopg.Connection, slug: str = "demo") -> int:
    """A project with one character and one scene type (version 1) to make takes of."""
    project = conn.execute(
        "INSERT INTO projects (slug, name) VALUES (%s, %s) RETURNING id", (slug, slug.title())
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO characters (slug, name) VALUES (%s, 'Ada') ON CONFLICT DO NOTHING",
        ("ada",),
    )
    character = conn.execute("SELECT id FROM characters WHERE slug = 'ada'").fetchone()[0]
    conn.execute(
        "INSERT INTO project_characters (project_id, character_id) VALUES (%s, %s)",
        (project, character),
    )
    conn.execute(
        "INSERT INTO scene_types (slug, name) VALUES ('walk', 'Walk') ON CONFLICT DO NOTHING"
    )
    scene_type = conn.execute("SELECT id FROM scene_types WHERE slug = 'walk'").fetchone()[0]
    conn.execute(
        "INSERT INTO scene_type_versions (scene_type_id, version) VALUES (%s, 1) "
        "ON CONFLICT DO NOTHING",
        (scene_type,),
    )
    return project


def make_take(
    conn: psycopg.Connection,
    project: str = "demo",
    take: int = 1,
    status: str = "assembled",
    age_minutes: int = 0,
) -> int:
    """One take of ada in 'walk', created `age_minutes` ago; returns its scene id."""
    return conn.execute(
        """INSERT INTO scenes (project_id, character_id, scene_type_id, scene_type_version_id,
                               take, status, created_at)
           SELECT p.id, c.id, st.id, v.id, %s, %s, now() - make_interval(mins => %s)
             FROM projects p, characters c, scene_types st
             JOIN scene_type_versions v ON v.scene_type_id = st.id AND v.version = 1
            WHERE p.slug = %s AND c.slug = 'ada' AND st.slug = 'walk'
           RETURNING id""",
        (take, status, age_minutes, project),
    ).fetchone()[0]


def assemble(conn: psycopg.Connection, scene_id: int, content: str, frames: int = 12) -> str:
    """Record a take as assembled into a file whose sha256 is that of `content`, as
    assembly does (no media): returns that sha256."""
    sha = hashlib.sha256(content.encode()).hexdigest()
    conn.execute(
        "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s, frames = %s WHERE id = %s",
        (f"file:///storage/scenes/{scene_id}/scene.mp4", sha, frames, scene_id),
    )
    return sha


def commit_segments(conn: psycopg.Connection, scene_id: int, count: int, frames: int = 4) -> None:
    """Commit `count` current segments (first attempts, no media) to a take."""
    for index in range(count):
        commit_segment(
            conn,
            scene_id,
            index,
            1,
            uri=f"file:///storage/segments/{scene_id}/{index}-1.mp4",
            sha256=hashlib.sha256(f"{scene_id}/{index}/1".encode()).hexdigest(),
            frames=frames,
            provenance={"backend": "test"},
        )


def retake_segment(conn: psycopg.Connection, scene_id: int, index: int, frames: int = 4) -> None:
    """Commit a new attempt of a segment that a reviewer sent back, as the loop does, and
    mark the take generated again."""
    attempt = next_attempt(conn, scene_id, index)
    commit_segment(
        conn,
        scene_id,
        index,
        attempt,
        uri=f"file:///storage/segments/{scene_id}/{index}-{attempt}.mp4",
        sha256=hashlib.sha256(f"{scene_id}/{index}/{attempt}".encode()).hexdigest(),
        frames=frames,
        provenance={"backend": "test"},
    )
    conn.execute("UPDATE scenes SET status = 'generated' WHERE id = %s", (scene_id,))
