"""Takes for review tests, inserted with plain SQL (no media, no pipeline)."""

import psycopg


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
