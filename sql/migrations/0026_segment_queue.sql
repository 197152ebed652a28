-- The segment queue (issue 15: PRD-07, 08, 87). Every segment that needs a GPU asks for a
-- slot of its pool by a row here, and waits; a slot is given to the first request in the
-- queue's order that a free worker can run, when it is asked for, when a lease is released,
-- when a worker comes online, and when a waiter's periodic look finds one free. A request is
-- granted exactly once (its lease), or given up by its waiter (cancelled, timed out).
--
-- The order is a shared rule, so it is a view: higher priority first, then older. A take's
-- priority is its own (scenes.priority, set by a producer), else its batch's, else 0; both
-- are read live, so raising a take's or a batch's priority moves their waiting segments
-- ahead at once. A request without a take keeps the priority it was made with.
ALTER TABLE scenes
    ADD COLUMN priority smallint
        CONSTRAINT scenes_priority_range CHECK (priority BETWEEN -100 AND 100);
COMMENT ON CONSTRAINT scenes_priority_range ON scenes IS
    'a take''s priority is between -100 and 100 (higher runs first)';

CREATE VIEW take_priorities AS
SELECT s.id AS scene_id,
       coalesce(s.priority, (SELECT max(b.priority) FROM batch_items i
                               JOIN batches b ON b.id = i.batch_id
                              WHERE i.scene_id = s.id), 0)::smallint AS priority
  FROM scenes s;

-- A worker is given its slots' segments plus `queue_depth` more, which wait in ComfyUI's own
-- queue: the GPU starts the next segment the moment one ends, instead of idling while one
-- client downloads its result and the next uploads its seed frame (PRD-87).
ALTER TABLE workers
    ADD COLUMN queue_depth smallint NOT NULL DEFAULT 1
        CONSTRAINT workers_queue_depth_range CHECK (queue_depth BETWEEN 0 AND 8);
COMMENT ON CONSTRAINT workers_queue_depth_range ON workers IS
    'a worker queues between 0 and 8 segments beyond its slots';

CREATE TABLE segment_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pool         text NOT NULL CONSTRAINT segment_requests_pool_not_blank CHECK (btrim(pool) <> ''),
    scene_id     bigint REFERENCES scenes (id) ON DELETE CASCADE,
    segment      integer CONSTRAINT segment_requests_segment_not_negative CHECK (segment >= 0),
    holder       text NOT NULL CONSTRAINT segment_requests_holder_not_blank CHECK (btrim(holder) <> ''),
    purpose      text NOT NULL DEFAULT '',
    priority     smallint NOT NULL DEFAULT 0
                 CONSTRAINT segment_requests_priority_range CHECK (priority BETWEEN -100 AND 100),
    -- what a worker must have: {"node_classes": [...], "models": {"folder": [...]}}
    requires     jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT segment_requests_requires_object CHECK (jsonb_typeof(requires) = 'object'),
    -- workers that lost this segment and have not passed a health check since
    excluded     bigint[] NOT NULL DEFAULT '{}',
    ttl_s        double precision NOT NULL
                 CONSTRAINT segment_requests_ttl_positive CHECK (ttl_s > 0),
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- why no worker has taken it yet (busy, offline, lacking a model ...), as last reported
    reason       text,
    -- its waiter renews this while it waits: a request whose waiter died lapses, as a lease
    alive_until  timestamptz NOT NULL,
    lease_id     bigint UNIQUE REFERENCES worker_leases (id) ON DELETE SET NULL,
    granted_at   timestamptz,
    given_up_at  timestamptz,
    CONSTRAINT segment_requests_granted_once CHECK (granted_at IS NULL OR given_up_at IS NULL)
);
COMMENT ON CONSTRAINT segment_requests_granted_once ON segment_requests IS
    'a segment request is either granted a slot or given up, never both';
-- Who asked for which GPU and when it was given is what an operator looks back on: audited,
-- as leases are.
SELECT track_table('segment_requests');
INSERT INTO audit_policy (table_name, column_name, treatment, reason) VALUES
    ('segment_requests', 'alive_until', 'stamp', 'renewed every few seconds while it waits (0026)');
CREATE INDEX segment_requests_waiting_idx ON segment_requests (pool, requested_at)
    WHERE granted_at IS NULL AND given_up_at IS NULL;

CREATE VIEW segment_queue AS
SELECT r.id, r.pool, r.scene_id, r.segment, r.holder, r.purpose,
       coalesce(t.priority, r.priority) AS priority, r.requires, r.excluded, r.ttl_s,
       r.requested_at, r.reason,
       row_number() OVER (PARTITION BY r.pool
                          ORDER BY coalesce(t.priority, r.priority) DESC, r.requested_at, r.id)
           AS position
  FROM segment_requests r
  LEFT JOIN take_priorities t ON t.scene_id = r.scene_id
 WHERE r.granted_at IS NULL AND r.given_up_at IS NULL AND r.alive_until > now();

-- A grant is announced on `trulience_pool` at commit, so its waiter wakes at once instead of
-- polling: {"request": <id>, "pool": <pool>}.
CREATE FUNCTION announce_grant() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('trulience_pool',
                      json_build_object('request', NEW.id, 'pool', NEW.pool)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER segment_requests_granted AFTER UPDATE OF granted_at ON segment_requests
    FOR EACH ROW WHEN (OLD.granted_at IS NULL AND NEW.granted_at IS NOT NULL)
    EXECUTE FUNCTION announce_grant();
