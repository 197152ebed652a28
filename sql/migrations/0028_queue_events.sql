-- Live queue (PRD-11, PRD-92): every open review page's queue and branch list follow what
-- another reviewer, the CLI or the pipeline changed, without a refresh. As for notes and
-- decisions (0022), the catalog itself announces each change, at commit, on the channel
-- `trulience_queue`, so no writer can forget to. The payload names what changed and on
-- which take, never more:
--   {"kind": "decision" | "assignment" | "take" | "revision" | "promotion",
--    "action": "insert" | "update" | "delete", "scene_id": <take>}
-- A page re-reads its queue (and the open take's branches) through the review service.

CREATE FUNCTION announce_queue(kind text, action text, take_id bigint) RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_notify('trulience_queue', json_build_object(
        'kind', kind, 'action', action, 'scene_id', take_id)::text);
$$;

-- A decision made, superseded or taken back, and a take assigned or unassigned: each
-- changes a queue row's status or assignee.
CREATE FUNCTION announce_queue_row() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM announce_queue(TG_ARGV[0], lower(TG_OP),
                           CASE WHEN TG_OP = 'DELETE' THEN OLD.scene_id ELSE NEW.scene_id END);
    RETURN NULL;
END
$$;
CREATE TRIGGER reviews_queue_announced AFTER INSERT OR UPDATE OR DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION announce_queue_row('decision');
CREATE TRIGGER take_assignments_queue_announced
    AFTER INSERT OR UPDATE OR DELETE ON take_assignments
    FOR EACH ROW EXECUTE FUNCTION announce_queue_row('assignment');
-- a take assembled again after a rejection: its new revision awaits review
CREATE TRIGGER scene_revisions_queue_announced AFTER INSERT ON scene_revisions
    FOR EACH ROW EXECUTE FUNCTION announce_queue_row('revision');

-- A new take (a branch opened), a take's machine state moving on (assembled: it joins the
-- queue) and a take promoted to its cell's current one (or that promotion withdrawn).
CREATE FUNCTION announce_take() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM announce_queue('take', 'insert', NEW.id);
    ELSIF NEW.promoted IS DISTINCT FROM OLD.promoted THEN
        PERFORM announce_queue('promotion', 'update', NEW.id);
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.branch IS DISTINCT FROM OLD.branch THEN
        PERFORM announce_queue('take', 'update', NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER scenes_queue_announced AFTER INSERT OR UPDATE ON scenes
    FOR EACH ROW EXECUTE FUNCTION announce_take();
