"""What the lake holds of the catalog (PRD-73): each dimension, exported whole, and each
day-partitioned fact, with the SQL that reads it and the schema it is written with.
Shared rules are the catalog's views (take_decisions, the readiness `ready` column), read
here as every other reader reads them.

Why this module is long: it is the lake's register of what it holds of the catalog, one
short entry per dataset (its SQL beside the schema it is written with); split, a dataset's
reader and writer would drift apart."""

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Dimension:
    name: str
    schema: pa.Schema
    sql: str


@dataclass(frozen=True)
class Fact:
    """A day-partitioned fact: `changed_sql` lists the days touched since %(since)s,
    `rows_sql` returns every row of the days in %(days)s."""

    name: str
    schema: pa.Schema
    day_column: str
    changed_sql: str
    rows_sql: str


DIMENSIONS = [
    Dimension(
        "projects",
        pa.schema(
            [
                ("project_id", pa.int64()),
                ("project", pa.string()),
                ("name", pa.string()),
                ("status", pa.string()),
                ("created_at", TS),
            ]
        ),
        "SELECT id, slug, name, status, created_at FROM projects ORDER BY id",
    ),
    Dimension(
        "characters",
        pa.schema(
            [
                ("character_id", pa.int64()),
                ("character", pa.string()),
                ("name", pa.string()),
                ("created_at", TS),
            ]
        ),
        "SELECT id, slug, name, created_at FROM characters ORDER BY id",
    ),
    Dimension(
        "project_characters",
        pa.schema(
            [
                ("project", pa.string()),
                ("character", pa.string()),
                ("ready", pa.bool_()),
                ("added_at", TS),
            ]
        ),
        """SELECT p.slug, c.slug, coalesce(r.ready, false), pc.added_at
             FROM project_characters pc
             JOIN projects p ON p.id = pc.project_id
             JOIN characters c ON c.id = pc.character_id
             LEFT JOIN character_readiness r ON r.character_id = c.id
            ORDER BY 1, 2""",
    ),
    Dimension(
        "scene_types",
        pa.schema(
            [
                ("scene_type_id", pa.int64()),
                ("scene_type", pa.string()),
                ("name", pa.string()),
                ("parent", pa.string()),
                ("versions", pa.int32()),
            ]
        ),
        """SELECT t.id, t.slug, t.name, p.slug,
                  (SELECT count(*)::int FROM scene_type_versions v WHERE v.scene_type_id = t.id)
             FROM scene_types t LEFT JOIN scene_types p ON p.id = t.parent_id ORDER BY t.id""",
    ),
    Dimension(
        "workers",
        pa.schema(
            [
                ("worker_id", pa.int64()),
                ("worker", pa.string()),
                ("pool", pa.string()),
                ("slots", pa.int32()),
                ("state", pa.string()),
                ("gpu", pa.string()),
                ("last_seen_at", TS),
            ]
        ),
        """SELECT id, name, pool, slots, state,
                  capabilities #>> '{devices,0}', last_seen_at
             FROM workers ORDER BY id""",
    ),
]


def _fps(expr: str) -> str:
    """SQL for a frame rate stored as text, "24" or "30000/1001", as a float."""
    return (
        f"(CASE WHEN ({expr}) LIKE '%%/%%' THEN split_part({expr}, '/', 1)::float8 "
        f"/ split_part({expr}, '/', 2)::float8 ELSE ({expr})::float8 END)"
    )


DIMENSIONS += [
    Dimension(
        "batches",
        pa.schema(
            [
                ("batch_id", pa.int64()),
                ("project", pa.string()),
                ("priority", pa.int32()),
                ("status", pa.string()),
                ("requested_by", pa.string()),
                ("takes", pa.int64()),
                ("delivered", pa.int64()),
                ("estimate_gpu_s", pa.float64()),
                ("estimate_low_s", pa.float64()),
                ("estimate_high_s", pa.float64()),
                ("actual_gpu_s", pa.float64()),
                ("created_at", TS),
                ("launched_at", TS),
            ]
        ),
        # what each batch was estimated to cost against what its takes used (PRD-61)
        """SELECT b.id, p.slug, b.priority, b.status, b.requested_by,
                  count(i.item_id), count(i.item_id) FILTER (WHERE i.state = 'delivered'),
                  b.estimate_gpu_s::float8, b.estimate_low_s::float8,
                  b.estimate_high_s::float8, coalesce(sum(i.gpu_seconds), 0)::float8,
                  b.created_at, b.launched_at
             FROM batches b
             JOIN projects p ON p.id = b.project_id
             LEFT JOIN batch_item_states i ON i.batch_id = b.id
            GROUP BY b.id, p.slug ORDER BY b.id""",
    ),
    Dimension(
        "budgets",
        pa.schema(
            [
                ("project", pa.string()),
                ("gpu_seconds_limit", pa.float64()),
                ("policy", pa.string()),
                ("cost_per_gpu_hour", pa.float64()),
                ("currency", pa.string()),
            ]
        ),
        """SELECT p.slug, b.gpu_seconds_limit::float8, b.policy, b.cost_per_gpu_hour::float8,
                  b.currency
             FROM project_budgets b JOIN projects p ON p.id = b.project_id ORDER BY 1""",
    ),
]

