"""A production's catalog for batch, cost and budget tests, written with plain SQL: ready
characters (without media) and past takes whose segment attempts recorded GPU seconds."""

import psycopg
from psycopg.types.json import Jsonb

from trulience.generation.scene_config import Definition, define

SHA = "0" * 64


def make_project(conn: psycopg.Connection, slug: str = "moonbase") -> None:
    conn.execute("INSERT INTO projects (slug, name) VALUES (%s, %s)", (slug, slug.title()))


def make_character(
    conn: psycopg.Connection, slug: str, project: str | None = "moonbase", ready: bool = True
) -> None:
    """A character in `project`; `ready`: a passing primary image, an identity, a variant."""
    character = conn.execute(
        "INSERT INTO characters (slug, name) VALUES (%s, %s) RETURNING id", (slug, slug.title())
    ).fetchone()[0]
    if project is not None:
        conn.execute(
            "INSERT INTO project_characters (project_id, character_id) "
            "SELECT id, %s FROM projects WHERE slug = %s",
            (character, project),
        )
    if not ready:
        return
    image = conn.execute(
        """INSERT INTO source_images (character_id, original_name, uri, sha256, width, height,
                                      format, qa_status, is_primary, primary_by)
           VALUES (%s, 'face.png', %s, %s, 512, 512, 'PNG', 'passed', true, 'qa')
           RETURNING id""",
        (character, f"file:///library/{slug}/face.png", SHA),
    ).fetchone()[0]
    conn.execute("SELECT ensure_face_model('test-faces', 4)")
    conn.execute(
        """INSERT INTO character_identities (character_id, model, centroid, samples, same_min,
                                             same_p05, same_median, threshold)
           VALUES (%s, 'test-faces', '[1,0,0,0]', 3, 0.5, 0.6, 0.8, 0.4)""",
        (character,),
    )
    conn.execute(
        "INSERT INTO image_variants (source_image_id, kind, width, height, uri, sha256) "
        "VALUES (%s, 'crop', 512, 512, %s, %s)",
        (image, f"file:///library/{slug}/crop.png", SHA),
    )


def make_scene_type(
    conn: psycopg.Connection,
    slug: str,
    width: int = 512,
    height: int = 512,
    fps: int = 24,
    duration_s: float = 6,
    segment_s: float = 2,
) -> None:
    """Define (or re-version) a scene type of this shape."""
    define(
        conn,
        Definition(
            slug,
            slug.title(),
            settings={
                "target_duration_s": duration_s,
                "segment_duration_s": segment_s,
                "fps": fps,
                "width": width,
                "height": height,
            },
        ),
    )


def add_take(
    conn: psycopg.Connection,
    character: str,
    scene_type: str,
    attempts: list[list[float]],
    *,
    project: str = "moonbase",
    status: str = "assembled",
    width: int = 512,
    height: int = 512,
    fps: str = "24",
    frames: int = 48,
) -> int:
    """A take whose segment i was tried len(attempts[i]) times, each attempt using the GPU
    seconds given (all but the last refused by QA); returns its scene id."""
    scene = conn.execute(
        """INSERT INTO scenes (project_id, character_id, scene_type_id, scene_type_version_id,
                               take, status, planned_segments)
           SELECT p.id, c.id, t.id,
                  (SELECT max(v.id) FROM scene_type_versions v WHERE v.scene_type_id = t.id),
                  (SELECT coalesce(max(s.take), 0) + 1 FROM scenes s
                    WHERE s.project_id = p.id AND s.character_id = c.id
                      AND s.scene_type_id = t.id), %s, %s
             FROM projects p, characters c, scene_types t
            WHERE p.slug = %s AND c.slug = %s AND t.slug = %s
           RETURNING id""",
        (status, len(attempts), project, character, scene_type),
    ).fetchone()[0]
    for index, costs in enumerate(attempts):
        for attempt, compute_s in enumerate(costs, start=1):
            passed = attempt == len(costs)
            conn.execute(
                """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                         provenance, current)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    scene,
                    index,
                    attempt,
                    "qa_passed" if passed else "qa_failed",
                    f"file:///scenes/{scene}/{index}-{attempt}.mp4",
                    SHA,
                    frames,
                    Jsonb(
                        {
                            "compute_s": compute_s,
                            "width": width,
                            "height": height,
                            "fps": fps,
                            "scene_type": scene_type,
                        }
                    ),
                    passed,
                ),
            )
    return scene
