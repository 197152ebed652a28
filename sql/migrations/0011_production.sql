-- Batch production (PRD-57), cost estimates (PRD-61) and project budgets (PRD-93).
-- A batch asks for one take of each character x scene type of a project; it is launched
-- as one Dagster backfill. Its estimate is stored as it was shown before launch, so a
-- later look can compare it with what the takes actually cost.

SELECT create_lookup('batch_statuses',
    ARRAY['queued', 'running', 'completed', 'cancelled', 'failed'],
    ARRAY['Queued until the budget allows', 'Running', 'Completed', 'Cancelled',
          'Failed to launch']);

SELECT create_lookup('budget_policies',
    ARRAY['refuse', 'queue'],
    ARRAY['Refuse a batch beyond the remaining budget',
          'Queue a batch beyond the remaining budget until it fits']);

-- One GPU budget per project. GPU seconds are what segment attempts record as compute_s
-- (every attempt counts, including those refused by QA: they used the GPU too).
CREATE TABLE project_budgets (
    project_id        bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    gpu_seconds_limit numeric(14, 1) NOT NULL
                      CONSTRAINT project_budgets_limit_not_negative CHECK (gpu_seconds_limit >= 0),
    policy            text NOT NULL DEFAULT 'refuse' REFERENCES budget_policies (code),
    cost_per_gpu_hour numeric(12, 4)
                      CONSTRAINT project_budgets_cost_not_negative CHECK (cost_per_gpu_hour >= 0),
    currency          text NOT NULL DEFAULT 'USD'
                      CONSTRAINT project_budgets_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE batches (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          bigint NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    -- Dagster's run queue takes higher numbers first (the dagster/priority tag)
    priority            smallint NOT NULL DEFAULT 0
                        CONSTRAINT batches_priority_range CHECK (priority BETWEEN -100 AND 100),
    requested_by        text NOT NULL
                        CONSTRAINT batches_requested_by_not_blank CHECK (btrim(requested_by) <> ''),
    status              text NOT NULL DEFAULT 'queued' REFERENCES batch_statuses (code),
    -- expected GPU seconds and its 90 % range; all three or none (no history to go on)
    estimate_gpu_s      numeric(14, 1)
                        CONSTRAINT batches_estimate_not_negative CHECK (estimate_gpu_s >= 0),
    estimate_low_s      numeric(14, 1),
    estimate_high_s     numeric(14, 1),
    estimate_basis      jsonb NOT NULL DEFAULT '{}'
                        CONSTRAINT batches_estimate_basis_object CHECK (jsonb_typeof(estimate_basis) = 'object'),
    dagster_backfill_id text CONSTRAINT batches_dagster_backfill_id_unique UNIQUE
                        CONSTRAINT batches_dagster_backfill_id_not_blank CHECK (btrim(dagster_backfill_id) <> ''),
    launched_at         timestamptz,
    failure             text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT batches_id_project_unique UNIQUE (id, project_id),
    CONSTRAINT batches_estimate_complete
        CHECK (num_nulls(estimate_gpu_s, estimate_low_s, estimate_high_s) IN (0, 3)),
    CONSTRAINT batches_estimate_range_ordered
        CHECK (estimate_low_s <= estimate_gpu_s AND estimate_gpu_s <= estimate_high_s),
    CONSTRAINT batches_running_has_backfill
        CHECK (status NOT IN ('running', 'completed') OR dagster_backfill_id IS NOT NULL)
);
CREATE INDEX batches_project_status_idx ON batches (project_id, status);

-- A linked take must be of the item's own project, character and scene type.
ALTER TABLE scenes ADD CONSTRAINT scenes_subject_unique
    UNIQUE (id, project_id, character_id, scene_type_id);

CREATE TABLE batch_items (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      bigint NOT NULL,
    project_id    bigint NOT NULL,
    character_id  bigint NOT NULL,
    scene_type_id bigint NOT NULL REFERENCES scene_types (id) ON DELETE RESTRICT,
    -- the newest take number that existed when the batch was launched (a take left
    -- unfinished counts as not existing: the batch's run resumes it); NULL until launched
    after_take    integer CONSTRAINT batch_items_after_take_not_negative CHECK (after_take >= 0),
    scene_id      bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT batch_items_once UNIQUE (batch_id, character_id, scene_type_id),
    CONSTRAINT batch_items_of_batch FOREIGN KEY (batch_id, project_id)
        REFERENCES batches (id, project_id) ON DELETE CASCADE,
    CONSTRAINT batch_items_character_in_project FOREIGN KEY (project_id, character_id)
        REFERENCES project_characters (project_id, character_id) ON DELETE RESTRICT,
    CONSTRAINT batch_items_take_of_item FOREIGN KEY (scene_id, project_id, character_id, scene_type_id)
        REFERENCES scenes (id, project_id, character_id, scene_type_id) ON DELETE RESTRICT,
    CONSTRAINT batch_items_linked_after_launch CHECK (scene_id IS NULL OR after_take IS NOT NULL)
);
CREATE INDEX batch_items_scene_idx ON batch_items (scene_id) WHERE scene_id IS NOT NULL;
CREATE INDEX batch_items_subject_idx ON batch_items (project_id, character_id, scene_type_id);

-- Where each item stands, read from the catalog (the machine status of its take, the
-- reviewers' latest decision, its deliverable), and the GPU seconds its take has used.
-- state: queued | pending | generating | generated | assembled | in_review | approved |
--        delivered | failed | cancelled
CREATE VIEW batch_item_states AS
SELECT i.id AS item_id,
       i.batch_id,
       i.project_id,
       i.character_id,
       i.scene_type_id,
       t.scene_id,
       s.take,
       s.status AS scene_status,
       s.failure AS scene_failure,
       r.decision,
       d.status AS deliverable_status,
       coalesce(g.gpu_seconds, 0) AS gpu_seconds,
       CASE
           WHEN t.scene_id IS NULL THEN
               CASE b.status WHEN 'queued' THEN 'queued' WHEN 'cancelled' THEN 'cancelled'
                             WHEN 'failed' THEN 'failed' ELSE 'pending' END
           WHEN d.status IN ('packaged', 'delivered') THEN 'delivered'
           WHEN d.status = 'failed' THEN 'failed'
           WHEN s.status IN ('failed', 'qa_failed', 'cancelled') THEN 'failed'
           WHEN s.status = 'generated' THEN 'generated'
           WHEN s.status = 'assembled' AND r.decision = 'approved' THEN 'approved'
           WHEN s.status = 'assembled' AND (r.decision IS NOT NULL OR EXISTS (
                    SELECT 1 FROM notes n WHERE n.scene_id = s.id)) THEN 'in_review'
           WHEN s.status = 'assembled' THEN 'assembled'
           ELSE 'generating'
       END AS state
  FROM batch_items i
  JOIN batches b ON b.id = i.batch_id
  CROSS JOIN LATERAL (
        SELECT coalesce(i.scene_id, (
               SELECT sc.id FROM scenes sc
                WHERE sc.project_id = i.project_id AND sc.character_id = i.character_id
                  AND sc.scene_type_id = i.scene_type_id AND sc.take > i.after_take
                ORDER BY sc.take LIMIT 1)) AS scene_id) AS t
  LEFT JOIN scenes s ON s.id = t.scene_id
  LEFT JOIN LATERAL (
        SELECT rv.decision FROM reviews rv WHERE rv.scene_id = t.scene_id
         ORDER BY rv.created_at DESC, rv.id DESC LIMIT 1) AS r ON true
  LEFT JOIN LATERAL (
        SELECT dl.status FROM deliverables dl WHERE dl.scene_id = t.scene_id
         ORDER BY dl.id DESC LIMIT 1) AS d ON true
  LEFT JOIN LATERAL (
        SELECT sum((sg.provenance ->> 'compute_s')::numeric) AS gpu_seconds
          FROM segments sg
         WHERE sg.scene_id = t.scene_id
           AND jsonb_typeof(sg.provenance -> 'compute_s') = 'number') AS g ON true;

COMMENT ON CONSTRAINT batches_priority_range ON batches IS
    'must be a whole number from -100 to 100 (higher runs first)';
COMMENT ON CONSTRAINT batches_estimate_complete ON batches IS
    'an estimate has an expected value, a low and a high bound, or none of them';
COMMENT ON CONSTRAINT batches_estimate_range_ordered ON batches IS
    'the estimate must lie within its range (low <= expected <= high)';
COMMENT ON CONSTRAINT batches_running_has_backfill ON batches IS
    'a running or completed batch must name its Dagster backfill';
COMMENT ON CONSTRAINT batch_items_of_batch ON batch_items IS
    'an item belongs to a batch of the same project';
COMMENT ON CONSTRAINT batch_items_character_in_project ON batch_items IS
    'the character is not in the project';
COMMENT ON CONSTRAINT batch_items_take_of_item ON batch_items IS
    'the linked take must be of the item''s project, character and scene type';
COMMENT ON CONSTRAINT batch_items_linked_after_launch ON batch_items IS
    'a take is linked only after the batch was launched';
COMMENT ON CONSTRAINT project_budgets_limit_not_negative ON project_budgets IS
    'must not be negative (0 allows no GPU time at all)';
COMMENT ON CONSTRAINT project_budgets_cost_not_negative ON project_budgets IS
    'must not be negative';
COMMENT ON CONSTRAINT project_budgets_currency_format ON project_budgets IS
    'must be a three-letter ISO 4217 code such as USD or EUR';

SELECT track_table('project_budgets', ARRAY['project_id']);
SELECT track_table('batches');
SELECT track_table('batch_items');
