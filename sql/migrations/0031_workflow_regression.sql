-- Workflow regression tests (issue 15, PRD-65): golden takes per workflow, re-run whenever a
-- workflow gets a new version or a model it loads changes, compared frame by frame against
-- thresholds; a workflow version goes into production batches only once cleared.
-- trulience/production/regression.py holds the policy; Dagster's regression_sensor
-- (sensors/regression.py) launches the runs that are due.

-- A golden: a committed take whose current segments are the reference for a workflow (by
-- name: every later version is compared with it). Its character, scene type, settings and
-- each segment's seed and frame count are recorded so it can be re-run exactly.
CREATE TABLE regression_goldens (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow         text NOT NULL CONSTRAINT regression_goldens_workflow_format
                     CHECK (is_slug(workflow)),
    scene_id         bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    character_id     bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    scene_type_id    bigint NOT NULL REFERENCES scene_types (id) ON DELETE CASCADE,
    workflow_version integer NOT NULL
                     CONSTRAINT regression_goldens_workflow_version_positive
                     CHECK (workflow_version > 0),
    effective_config jsonb NOT NULL CONSTRAINT regression_goldens_config_object
                     CHECK (jsonb_typeof(effective_config) = 'object'),
    seeds            jsonb NOT NULL CONSTRAINT regression_goldens_seeds_array
                     CHECK (jsonb_typeof(seeds) = 'array' AND jsonb_array_length(seeds) > 0),
    approved         boolean NOT NULL,
    chosen_by        text NOT NULL
                     CONSTRAINT regression_goldens_chosen_by_not_blank CHECK (btrim(chosen_by) <> ''),
    note             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT regression_goldens_unique UNIQUE (workflow, scene_id)
);
COMMENT ON CONSTRAINT regression_goldens_seeds_array ON regression_goldens IS
    'a golden records one seed per segment (at least one segment)';
COMMENT ON CONSTRAINT regression_goldens_unique ON regression_goldens IS
    'this take is already a golden of this workflow';
SELECT track_table('regression_goldens');

