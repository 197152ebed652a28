-- Stage hooks (PRD-09, 77): a studio's own scripts (Python, shell, Node) run before or after
-- a stage of a take, or as a step of their own (the `hook_steps` job), through dagster-pipes;
-- they report logs and metadata, and may veto the stage with a reason. Configured per
-- project, for every scene type (scene_type_id NULL) or one.
-- trulience/production/hooks holds the policy; resources/hooks.py runs them.
SELECT create_lookup('hook_stages',
    ARRAY['before_generation', 'after_qa', 'before_assembly', 'before_delivery', 'step'],
    ARRAY['Before generation of a take', 'After a take passed QA', 'Before assembly',
          'Before delivery', 'As a step of its own (job hook_steps)']);

SELECT create_lookup('hook_runtimes',
    ARRAY['python', 'shell', 'node'],
    ARRAY['Python', 'Shell (sh)', 'Node.js']);

-- What a hook that exits non-zero or times out does to its stage (a veto the hook itself
-- reports always refuses the stage).
SELECT create_lookup('hook_failure_policies',
    ARRAY['veto', 'fail', 'continue'],
    ARRAY['Refuse the stage (veto)', 'Fail the run (retried like any step)',
          'Record it and go on']);

CREATE TABLE hooks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- NULL: the hook runs for every scene type of the project
    scene_type_id bigint REFERENCES scene_types (id) ON DELETE CASCADE,
    name          text NOT NULL CONSTRAINT hooks_name_format CHECK (is_slug(name)),
    stage         text NOT NULL REFERENCES hook_stages (code),
    runtime       text NOT NULL REFERENCES hook_runtimes (code),
    script        text NOT NULL CONSTRAINT hooks_script_absolute CHECK (script ~ '^/'),
    args          text[] NOT NULL DEFAULT '{}',
    timeout_s     double precision NOT NULL DEFAULT 300
                  CONSTRAINT hooks_timeout_s_range CHECK (timeout_s > 0 AND timeout_s <= 86400),
    on_failure    text NOT NULL DEFAULT 'veto' REFERENCES hook_failure_policies (code),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hooks_project_name_unique UNIQUE (project_id, name)
);
COMMENT ON CONSTRAINT hooks_script_absolute ON hooks IS
    'must be an absolute path to the script';
COMMENT ON CONSTRAINT hooks_timeout_s_range ON hooks IS
    'must be more than 0 and at most 86400 seconds';
CREATE INDEX hooks_stage_idx ON hooks (project_id, stage);

SELECT track_table('hooks');

SELECT create_lookup('hook_outcomes',
    ARRAY['passed', 'vetoed', 'failed', 'timed_out'],
    ARRAY['Passed', 'Vetoed the stage', 'Failed (non-zero exit)', 'Timed out (killed)']);

-- Every run of a hook, appended once it has finished (a hook still running has no row, so
-- a killed run leaves nothing half-written). The hook's name is kept beside its id: a
-- removed hook's runs stay readable.
CREATE TABLE hook_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hook_id     bigint REFERENCES hooks (id) ON DELETE SET NULL,
    hook_name   text NOT NULL,
    stage       text NOT NULL REFERENCES hook_stages (code),
    scene_id    bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    run_id      text,
    outcome     text NOT NULL REFERENCES hook_outcomes (code),
    reason      text NOT NULL DEFAULT '',
    exit_code   integer,
    metadata    jsonb NOT NULL DEFAULT '{}'
                CONSTRAINT hook_runs_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hook_runs_refusal_has_reason CHECK (outcome = 'passed' OR btrim(reason) <> ''),
    CONSTRAINT hook_runs_finished_after_start CHECK (finished_at >= started_at)
);
COMMENT ON CONSTRAINT hook_runs_refusal_has_reason ON hook_runs IS
    'a hook run that did not pass says why';
COMMENT ON CONSTRAINT hook_runs_finished_after_start ON hook_runs IS
    'a hook run finishes after it started';
CREATE INDEX hook_runs_scene_idx ON hook_runs (scene_id, finished_at);

SELECT track_table('hook_runs');

-- The producers are told of a veto (and webhooks may subscribe to it).
INSERT INTO notification_kinds (code, label, position)
SELECT 'hook_vetoed', 'A hook refused a stage', max(position) + 1 FROM notification_kinds;