# The consistency of each character's identity across its takes (PRD-94): the catalog's
# view take_consistency holds the rule (median and MAD, the cut, the band), read whole.
DIMENSIONS.append(
    Dimension(
        "consistency",
        pa.schema(
            [
                ("scene_id", pa.int64()),
                ("project", pa.string()),
                ("character", pa.string()),
                ("scene_type", pa.string()),
                ("take", pa.int32()),
                ("revision", pa.int32()),
                ("segments", pa.int64()),
                ("median_identity", pa.float64()),
                ("min_identity", pa.float64()),
                ("threshold", pa.float64()),
                ("character_takes", pa.int64()),
                ("character_median", pa.float64()),
                ("mad", pa.float64()),
                ("z_score", pa.float64()),
                ("outlier", pa.bool_()),
                ("reason", pa.string()),
            ]
        ),
        """SELECT k.scene_id, p.slug, c.slug, t.slug, k.take, k.revision, k.segments,
                  k.median_identity, k.min_identity, k.threshold, k.character_takes,
                  k.character_median, k.mad, k.z_score, k.outlier, k.reason
             FROM take_consistency k
             JOIN projects p ON p.id = k.project_id
             JOIN characters c ON c.id = k.character_id
             JOIN scene_types t ON t.id = k.scene_type_id
            ORDER BY c.slug, t.slug, p.slug, k.take, k.scene_id""",
    )
)

_SCENE_CHANGES = """
    SELECT DISTINCT (s.created_at AT TIME ZONE 'UTC')::date FROM scenes s
     -- a new revision of a take is an update of its row (uri, sha256): updated_at covers it
     WHERE s.updated_at > %(since)s
        OR EXISTS (SELECT 1 FROM reviews r WHERE r.scene_id = s.id AND r.created_at > %(since)s)
        OR EXISTS (SELECT 1 FROM deliverables d
                    WHERE d.scene_id = s.id AND d.updated_at > %(since)s)
        -- a newer take makes the older ones no longer the latest
        OR (s.project_id, s.character_id, s.scene_type_id) IN (
               SELECT project_id, character_id, scene_type_id FROM scenes
                WHERE created_at > %(since)s)"""

