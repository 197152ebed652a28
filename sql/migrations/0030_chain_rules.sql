-- Triggered chains (issue 15, PRD-97): a project's declared rules "when a take of scene type
-- X is approved, run Y for the same character". Dagster's chains_sensor (sensors/chains.py)
-- carries them out; there is no scheduler of our own. trulience/production/chains.py holds
-- the policy (a rule closing a cycle X -> Y -> X is refused there, naming the cycle).
SELECT create_lookup('chain_events',
    ARRAY['approved'],
    ARRAY['A take of the scene type is approved (its undo window closed)']);

CREATE TABLE chain_rules (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id            bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    trigger_scene_type_id bigint NOT NULL REFERENCES scene_types (id) ON DELETE CASCADE,
    trigger_event         text NOT NULL DEFAULT 'approved' REFERENCES chain_events (code),
    then_scene_type_id    bigint NOT NULL REFERENCES scene_types (id) ON DELETE CASCADE,
    created_by            text NOT NULL
                          CONSTRAINT chain_rules_created_by_not_blank CHECK (btrim(created_by) <> ''),
    enabled               boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chain_rules_not_to_itself CHECK (trigger_scene_type_id <> then_scene_type_id),
    CONSTRAINT chain_rules_unique
        UNIQUE (project_id, trigger_scene_type_id, trigger_event, then_scene_type_id)
);
COMMENT ON CONSTRAINT chain_rules_not_to_itself ON chain_rules IS
    'a chain rule cannot run the scene type that triggers it';
CREATE INDEX chain_rules_trigger_idx ON chain_rules (project_id, trigger_scene_type_id)
    WHERE enabled;

SELECT track_table('chain_rules');
