"""A synthetic catalog for benchmarks: one project, character and scene type with many
assembled takes and their QA-passed segments, spread over the last 60 days; and the
statements a benchmark times against the export (a COPY of the segments, one old segment
changed)."""

import psycopg
from psycopg.types.json import Jsonb

QA_GATES = ("black", "frozen", "identity", "seam")


def fill_synthetic_catalog(conn: psycopg.Connection, takes: int, segments_per_take: int) -> None:
    """`takes` assembled takes of `segments_per_take` segments each, in an empty catalog."""
    conn.execute("INSERT INTO projects (slug, name) VALUES ('bench', 'Bench')")
    conn.execute("INSERT INTO characters (slug, name) VALUES ('ada', 'Ada')")
    conn.execute("INSERT INTO project_characters SELECT p.id, c.id FROM projects p, characters c")
    conn.execute("INSERT INTO scene_types (slug, name) VALUES ('walk', 'Walk')")
    conn.execute(
        "INSERT INTO scene_type_versions (scene_type_id, version) SELECT id, 1 FROM scene_types"
    )
    conn.execute(
        """INSERT INTO scenes (project_id, character_id, scene_type_id, scene_type_version_id,
                               take, status, frames, effective_config, created_at,
                               updated_at)
           SELECT p.id, c.id, t.id, v.id, n, 'assembled', 480, %s,
                  now() - make_interval(days => 1 + n %% 60),
                  now() - make_interval(days => 1 + n %% 60)
             FROM projects p, characters c, scene_types t
             JOIN scene_type_versions v ON v.scene_type_id = t.id,
                  generate_series(1, %s) n""",
        (Jsonb({"fps": "24", "width": 1280, "height": 720}), takes),
    )
    gates = [{"name": g, "value": 0.5, "passed": True, "threshold": 1.0} for g in QA_GATES]
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                 provenance, qa, created_at, updated_at)
           SELECT s.id, i, 1, 'qa_passed', 'file:///x.mp4', repeat('a', 64), 120,
                  jsonb_build_object('fps', '24', 'width', 1280, 'height', 720,
                                     'compute_s', random() * 100, 'worker', 'gpu-1',
                                     'workflow', 'wan', 'backend', 'comfyui'),
                  %s, s.created_at, s.created_at
             FROM scenes s, generate_series(0, %s) i""",
        (Jsonb({"passed": True, "failed": [], "gates": gates}), segments_per_take - 1),
    )
    conn.execute("ANALYZE")


def copy_segments_out(conn: psycopg.Connection) -> int:
    """Postgres's own binary COPY of the whole segments table (the export's baseline);
    the bytes it sent."""
    size = 0
    with conn.cursor().copy("COPY (SELECT * FROM segments) TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            size += len(block)
    return size


def change_an_old_segment(conn: psycopg.Connection) -> None:
    """Supersede the first segment made over 20 days ago (only its day is exported again)."""
    conn.execute(
        "UPDATE segments SET status = 'superseded' WHERE id = "
        "(SELECT min(id) FROM segments WHERE created_at < now() - interval '20 days')"
    )


def fill_synthetic_characters(conn: psycopg.Connection, count: int, takes_every: int = 10) -> None:
    """`count` characters (slugs `c-00001`…, names like 'Ada Lovelace 1'), each tagged with
    one of a few tags, in project 'library'; every `takes_every`-th one with a take of scene
    type 'walk-cycle' (for the Studio's benchmark)."""
    conn.execute("INSERT INTO projects (slug, name) VALUES ('library', 'Library')")
    conn.execute("INSERT INTO scene_types (slug, name) VALUES ('walk-cycle', 'Walk cycle')")
    conn.execute(
        "INSERT INTO scene_type_versions (scene_type_id, version) "
        "SELECT id, 1 FROM scene_types WHERE slug = 'walk-cycle'"
    )
    conn.execute(
        """INSERT INTO characters (slug, name, metadata)
           SELECT 'c-' || lpad(n::text, 5, '0'),
                  (ARRAY['Ada', 'Bram', 'Cleo', 'Dmitri', 'Esme', 'Farid', 'Greta',
                         'Hugo'])[1 + n %% 8] || ' ' ||
                  (ARRAY['Lovelace', 'Stoker', 'Patra', 'Volkov', 'Weatherwax',
                         'Haddad', 'Garbo'])[1 + n %% 7] || ' ' || n,
                  jsonb_build_object('bio', 'synthetic character ' || n)
             FROM generate_series(1, %s) n""",
        (count,),
    )
    conn.execute(
        "INSERT INTO tags (name) VALUES ('hero'), ('villain'), ('extra'), ('narrator') "
        "ON CONFLICT DO NOTHING"
    )
    conn.execute(
        """INSERT INTO entity_tags (tag_id, character_id)
           SELECT g.id, c.id FROM characters c
             JOIN tags g ON g.name = (ARRAY['hero', 'villain', 'extra', 'narrator'])[1 + c.id % 4]
            WHERE c.slug LIKE 'c-%'"""
    )
    conn.execute(
        """INSERT INTO project_characters
           SELECT p.id, c.id FROM projects p, characters c
            WHERE p.slug = 'library' AND c.slug LIKE 'c-%'"""
    )
    conn.execute(
        """INSERT INTO scenes (project_id, character_id, scene_type_id, scene_type_version_id,
                               take, status, planned_segments)
           SELECT p.id, c.id, t.id, v.id, 1,
                  CASE WHEN c.id %% 3 = 0 THEN 'generating' ELSE 'assembled' END, 4
             FROM projects p, characters c, scene_types t
             JOIN scene_type_versions v ON v.scene_type_id = t.id
            WHERE p.slug = 'library' AND t.slug = 'walk-cycle' AND c.slug LIKE 'c-%%'
              AND c.id %% %s = 0""",
        (takes_every,),
    )
    conn.execute("ANALYZE")
