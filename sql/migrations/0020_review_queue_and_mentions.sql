-- The review queue with assignments, notes on any entity, @mentions (issue 14: PRD-92, PRD-95).
--
-- A producer assigns a take to a reviewer with a due date (one assignment per take; a new
-- one replaces it). Which takes the queue lists, their review status, age and whether they
-- are overdue is one rule, the view review_queue below: the app, the CLI and any report read
-- it rather than restating it. Notes attach to scene types and deliverables too.

CREATE TABLE take_assignments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id    bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE
                CONSTRAINT take_assignments_one_per_take UNIQUE,
    assignee_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due_at      timestamptz,
    assigned_by bigint NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT take_assignments_due_after_assignment CHECK (due_at > assigned_at)
);
CREATE INDEX take_assignments_assignee_idx ON take_assignments (assignee_id);
COMMENT ON CONSTRAINT take_assignments_one_per_take ON take_assignments IS
    'a take has one assignment at a time (assigning again replaces it)';
COMMENT ON CONSTRAINT take_assignments_due_after_assignment ON take_assignments IS
    'the due date must be after the moment the take is assigned';

-- Who reviews what, by when, is a decision people make and change: audited.
SELECT track_table('take_assignments');

-- Notifications about an assignment and about a mention in a note.
INSERT INTO notification_kinds (code, label, position)
SELECT k.code, k.label, (SELECT max(position) FROM notification_kinds) + k.n
  FROM (VALUES ('assigned', 'Take assigned to you', 1),
               ('mention', 'Mentioned in a note', 2)) AS k(code, label, n);

-- Notes on a scene type or a deliverable (a delivery), besides project, character, take and
-- segment: still exactly one subject per note.
ALTER TABLE notes
    ADD COLUMN scene_type_id bigint REFERENCES scene_types (id) ON DELETE CASCADE,
    ADD COLUMN deliverable_id bigint REFERENCES deliverables (id) ON DELETE CASCADE;
ALTER TABLE notes DROP CONSTRAINT notes_one_subject;
ALTER TABLE notes ADD CONSTRAINT notes_one_subject CHECK (
    num_nonnulls(project_id, character_id, scene_id, segment_id, scene_type_id,
                 deliverable_id) = 1);
COMMENT ON CONSTRAINT notes_one_subject ON notes IS
    'a note is on exactly one of a project, character, scene type, take, segment or delivery';
CREATE INDEX notes_scene_type_idx ON notes (scene_type_id) WHERE scene_type_id IS NOT NULL;
CREATE INDEX notes_deliverable_idx ON notes (deliverable_id) WHERE deliverable_id IS NOT NULL;
-- (Full-text search reads notes.search and its GIN index notes_search_idx, from 0004.)

-- The queue: every assembled take, its newest revision and the review status of that
-- revision ('awaiting' until someone decides), its age (since that revision was assembled),
-- its assignment, and whether it is overdue (due, passed, and still awaiting review).
CREATE VIEW review_queue AS
SELECT s.id AS scene_id,
       p.slug AS project,
       c.slug AS character,
       st.slug AS scene_type,
       s.take,
       s.uri,
       s.frames,
       s.created_at,
       td.revision,
       coalesce(td.revision_created_at, s.created_at) AS waiting_since,
       coalesce(td.decision, 'awaiting') AS review_status,
       u.username AS assignee,
       a.due_at,
       b.username AS assigned_by,
       coalesce(a.due_at < now() AND td.awaiting_review, false) AS overdue
  FROM take_decisions td
  JOIN scenes s ON s.id = td.scene_id
  JOIN projects p ON p.id = s.project_id
  JOIN characters c ON c.id = s.character_id
  JOIN scene_types st ON st.id = s.scene_type_id
  LEFT JOIN take_assignments a ON a.scene_id = s.id
  LEFT JOIN users u ON u.id = a.assignee_id
  LEFT JOIN users b ON b.id = a.assigned_by
 WHERE s.status = 'assembled';
