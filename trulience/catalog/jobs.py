"""What runs and waits now, for the Studio's job tray (PRD-54), in one query: the segments
running on a worker and those waiting for a slot (the segment queue), the takes being made
(segments committed of planned) and the batches queued or running."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.fetch import many


@dataclass(frozen=True, slots=True)
class Job:
    """One line of the tray: its kind (running, waiting, take, batch), key (a lease, a
    request, a take's or a batch's id), a title, a line about it, and its progress (`done`
    of `total`, total None when unknown); `take` is the take it is about, if any."""

    kind: str
    key: int
    title: str
    detail: str
    done: int
    total: int | None
    take: int | None


def active_jobs(conn: psycopg.Connection, limit: int = 20) -> list[Job]:
    """Running segments, waiting segments (first in line first), takes being made and live
    batches, at most `limit` of each kind."""
    return many(
        conn,
        Job,
        """(SELECT 'running' AS kind, l.id AS key, l.holder AS title,
                   w.name || ' (' || w.pool || ')' ||
                   CASE WHEN l.purpose <> '' THEN ' · ' || l.purpose ELSE '' END AS detail,
                   extract(epoch FROM now() - l.leased_at)::int AS done,
                   NULL::int AS total, NULL::bigint AS take
              FROM worker_leases l JOIN workers w ON w.id = l.worker_id
             WHERE l.released_at IS NULL AND l.expires_at > now()
             ORDER BY l.leased_at LIMIT %(limit)s)
           UNION ALL (
            SELECT 'waiting', q.id,
                   CASE WHEN q.scene_id IS NULL THEN q.holder
                        ELSE 'take #' || q.scene_id || ' segment ' || coalesce(q.segment, 0) END,
                   q.pool || ' #' || q.position ||
                   CASE WHEN q.reason IS NOT NULL THEN ' · ' || q.reason ELSE '' END,
                   q.position::int, NULL, q.scene_id
              FROM segment_queue q ORDER BY q.position, q.requested_at LIMIT %(limit)s)
           UNION ALL (
            SELECT 'take', s.id, c.name || ' · ' || t.name || ' · take ' || s.take,
                   s.status || CASE WHEN s.control <> 'run' THEN ' · ' || s.control ELSE '' END,
                   (SELECT count(*) FROM segments g
                     WHERE g.scene_id = s.id AND g.current AND g.status = 'qa_passed')::int,
                   s.planned_segments, s.id
              FROM scenes s JOIN characters c ON c.id = s.character_id
              JOIN scene_types t ON t.id = s.scene_type_id
             WHERE s.status IN ('pending', 'generating')
             ORDER BY s.updated_at DESC LIMIT %(limit)s)
           UNION ALL (
            SELECT 'batch', b.id, 'batch ' || b.id || ' · ' || p.slug,
                   b.status || ' · priority ' || b.priority,
                   (SELECT count(*) FROM batch_items i JOIN scenes s ON s.id = i.scene_id
                     WHERE i.batch_id = b.id AND s.status IN ('generated', 'assembled',
                                                             'failed', 'qa_failed',
                                                             'cancelled'))::int,
                   (SELECT count(*) FROM batch_items i WHERE i.batch_id = b.id)::int, NULL
              FROM batches b JOIN projects p ON p.id = b.project_id
             WHERE b.status IN ('queued', 'running')
             ORDER BY b.created_at DESC LIMIT %(limit)s)""",
        {"limit": limit},
    )
