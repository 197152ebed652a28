-- Undo and redo of catalog edits (issue 17, PRD-51). Every edit made through
-- trulience/edits/ (a character's metadata field, whole metadata, name or tags; a scene
-- type's settings) is a command recorded here, in the edit's own transaction, with the
-- value it replaced (`before`) and the value it wrote (`after`), each a JSON state of the
-- target (see trulience/edits/kinds.py). The stack is the catalog's, per actor: it survives
-- logout and login and is shared by the CLI and the apps.
--   undo: `undone_at`/`undone_by` are set, the target is given `before` back;
--   redo: a new command (`redo_of` the undone one) applies `after` again, and the undone one
--         is marked `redone_at`;
--   a new edit by the same actor drops their redo stack (`redo_dropped_at`).
-- A bulk edit over many characters is one `group_id`: undone and redone together.
CREATE SEQUENCE edit_command_groups;

CREATE TABLE edit_commands (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        bigint NOT NULL,
    actor           text NOT NULL CONSTRAINT edit_commands_actor_not_blank CHECK (actor <> ''),
    kind            text NOT NULL CONSTRAINT edit_commands_kind_known CHECK (kind IN (
                        'set_field', 'replace_metadata', 'rename', 'tag',
                        'scene_type_settings')),
    target_kind     text NOT NULL CONSTRAINT edit_commands_target_kind_known
                        CHECK (target_kind IN ('character', 'scene_type')),
    target          text NOT NULL,
    field           text NOT NULL DEFAULT '',
    label           text NOT NULL CONSTRAINT edit_commands_label_not_blank CHECK (label <> ''),
    before          jsonb NOT NULL,
    after           jsonb NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    undone_at       timestamptz,
    undone_by       text,
    redone_at       timestamptz,
    redo_of         bigint REFERENCES edit_commands (id),
    redo_dropped_at timestamptz,
    CONSTRAINT edit_commands_undone_by_someone CHECK ((undone_at IS NULL) = (undone_by IS NULL)),
    CONSTRAINT edit_commands_redone_once_undone CHECK (redone_at IS NULL OR undone_at IS NOT NULL)
);
COMMENT ON CONSTRAINT edit_commands_kind_known ON edit_commands IS
    'must be one of: set_field, replace_metadata, rename, tag, scene_type_settings';
COMMENT ON CONSTRAINT edit_commands_target_kind_known ON edit_commands IS
    'must be character or scene_type';
COMMENT ON CONSTRAINT edit_commands_undone_by_someone ON edit_commands IS
    'an undone command names who undid it';
COMMENT ON CONSTRAINT edit_commands_redone_once_undone ON edit_commands IS
    'only an undone command can be redone';

-- the actor's stack, newest first; and what later touched a target (the undo refusal)
CREATE INDEX edit_commands_stack ON edit_commands (actor, id DESC);
CREATE INDEX edit_commands_target ON edit_commands (target_kind, target, id);

SELECT track_table('edit_commands');
