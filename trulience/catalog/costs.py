"""The generation history cost estimates learn from: every past segment with recorded GPU
time (`compute_s` in its attempts' provenance). trulience/production/cost.py estimates."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class SegmentCost:
    """One segment of one past take, its attempts summed, as the provenance recorded it."""

    scene_id: int
    scene_type: str
    width: int
    height: int
    fps: str
    frames: int
    attempts: int
    gpu_seconds: float


def segment_costs(conn: psycopg.Connection) -> list[SegmentCost]:
    """Every past segment whose attempts recorded GPU seconds, size, fps and frames (all its
    attempts summed), newest first."""
    return many(
        conn,
        SegmentCost,
        """SELECT g.scene_id, t.slug AS scene_type, (g.provenance ->> 'width')::int AS width,
                  (g.provenance ->> 'height')::int AS height, g.provenance ->> 'fps' AS fps,
                  max(g.frames) AS frames, count(*) AS attempts,
                  sum((g.provenance ->> 'compute_s')::float8) AS gpu_seconds
             FROM segments g
             JOIN scenes s ON s.id = g.scene_id
             JOIN scene_types t ON t.id = s.scene_type_id
            WHERE jsonb_typeof(g.provenance -> 'compute_s') = 'number'
              AND jsonb_typeof(g.provenance -> 'width') = 'number'
              AND jsonb_typeof(g.provenance -> 'height') = 'number'
              AND g.provenance ? 'fps' AND g.frames IS NOT NULL
            GROUP BY g.scene_id, g.index, t.slug, 3, 4, 5
            ORDER BY max(g.created_at) DESC, g.scene_id DESC, g.index DESC""",
    )