-- What a re-run must reach, per workflow; a workflow without a row has the defaults here.
CREATE TABLE regression_thresholds (
    workflow          text PRIMARY KEY CONSTRAINT regression_thresholds_workflow_format
                      CHECK (is_slug(workflow)),
    min_ssim          float8 NOT NULL DEFAULT 0.95
                      CONSTRAINT regression_thresholds_ssim_range
                      CHECK (min_ssim > 0 AND min_ssim <= 1),
    min_psnr_db       float8 NOT NULL DEFAULT 30
                      CONSTRAINT regression_thresholds_psnr_range
                      CHECK (min_psnr_db > 0 AND min_psnr_db <= 100),
    max_identity_drop float8 NOT NULL DEFAULT 0.05
                      CONSTRAINT regression_thresholds_identity_range
                      CHECK (max_identity_drop >= 0 AND max_identity_drop <= 1),
    qa_must_match     boolean NOT NULL DEFAULT true,
    updated_by        text NOT NULL
                      CONSTRAINT regression_thresholds_updated_by_not_blank
                      CHECK (btrim(updated_by) <> ''),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON CONSTRAINT regression_thresholds_ssim_range ON regression_thresholds IS
    'the minimum mean SSIM must be above 0 and at most 1';
COMMENT ON CONSTRAINT regression_thresholds_psnr_range ON regression_thresholds IS
    'the minimum PSNR must be above 0 dB and at most 100 dB';
COMMENT ON CONSTRAINT regression_thresholds_identity_range ON regression_thresholds IS
    'the maximum identity drop must be from 0 to 1 (cosine similarity)';
SELECT track_table('regression_thresholds');

SELECT create_lookup('regression_verdicts',
    ARRAY['running', 'passed', 'failed', 'error'],
    ARRAY['Running', 'Passed', 'Failed', 'Error (could not be run)']);

-- The model files a workflow version loads, as one fingerprint: the sha256 over
-- "folder/filename=sha256" of each (its registered checksum, or "unregistered"), sorted.
-- A model re-registered with other contents changes it, and so calls for a new run.
CREATE VIEW workflow_model_sets AS
SELECT w.id AS workflow_id, w.name AS workflow, w.version,
       count(m.filename) AS models,
       encode(sha256(convert_to(coalesce(string_agg(
           m.folder || '/' || m.filename || '=' || coalesce(x.sha256, 'unregistered'),
           E'\n' ORDER BY m.folder, m.filename), ''), 'UTF8')), 'hex') AS models_fingerprint
  FROM workflows w
  LEFT JOIN (SELECT DISTINCT workflow_id, folder, filename FROM workflow_models) m
         ON m.workflow_id = w.id
  LEFT JOIN models x ON x.kind = m.folder AND x.name = m.filename
 GROUP BY w.id;

-- One regression run: every golden of the workflow re-run on one version under one model
-- set, with the thresholds it was judged by and its report (markdown and JSON in storage).
CREATE TABLE regression_runs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id        bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    models_fingerprint text NOT NULL CONSTRAINT regression_runs_models_fingerprint_format
                       CHECK (is_sha256(models_fingerprint)),
    status             text NOT NULL DEFAULT 'running' REFERENCES regression_verdicts (code),
    thresholds         jsonb NOT NULL CONSTRAINT regression_runs_thresholds_object
                       CHECK (jsonb_typeof(thresholds) = 'object'),
    requested_by       text NOT NULL
                       CONSTRAINT regression_runs_requested_by_not_blank
                       CHECK (btrim(requested_by) <> ''),
    reason             text NOT NULL DEFAULT '',
    report_uri         text,
    report_json_uri    text,
    error              text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    CONSTRAINT regression_runs_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
COMMENT ON CONSTRAINT regression_runs_finished ON regression_runs IS
    'a run is finished exactly when it has a verdict';
CREATE INDEX regression_runs_version_idx ON regression_runs (workflow_id, models_fingerprint, id);
SELECT track_table('regression_runs');

-- Each golden's result in a run: its figures (SSIM, PSNR, identity, QA gates, per segment)
-- and every figure that missed its threshold, in words.
CREATE TABLE regression_results (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id    bigint NOT NULL REFERENCES regression_runs (id) ON DELETE CASCADE,
    golden_id bigint NOT NULL REFERENCES regression_goldens (id) ON DELETE CASCADE,
    verdict   text NOT NULL REFERENCES regression_verdicts (code)
              CONSTRAINT regression_results_verdict_final CHECK (verdict <> 'running'),
    figures   jsonb NOT NULL CONSTRAINT regression_results_figures_object
              CHECK (jsonb_typeof(figures) = 'object'),
    failures  jsonb NOT NULL DEFAULT '[]' CONSTRAINT regression_results_failures_array
              CHECK (jsonb_typeof(failures) = 'array'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT regression_results_unique UNIQUE (run_id, golden_id)
);
SELECT track_table('regression_results');

-- A producer's explicit override: a batch allowed to use a workflow version that is not
-- cleared, who said so and why (audited like every table).
CREATE TABLE regression_overrides (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id           bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    workflow_id        bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    models_fingerprint text NOT NULL CONSTRAINT regression_overrides_models_fingerprint_format
                       CHECK (is_sha256(models_fingerprint)),
    overridden_by      text NOT NULL
                       CONSTRAINT regression_overrides_overridden_by_not_blank
                       CHECK (btrim(overridden_by) <> ''),
    reason             text NOT NULL
                       CONSTRAINT regression_overrides_reason_not_blank CHECK (btrim(reason) <> ''),
    not_cleared        text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT regression_overrides_unique UNIQUE (batch_id, workflow_id)
);
SELECT track_table('regression_overrides');

-- Whether each workflow version may go into production batches, one rule for the batch
-- check, the CLI and the sensor. No goldens: cleared (with a note saying so). Goldens: the
-- newest finished run of this version on the current model set passed, covered every
-- golden the workflow has now, and was judged by thresholds at least as strict as today's
-- (the defaults here are regression_thresholds' column defaults).
CREATE VIEW workflow_clearance AS
WITH goldens AS (
    SELECT workflow, count(*) AS goldens FROM regression_goldens GROUP BY workflow
), runs AS (
    SELECT f.workflow_id,
           (SELECT r.id FROM regression_runs r
             WHERE r.workflow_id = f.workflow_id AND r.models_fingerprint = f.models_fingerprint
             ORDER BY r.id DESC LIMIT 1) AS last_run_id,
           (SELECT r.id FROM regression_runs r
             WHERE r.workflow_id = f.workflow_id AND r.models_fingerprint = f.models_fingerprint
               AND r.status <> 'running'
             ORDER BY r.id DESC LIMIT 1) AS finished_run_id,
           EXISTS (SELECT 1 FROM regression_runs r
                    WHERE r.workflow_id = f.workflow_id
                      AND r.models_fingerprint <> f.models_fingerprint) AS ran_on_other_models
      FROM workflow_model_sets f
), judged AS (
    SELECT f.workflow_id, f.workflow, f.version, f.models_fingerprint,
           coalesce(g.goldens, 0) AS goldens,
           u.last_run_id, l.status AS last_status, u.finished_run_id, d.status AS finished_status,
           u.ran_on_other_models,
           (SELECT count(*) FROM regression_goldens x
             WHERE x.workflow = f.workflow
               AND NOT EXISTS (SELECT 1 FROM regression_results z
                                WHERE z.run_id = u.finished_run_id AND z.golden_id = x.id))
               AS goldens_not_run,
           coalesce((d.thresholds ->> 'min_ssim')::float8 >= coalesce(t.min_ssim, 0.95)
                AND (d.thresholds ->> 'min_psnr_db')::float8 >= coalesce(t.min_psnr_db, 30)
                AND (d.thresholds ->> 'max_identity_drop')::float8
                    <= coalesce(t.max_identity_drop, 0.05)
                AND ((d.thresholds ->> 'qa_must_match')::boolean
                     OR NOT coalesce(t.qa_must_match, true)), false) AS strict_enough
      FROM workflow_model_sets f
      JOIN runs u USING (workflow_id)
      LEFT JOIN goldens g ON g.workflow = f.workflow
      LEFT JOIN regression_thresholds t ON t.workflow = f.workflow
      LEFT JOIN regression_runs l ON l.id = u.last_run_id
      LEFT JOIN regression_runs d ON d.id = u.finished_run_id
)
SELECT workflow_id, workflow, version, models_fingerprint, goldens, last_run_id, last_status,
       finished_run_id, finished_status,
       (goldens = 0 OR (finished_status = 'passed' AND goldens_not_run = 0 AND strict_enough))
           AS cleared,
       CASE
           WHEN goldens = 0 THEN 'no goldens: cleared without a regression run'
           WHEN finished_status = 'passed' AND goldens_not_run = 0 AND strict_enough
               THEN 'passed regression run ' || finished_run_id
           WHEN finished_status = 'passed' AND goldens_not_run > 0
               THEN goldens_not_run || ' golden(s) added since passing run ' || finished_run_id
                    || '; run it again'
           WHEN finished_status = 'passed'
               THEN 'thresholds tightened since passing run ' || finished_run_id
                    || '; run it again'
           WHEN finished_run_id IS NOT NULL
               THEN 'regression run ' || finished_run_id || ' ' || finished_status
           WHEN last_run_id IS NOT NULL THEN 'regression run ' || last_run_id || ' is running'
           WHEN ran_on_other_models THEN 'never run on the current models (a model changed)'
           ELSE 'never run'
       END AS note
  FROM judged;

-- The versions whose regression is due: of a workflow with goldens, its newest version or
-- one a scene type's newest version names, that has no run at all on its current model set.
CREATE VIEW regression_due AS
SELECT c.workflow_id, c.workflow, c.version, c.models_fingerprint, c.note
  FROM workflow_clearance c
 WHERE c.goldens > 0 AND c.last_run_id IS NULL
   AND (c.version = (SELECT max(w.version) FROM workflows w WHERE w.name = c.workflow)
        OR EXISTS (SELECT 1 FROM scene_type_versions v
                    WHERE v.workflow_id = c.workflow_id
                      AND v.version = (SELECT max(x.version) FROM scene_type_versions x
                                        WHERE x.scene_type_id = v.scene_type_id)));
