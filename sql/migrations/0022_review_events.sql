-- Live review (PRD-11): other reviewers' notes and decisions reach every open review page
-- without a refresh. The catalog itself announces each change on the channel
-- `trulience_review` (Postgres NOTIFY, delivered at commit, dropped on rollback), so no
-- writer (the app, the CLI, a sensor, a test) can forget to, and a page only hears of what
-- was committed. The payload names what changed and where, never its text:
--   {"kind": "note" | "decision", "action": "insert" | "update" | "delete",
--    "scene_id": <take>, "id": <row>, "by": <display name>, ...}
-- with "frame" for a note and "decision" for a decision. A page re-reads what it shows
-- through the review service, so permissions hold as for any read.
--
-- Drawings are saved with their note (one transaction): the note's event covers them, so
-- note_drawings has no trigger of its own. The review room's presenter publishes on
-- `trulience_room` from the app (trulience.catalog.events.publish); no table is involved.

-- A note on a take, or on one of its segments (the take of that segment); notes on a
-- project or a character belong to no open take and are not announced.
CREATE FUNCTION announce_note() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    take_id bigint := coalesce(NEW.scene_id,
                               (SELECT g.scene_id FROM segments g WHERE g.id = NEW.segment_id));
BEGIN
    IF take_id IS NOT NULL THEN
        PERFORM pg_notify('trulience_review', json_build_object(
            'kind', 'note', 'action', lower(TG_OP), 'scene_id', take_id, 'id', NEW.id,
            'by', (SELECT u.display_name FROM users u WHERE u.id = NEW.author_id),
            'frame', NEW.frame, 'reply', NEW.parent_id IS NOT NULL)::text);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notes_announced AFTER INSERT OR UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION announce_note();

-- A decision made, superseded or taken back (Undo deletes it): each changes what the take
-- awaits, so each is announced.
CREATE FUNCTION announce_decision() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    review reviews := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM pg_notify('trulience_review', json_build_object(
        'kind', 'decision', 'action', lower(TG_OP), 'scene_id', review.scene_id,
        'id', review.id,
        'by', (SELECT u.display_name FROM users u WHERE u.id = review.reviewer_id),
        'decision', review.decision)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER reviews_announced AFTER INSERT OR UPDATE OR DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION announce_decision();
