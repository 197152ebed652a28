-- The queue page (issue 15, PRD-08) follows the segment queue live: besides a grant (0026),
-- the catalog announces on `trulience_pool`, at commit, whatever reorders or changes what a
-- pool runs, so no writer (the CLI, the pipeline, another page) can forget to:
--   {"kind": "request" | "take" | "batch" | "lease" | "worker",
--    "action": "insert" | "update" | "delete", "pool": <pool or null>, "scene_id": <take or null>}
-- A waiter for a grant matches its own request id (a payload with "request") and ignores
-- these; a page re-reads the queue through the workers' service. Renewals (a request's
-- alive_until, a lease's heartbeat, a worker's last_seen_at) are not announced: they change
-- no order and happen every few seconds.

CREATE FUNCTION announce_pool(kind text, action text, pool_name text, take_id bigint)
RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_notify('trulience_pool', json_build_object(
        'kind', kind, 'action', action, 'pool', pool_name, 'scene_id', take_id)::text);
$$;

-- a segment request made, given up or taken away
CREATE FUNCTION announce_segment_request() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    row segment_requests := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM announce_pool('request', lower(TG_OP), row.pool, row.scene_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER segment_requests_made AFTER INSERT OR DELETE ON segment_requests
    FOR EACH ROW EXECUTE FUNCTION announce_segment_request();
CREATE TRIGGER segment_requests_given_up AFTER UPDATE OF given_up_at ON segment_requests
    FOR EACH ROW WHEN (OLD.given_up_at IS NULL AND NEW.given_up_at IS NOT NULL)
    EXECUTE FUNCTION announce_segment_request();

-- a take's own priority or its control (run / pause / cancel) set
CREATE FUNCTION announce_take_in_pool() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM announce_pool('take', 'update', NULL, NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER scenes_pool_announced AFTER UPDATE OF priority, control ON scenes
    FOR EACH ROW WHEN (OLD.priority IS DISTINCT FROM NEW.priority
                       OR OLD.control IS DISTINCT FROM NEW.control)
    EXECUTE FUNCTION announce_take_in_pool();

-- a batch's priority (its takes' priority where they have none of their own) or status
CREATE FUNCTION announce_batch_in_pool() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM announce_pool('batch', 'update', NULL, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER batches_pool_announced AFTER UPDATE OF priority, status ON batches
    FOR EACH ROW WHEN (OLD.priority IS DISTINCT FROM NEW.priority
                       OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION announce_batch_in_pool();

-- a lease taken or released (a slot busy or free)
CREATE FUNCTION announce_lease() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM announce_pool('lease', lower(TG_OP),
                          (SELECT w.pool FROM workers w WHERE w.id = NEW.worker_id), NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER worker_leases_taken AFTER INSERT ON worker_leases
    FOR EACH ROW EXECUTE FUNCTION announce_lease();
CREATE TRIGGER worker_leases_released AFTER UPDATE OF released_at ON worker_leases
    FOR EACH ROW WHEN (OLD.released_at IS NULL AND NEW.released_at IS NOT NULL)
    EXECUTE FUNCTION announce_lease();

-- a worker added, removed, drained, back online, or its slots or queue depth changed
CREATE FUNCTION announce_worker() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    row workers := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM announce_pool('worker', lower(TG_OP), row.pool, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER workers_pool_announced AFTER INSERT OR DELETE ON workers
    FOR EACH ROW EXECUTE FUNCTION announce_worker();
CREATE TRIGGER workers_pool_changed AFTER UPDATE OF state, slots, queue_depth, pool ON workers
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.slots IS DISTINCT FROM NEW.slots
                       OR OLD.queue_depth IS DISTINCT FROM NEW.queue_depth
                       OR OLD.pool IS DISTINCT FROM NEW.pool)
    EXECUTE FUNCTION announce_worker();