FACTS = [
    Fact(
        "scenes",
        pa.schema(
            [
                ("scene_id", pa.int64()),
                ("project", pa.string()),
                ("character", pa.string()),
                ("scene_type", pa.string()),
                ("scene_type_version", pa.int32()),
                ("take", pa.int32()),
                ("latest", pa.bool_()),
                ("status", pa.string()),
                ("frames", pa.int64()),
                ("fps", pa.float64()),
                ("width", pa.int32()),
                ("height", pa.int32()),
                ("video_s", pa.float64()),
                ("planned_segments", pa.int32()),
                ("review_decision", pa.string()),
                ("reviewer", pa.string()),
                ("reviewed_at", TS),
                ("delivered_at", TS),
                ("created_at", TS),
                ("updated_at", TS),
            ]
        ),
        "created_at",
        _SCENE_CHANGES,
        f"""SELECT s.id, p.slug, c.slug, t.slug, v.version, s.take, s.take = newest.take,
                  s.status, s.frames,
                  {_fps("s.effective_config ->> 'fps'")},
                  (s.effective_config ->> 'width')::int, (s.effective_config ->> 'height')::int,
                  s.frames / nullif({_fps("s.effective_config ->> 'fps'")}, 0),
                  s.planned_segments, r.decision, u.username, r.decided_at, d.updated_at,
                  s.created_at, s.updated_at
             FROM scenes s
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             JOIN scene_type_versions v ON v.id = s.scene_type_version_id
             -- one pass over all takes (a correlated NOT EXISTS goes quadratic when a
             -- character has thousands of takes of one scene type)
             JOIN (SELECT project_id, character_id, scene_type_id, max(take) AS take
                     FROM scenes GROUP BY 1, 2, 3) newest
               ON (newest.project_id, newest.character_id, newest.scene_type_id)
                  = (s.project_id, s.character_id, s.scene_type_id)
             -- the decision in force on the take's newest revision: the review queue's
             -- own rule (a take reassembled after a rejection awaits review again)
             LEFT JOIN take_decisions r ON r.scene_id = s.id
             LEFT JOIN users u ON u.id = r.reviewer_id
             LEFT JOIN LATERAL (SELECT updated_at FROM deliverables
                                 WHERE scene_id = s.id AND status IN ('packaged', 'delivered')
                                 ORDER BY updated_at DESC LIMIT 1) d ON true
            WHERE (s.created_at AT TIME ZONE 'UTC')::date = ANY(%(days)s)
            ORDER BY s.id""",
    ),
    Fact(
        "segments",
        pa.schema(
            [
                ("segment_id", pa.int64()),
                ("scene_id", pa.int64()),
                ("project", pa.string()),
                ("character", pa.string()),
                ("scene_type", pa.string()),
                ("take", pa.int32()),
                ("index", pa.int32()),
                ("attempt", pa.int32()),
                ("status", pa.string()),
                ("current", pa.bool_()),
                ("frames", pa.int64()),
                ("fps", pa.float64()),
                ("width", pa.int32()),
                ("height", pa.int32()),
                ("video_s", pa.float64()),
                ("compute_s", pa.float64()),
                ("backend", pa.string()),
                ("worker", pa.string()),
                ("workflow", pa.string()),
                ("seed", pa.int64()),
                ("qa_passed", pa.bool_()),
                ("failed_gates", pa.list_(pa.string())),
                ("identity", pa.float64()),
                ("run_id", pa.string()),
                ("started_at", TS),
                ("finished_at", TS),
                ("created_at", TS),
                ("updated_at", TS),
            ]
        ),
        "created_at",
        """SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM segments
            WHERE updated_at > %(since)s""",
        f"""SELECT g.id, g.scene_id, p.slug, c.slug, t.slug, s.take, g.index, g.attempt,
                  g.status, g.current, g.frames,
                  {_fps("g.provenance ->> 'fps'")},
                  (g.provenance ->> 'width')::int, (g.provenance ->> 'height')::int,
                  g.frames / nullif({_fps("g.provenance ->> 'fps'")}, 0),
                  (g.provenance ->> 'compute_s')::float8,
                  g.provenance ->> 'backend',
                  coalesce(g.provenance ->> 'worker', g.provenance ->> 'backend'),
                  coalesce(g.provenance ->> 'workflow', '(none)'),
                  (g.provenance ->> 'seed')::bigint,
                  (g.qa ->> 'passed')::boolean,
                  ARRAY(SELECT jsonb_array_elements_text(coalesce(g.qa -> 'failed', '[]'))),
                  (SELECT (x ->> 'value')::float8 FROM jsonb_array_elements(g.qa -> 'gates') x
                    WHERE x ->> 'name' = 'identity' LIMIT 1),
                  g.provenance ->> 'run_id',
                  (g.provenance ->> 'started_at')::timestamptz,
                  (g.provenance ->> 'finished_at')::timestamptz,
                  g.created_at, g.updated_at
             FROM segments g
             JOIN scenes s ON s.id = g.scene_id
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
            WHERE (g.created_at AT TIME ZONE 'UTC')::date = ANY(%(days)s)
            ORDER BY g.id""",
    ),
    Fact(
        "qa_gates",
        pa.schema(
            [
                ("segment_id", pa.int64()),
                ("scene_id", pa.int64()),
                ("project", pa.string()),
                ("character", pa.string()),
                ("scene_type", pa.string()),
                ("index", pa.int32()),
                ("attempt", pa.int32()),
                ("workflow", pa.string()),
                ("worker", pa.string()),
                ("gate", pa.string()),
                ("passed", pa.bool_()),
                ("value", pa.float64()),
                ("value_text", pa.string()),
                ("threshold", pa.float64()),
                ("created_at", TS),
            ]
        ),
        "created_at",
        """SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM segments
            WHERE updated_at > %(since)s""",
        """SELECT g.id, g.scene_id, p.slug, c.slug, t.slug, g.index, g.attempt,
                  coalesce(g.provenance ->> 'workflow', '(none)'),
                  coalesce(g.provenance ->> 'worker', g.provenance ->> 'backend'),
                  x ->> 'name', (x ->> 'passed')::boolean,
                  CASE WHEN jsonb_typeof(x -> 'value') = 'number'
                       THEN (x ->> 'value')::float8 END,
                  x ->> 'value',
                  CASE WHEN jsonb_typeof(x -> 'threshold') = 'number'
                       THEN (x ->> 'threshold')::float8 END,
                  g.created_at
             FROM segments g
             JOIN scenes s ON s.id = g.scene_id
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             CROSS JOIN LATERAL jsonb_array_elements(coalesce(g.qa -> 'gates', '[]')) x
            WHERE (g.created_at AT TIME ZONE 'UTC')::date = ANY(%(days)s)
            ORDER BY g.id, x ->> 'name'""",
    ),
    Fact(
        "reviews",
        pa.schema(
            [
                ("review_id", pa.int64()),
                ("scene_id", pa.int64()),
                ("project", pa.string()),
                ("character", pa.string()),
                ("scene_type", pa.string()),
                ("reviewer", pa.string()),
                ("role", pa.string()),
                ("decision", pa.string()),
                ("created_at", TS),
            ]
        ),
        "created_at",
        """SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM reviews
            WHERE created_at > %(since)s""",
        """SELECT r.id, r.scene_id, p.slug, c.slug, t.slug, u.username, u.role, r.decision,
                  r.created_at
             FROM reviews r
             JOIN users u ON u.id = r.reviewer_id
             JOIN scenes s ON s.id = r.scene_id
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
            WHERE (r.created_at AT TIME ZONE 'UTC')::date = ANY(%(days)s)
            ORDER BY r.id""",
    ),
]

DATASETS = {d.name: d.schema for d in DIMENSIONS} | {f.name: f.schema for f in FACTS}
