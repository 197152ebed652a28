-- Preview resolution first, then the final (issue 15 item 6, PRD-59).
--
-- A scene type may say that its takes are first made at a preview resolution (`preview`:
-- {scale} or {width, height}, and how the final is made: re-rendered with the preview's
-- seeds at full size, or a named upscale workflow given each preview segment). Such a take
-- is a preview until its preview is approved; the same take is then made again at full
-- resolution and reviewed as its next revision: the final. Delivery only ever delivers a
-- final (or a take whose scene type makes no preview). trulience/generation/finals.py holds
-- the policy; Dagster's finals_sensor (sensors/finals.py) starts each final's run.

-- The scene type's preview setting (NULL: inherit; {} : no preview, takes made at full size).
ALTER TABLE scene_type_versions
    ADD COLUMN preview jsonb
        CONSTRAINT scene_type_versions_preview_object CHECK (jsonb_typeof(preview) = 'object');

-- Which of the two a take is now (NULL: its scene type makes no preview; a take as today).
ALTER TABLE scenes
    ADD COLUMN stage text CONSTRAINT scenes_stage_known CHECK (stage IN ('preview', 'final'));
COMMENT ON CONSTRAINT scenes_stage_known ON scenes IS
    'a take is a preview or a final (or neither: its scene type makes no preview)';

-- Which of the two each revision of a take is: the catalog fills it in from the take as the
-- revision is recorded (trigger scenes_record_revision, 0014), so no writer can forget it.
ALTER TABLE scene_revisions
    ADD COLUMN stage text
        CONSTRAINT scene_revisions_stage_known CHECK (stage IN ('preview', 'final'));
UPDATE scene_revisions v SET stage = s.stage FROM scenes s WHERE s.id = v.scene_id
   AND s.stage IS NOT NULL;

CREATE FUNCTION scene_revision_stage() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.stage IS NULL THEN
        NEW.stage := (SELECT stage FROM scenes WHERE id = NEW.scene_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER scene_revisions_stage BEFORE INSERT ON scene_revisions
    FOR EACH ROW EXECUTE FUNCTION scene_revision_stage();

-- The one rule of review (take_decisions, 0014) also says which stage the newest revision
-- is: a preview revision's approval makes its final, and is never delivered nor chained.
CREATE OR REPLACE VIEW take_decisions AS
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
       s.status = 'assembled' AND d.id IS NULL AS awaiting_review,
       v.stage AS revision_stage
  FROM scenes s
  LEFT JOIN LATERAL (
        SELECT r.revision, r.uri, r.sha256, r.created_at, r.stage FROM scene_revisions r
         WHERE r.scene_id = s.id ORDER BY r.revision DESC LIMIT 1) v ON true
  LEFT JOIN LATERAL (
        SELECT w.id, w.decision, w.reviewer_id, w.created_at, w.undo_until,
               w.delivery_requested_at
          FROM reviews w
         WHERE w.scene_id = s.id AND w.revision = coalesce(v.revision, 1) AND w.current
         ORDER BY w.created_at DESC, w.id DESC LIMIT 1) d ON true;

-- The final of a take: made once (one row per take), from the approved preview revision and
-- the review that approved it, at full size, by re-rendering or by an upscale workflow.
CREATE TABLE take_finals (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id          bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    preview_revision  integer NOT NULL
                      CONSTRAINT take_finals_preview_revision_positive
                      CHECK (preview_revision > 0),
    review_id         bigint REFERENCES reviews (id) ON DELETE SET NULL,
    method            text NOT NULL
                      CONSTRAINT take_finals_method_known CHECK (method IN ('rerender', 'upscale')),
    workflow_id       bigint REFERENCES workflows (id) ON DELETE RESTRICT,
    preview_width     integer NOT NULL
                      CONSTRAINT take_finals_preview_width_even
                      CHECK (preview_width > 0 AND preview_width % 2 = 0),
    preview_height    integer NOT NULL
                      CONSTRAINT take_finals_preview_height_even
                      CHECK (preview_height > 0 AND preview_height % 2 = 0),
    width             integer NOT NULL
                      CONSTRAINT take_finals_width_even CHECK (width > 0 AND width % 2 = 0),
    height            integer NOT NULL
                      CONSTRAINT take_finals_height_even CHECK (height > 0 AND height % 2 = 0),
    created_by        text NOT NULL
                      CONSTRAINT take_finals_created_by_not_blank CHECK (btrim(created_by) <> ''),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT take_finals_one_per_take UNIQUE (scene_id),
    CONSTRAINT take_finals_upscale_names_workflow
        CHECK ((method = 'upscale') = (workflow_id IS NOT NULL))
);
COMMENT ON CONSTRAINT take_finals_one_per_take ON take_finals IS
    'a take has one final (a second approval event makes nothing new)';
COMMENT ON CONSTRAINT take_finals_upscale_names_workflow ON take_finals IS
    'an upscaled final names its upscale workflow; a re-rendered one names none';
CREATE INDEX take_finals_review_idx ON take_finals (review_id) WHERE review_id IS NOT NULL;
CREATE INDEX take_finals_workflow_idx ON take_finals (workflow_id) WHERE workflow_id IS NOT NULL;

-- Per take with a stage: its final, if started, and the revision the final was assembled as
-- (the first revision recorded as a final; NULL while it is being made).
CREATE VIEW take_stages AS
SELECT s.id AS scene_id,
       s.stage,
       f.id AS final_id,
       f.preview_revision,
       f.review_id,
       f.method,
       f.workflow_id,
       f.preview_width,
       f.preview_height,
       f.width,
       f.height,
       f.created_at AS final_started_at,
       (SELECT min(v.revision) FROM scene_revisions v
         WHERE v.scene_id = s.id AND v.stage = 'final') AS final_revision
  FROM scenes s
  LEFT JOIN take_finals f ON f.scene_id = s.id
 WHERE s.stage IS NOT NULL;

SELECT track_table('take_finals');
