-- Revisions of a take and decisions that belong to them (issue 12, section 5).
--
-- A take (a scenes row) is assembled again after a reviewer sends a segment back: each new
-- assembled file is a new revision of the same take. A review judges one revision, so a
-- rejected take whose segment was regenerated is reviewable again, and an approval never
-- carries over to a file nobody has seen. One rule, the view take_decisions below, says
-- which revision is current, what was decided on it and whether the take awaits review;
-- the review queue, the approvals and regeneration sensors and delivery all read it.

-- Every assembled file of a take, numbered from 1. uri/sha256 are NULL only for a revision
-- whose file is no longer known: one judged before this migration and since replaced.
CREATE TABLE scene_revisions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id   bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    revision   integer NOT NULL CONSTRAINT scene_revisions_revision_positive CHECK (revision > 0),
    uri        text CONSTRAINT scene_revisions_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256     text CONSTRAINT scene_revisions_sha256_format CHECK (is_sha256(sha256)),
    frames     integer CONSTRAINT scene_revisions_frames_not_negative CHECK (frames >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scene_revisions_one_number_per_take UNIQUE (scene_id, revision)
);
COMMENT ON CONSTRAINT scene_revisions_one_number_per_take ON scene_revisions IS
    'a take has one revision of each number';

-- Existing takes. A take assembled again after its last review (a current segment committed
-- after it: the rejected segment's retake) was judged as an earlier revision whose file was
-- overwritten; its present file is revision 2, undecided. Every other assembled or
-- reviewed take is revision 1 as it stands.
WITH judged AS (
    SELECT s.id, s.uri, s.sha256, s.frames, s.status,
           (SELECT max(r.created_at) FROM reviews r WHERE r.scene_id = s.id) AS last_review,
           (SELECT max(g.created_at) FROM segments g
             WHERE g.scene_id = s.id AND g.current) AS last_segment
      FROM scenes s
), marked AS (
    SELECT j.*, (j.status = 'assembled' AND j.last_segment > j.last_review) AS reassembled
      FROM judged j
     WHERE j.status = 'assembled' OR j.last_review IS NOT NULL
)
INSERT INTO scene_revisions (scene_id, revision, uri, sha256, frames)
SELECT id, 1, CASE WHEN reassembled THEN NULL ELSE uri END,
       CASE WHEN reassembled THEN NULL ELSE sha256 END,
       CASE WHEN reassembled THEN NULL ELSE frames END
  FROM marked
UNION ALL
SELECT id, 2, uri, sha256, frames FROM marked WHERE reassembled;

-- A new revision is recorded by the catalog itself whenever a take is assembled with a new
-- file (whoever writes it: assembly, a repair, a test), so no writer can forget it. The
-- same file again (a re-run that changed nothing) stays the same revision; a revision
-- recorded before its file was known (NULL sha256) is given the file.
CREATE FUNCTION record_scene_revision() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    newest scene_revisions;
BEGIN
    SELECT * INTO newest FROM scene_revisions WHERE scene_id = NEW.id
     ORDER BY revision DESC LIMIT 1;
    IF newest.id IS NOT NULL AND newest.sha256 IS NULL AND newest.uri IS NULL
       AND NOT EXISTS (SELECT 1 FROM reviews r
                        WHERE r.scene_id = NEW.id AND r.revision = newest.revision) THEN
        UPDATE scene_revisions SET uri = NEW.uri, sha256 = NEW.sha256, frames = NEW.frames
         WHERE id = newest.id;
    ELSIF newest.id IS NULL
          OR (TG_OP = 'UPDATE' AND NEW.sha256 IS NOT NULL
              AND NEW.sha256 IS DISTINCT FROM OLD.sha256) THEN
        INSERT INTO scene_revisions (scene_id, revision, uri, sha256, frames)
        VALUES (NEW.id, coalesce(newest.revision, 0) + 1, NEW.uri, NEW.sha256, NEW.frames);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER scenes_record_revision AFTER INSERT OR UPDATE OF status, uri, sha256 ON scenes
    FOR EACH ROW WHEN (NEW.status = 'assembled') EXECUTE FUNCTION record_scene_revision();

-- Reviews: the revision judged; one current decision per reviewer per revision (a new one
-- supersedes the reviewer's previous one, which is kept, not current, and restored if the
-- new one is undone); the undo window; when the approvals sensor requested delivery (from
-- then on an approval cannot be undone); and how many open notes the reviewer acknowledged.
-- ADD COLUMN with a constant default fills existing rows without rewriting (or auditing) them.
ALTER TABLE reviews
    ADD COLUMN revision integer NOT NULL DEFAULT 1
        CONSTRAINT reviews_revision_positive CHECK (revision > 0),
    ADD COLUMN current boolean NOT NULL DEFAULT true,
    ADD COLUMN supersedes bigint REFERENCES reviews (id) ON DELETE SET NULL,
    ADD COLUMN undo_until timestamptz,
    ADD COLUMN delivery_requested_at timestamptz,
    ADD COLUMN open_notes_acknowledged integer NOT NULL DEFAULT 0
        CONSTRAINT reviews_open_notes_acknowledged_not_negative
        CHECK (open_notes_acknowledged >= 0);
ALTER TABLE reviews ALTER COLUMN revision DROP DEFAULT;

-- (The reviews of the backfill's revision-2 takes judged revision 1, as filled in.)
-- Repeated decisions stored before this migration (a second `a` stored a second approval):
-- only each reviewer's newest per revision stays current, each older one superseded.
UPDATE reviews r
   SET current = o.newer IS NULL, supersedes = o.older
  FROM (SELECT id, lag(id) OVER w AS older, lead(id) OVER w AS newer
          FROM reviews
        WINDOW w AS (PARTITION BY scene_id, revision, reviewer_id ORDER BY created_at, id)) o
 WHERE o.id = r.id AND (o.older IS NOT NULL OR o.newer IS NOT NULL);

CREATE UNIQUE INDEX reviews_one_current_per_reviewer ON reviews (scene_id, revision, reviewer_id)
    WHERE current;
CREATE INDEX reviews_revision_idx ON reviews (scene_id, revision, created_at) WHERE current;

-- Whoever inserts a review: it judges the take's newest revision unless it names one (a
-- take not yet assembled is on its revision 1 to be), and it supersedes the same reviewer's
-- current decision on that revision.
CREATE FUNCTION review_supersedes() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.revision IS NULL THEN
        NEW.revision := coalesce(
            (SELECT max(v.revision) FROM scene_revisions v WHERE v.scene_id = NEW.scene_id), 1);
    END IF;
    IF NEW.current THEN
        UPDATE reviews SET current = false
         WHERE scene_id = NEW.scene_id AND revision = NEW.revision
           AND reviewer_id = NEW.reviewer_id AND current
        RETURNING id INTO NEW.supersedes;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_supersede BEFORE INSERT ON reviews
    FOR EACH ROW EXECUTE FUNCTION review_supersedes();

COMMENT ON CONSTRAINT reviews_revision_positive ON reviews IS 'revisions are numbered from 1';

-- A "ready for review" notification is closed for everyone when the take is decided, by
-- that review; undoing the review opens them again.
ALTER TABLE notifications
    ADD COLUMN closed_by_review_id bigint REFERENCES reviews (id) ON DELETE SET NULL;
CREATE INDEX notifications_closed_by_review_idx ON notifications (closed_by_review_id)
    WHERE closed_by_review_id IS NOT NULL;

-- Which revision a deliverable packaged (NULL: made before revisions were recorded).
ALTER TABLE deliverables
    ADD COLUMN revision integer CONSTRAINT deliverables_revision_positive CHECK (revision > 0);
UPDATE deliverables d
   SET revision = (SELECT max(v.revision) FROM scene_revisions v WHERE v.scene_id = d.scene_id);

-- The one rule of review: per take, its newest revision (1 before any is recorded), the
-- newest current decision on that revision by any reviewer (NULL: undecided), and whether
-- the take awaits review (assembled, newest revision undecided).
CREATE VIEW take_decisions AS
SELECT s.id AS scene_id,
       coalesce(v.revision, 1) AS revision,
       v.uri AS revision_uri,
       v.sha256 AS revision_sha256,
       v.created_at AS revision_created_at,
       d.id AS review_id,
       d.decision,
       d.reviewer_id,
       d.created_at AS decided_at,
       d.undo_until,
       d.delivery_requested_at,
       s.status = 'assembled' AND d.id IS NULL AS awaiting_review
  FROM scenes s
  LEFT JOIN LATERAL (
        SELECT r.revision, r.uri, r.sha256, r.created_at FROM scene_revisions r
         WHERE r.scene_id = s.id ORDER BY r.revision DESC LIMIT 1) v ON true
  LEFT JOIN LATERAL (
        SELECT w.id, w.decision, w.reviewer_id, w.created_at, w.undo_until,
               w.delivery_requested_at
          FROM reviews w
         WHERE w.scene_id = s.id AND w.revision = coalesce(v.revision, 1) AND w.current
         ORDER BY w.created_at DESC, w.id DESC LIMIT 1) d ON true;

SELECT track_table('scene_revisions');
