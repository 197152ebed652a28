-- Per-character overrides of scene-type settings (PRD-108, issue 17): a character whose
-- walk needs a longer take, another seed or its own prompt keeps those few settings here;
-- a take of that character in that scene type is made with the scene type's effective
-- configuration and these settings on top (params and presets merge key by key). Other
-- characters are not touched. Settings are the scene-type definition's own names
-- (trulience/generation/scene_definition.py FIELDS), checked by the same rules.
CREATE TABLE character_scene_overrides (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    character_id bigint NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    scene_type_id bigint NOT NULL REFERENCES scene_types(id) ON DELETE CASCADE,
    settings jsonb NOT NULL DEFAULT '{}'::jsonb
        CONSTRAINT character_scene_overrides_settings_object
            CHECK (jsonb_typeof(settings) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT character_scene_overrides_once UNIQUE (character_id, scene_type_id)
);
COMMENT ON CONSTRAINT character_scene_overrides_settings_object ON character_scene_overrides IS
    'a character''s overrides must be a JSON object of scene-type settings';
COMMENT ON CONSTRAINT character_scene_overrides_once ON character_scene_overrides IS
    'a character has one set of overrides per scene type';
CREATE INDEX character_scene_overrides_scene_type ON character_scene_overrides (scene_type_id);
SELECT track_table('character_scene_overrides');
