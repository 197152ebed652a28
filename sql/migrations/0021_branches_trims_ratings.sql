-- Branches of a take, trims at seams, content ratings (issue 14: PRD-50, PRD-78, PRD-82).

-- Branches (PRD-50). A take may be an alternative of its cell (character × scene type ×
-- project) made with another seed, other params or another workflow: it carries the
-- branch's name ('main' for the takes the pipeline opens itself) and what it overrides.
-- A named branch names one take of its cell. A producer promotes one take of a cell to
-- current; the view current_takes holds the rule for every reader: the promoted take,
-- else the cell's newest take on 'main'.
ALTER TABLE scenes
    ADD COLUMN branch text NOT NULL DEFAULT 'main'
        CONSTRAINT scenes_branch_format CHECK (branch ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    ADD COLUMN branch_overrides jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT scenes_branch_overrides_object CHECK (jsonb_typeof(branch_overrides) = 'object'),
    ADD COLUMN promoted boolean NOT NULL DEFAULT false,
    ADD COLUMN promoted_by text,
    ADD COLUMN promoted_at timestamptz,
    ADD CONSTRAINT scenes_promotion_complete
        CHECK (promoted = (promoted_by IS NOT NULL AND promoted_at IS NOT NULL));

COMMENT ON CONSTRAINT scenes_branch_format ON scenes IS
    'a branch name is lower-case letters, digits, dot, dash or underscore (at most 63)';
COMMENT ON CONSTRAINT scenes_branch_overrides_object ON scenes IS
    'a branch''s overrides must be a JSON object (seed, params, workflow)';
COMMENT ON CONSTRAINT scenes_promotion_complete ON scenes IS
    'a promoted take records who promoted it and when; a take not promoted records neither';

CREATE UNIQUE INDEX scenes_one_take_per_branch ON scenes (project_id, character_id, scene_type_id, branch)
    WHERE branch <> 'main';
CREATE UNIQUE INDEX scenes_one_promoted_take_per_cell ON scenes (project_id, character_id, scene_type_id)
    WHERE promoted;

CREATE VIEW current_takes AS
SELECT DISTINCT ON (s.project_id, s.character_id, s.scene_type_id)
       s.project_id, s.character_id, s.scene_type_id, s.id AS scene_id, s.take, s.branch,
       s.promoted
  FROM scenes s
 WHERE s.promoted OR s.branch = 'main'
 ORDER BY s.project_id, s.character_id, s.scene_type_id, s.promoted DESC, s.take DESC;

-- Trims (PRD-78). A reviewer or producer cuts frames from a segment's head or tail; the
-- take is assembled again with only the seams around that segment redone. A trim belongs
-- to one segment attempt (a retake starts untrimmed); the newest trim of it stands, the
-- earlier ones are kept as its history.
CREATE TABLE segment_trims (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment_id bigint NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    head       integer NOT NULL DEFAULT 0
               CONSTRAINT segment_trims_head_not_negative CHECK (head >= 0),
    tail       integer NOT NULL DEFAULT 0
               CONSTRAINT segment_trims_tail_not_negative CHECK (tail >= 0),
    by_user    text NOT NULL CONSTRAINT segment_trims_by_not_blank CHECK (btrim(by_user) <> ''),
    at         timestamptz NOT NULL DEFAULT now(),
    reason     text
);
COMMENT ON CONSTRAINT segment_trims_head_not_negative ON segment_trims IS
    'a trim removes a whole, non-negative number of frames from the head';
COMMENT ON CONSTRAINT segment_trims_tail_not_negative ON segment_trims IS
    'a trim removes a whole, non-negative number of frames from the tail';
COMMENT ON CONSTRAINT segment_trims_by_not_blank ON segment_trims IS
    'a trim records who made it';
CREATE INDEX segment_trims_segment ON segment_trims (segment_id, at DESC, id DESC);

SELECT track_table('segment_trims');

-- The frames each current segment contributes to its take (its own, less a standing trim):
-- the one rule for where a segment starts in the assembled take (player, notes at a
-- segment's first frame).
CREATE VIEW current_segment_frames AS
SELECT g.id AS segment_id, g.scene_id, g.index, g.frames AS made_frames,
       coalesce(t.head, 0) AS head, coalesce(t.tail, 0) AS tail,
       g.frames - coalesce(t.head, 0) - coalesce(t.tail, 0) AS frames
  FROM segments g
  LEFT JOIN LATERAL (
        SELECT x.head, x.tail FROM segment_trims x WHERE x.segment_id = g.id
         ORDER BY x.at DESC, x.id DESC LIMIT 1) t ON true
 WHERE g.current;

-- Content ratings (PRD-82). Characters and scene types are rated; a take is sensitive when
-- its character or its scene type is rated other than general (the view take_sensitivity
-- holds the rule). Each user chooses whether sensitive media is blurred until revealed.
SELECT create_lookup('content_ratings',
    ARRAY['general', 'sensitive', 'restricted'],
    ARRAY['General', 'Sensitive', 'Restricted']);

ALTER TABLE characters
    ADD COLUMN rating text NOT NULL DEFAULT 'general' REFERENCES content_ratings (code);
ALTER TABLE scene_types
    ADD COLUMN rating text NOT NULL DEFAULT 'general' REFERENCES content_ratings (code);

ALTER TABLE user_preferences
    ADD COLUMN show_sensitive text NOT NULL DEFAULT 'blur'
        CONSTRAINT user_preferences_show_sensitive_choice CHECK (show_sensitive IN ('blur', 'show'));
COMMENT ON CONSTRAINT user_preferences_show_sensitive_choice ON user_preferences IS
    'sensitive media is either blurred until revealed (blur) or shown (show)';

CREATE VIEW take_sensitivity AS
SELECT s.id AS scene_id, c.rating AS character_rating, t.rating AS scene_type_rating,
       (c.rating <> 'general' OR t.rating <> 'general') AS sensitive
  FROM scenes s
  JOIN characters c ON c.id = s.character_id
  JOIN scene_types t ON t.id = s.scene_type_id;
