-- The recursive generation loop (PRD-23, 24, 27, 28, 34, 69, 100): scene type settings
-- for seeds and presets, immutable versions, the effective config a take was made with,
-- the current attempt of each segment, and mid-run control of a take.

ALTER TABLE scene_type_versions
    ADD COLUMN seed bigint CONSTRAINT scene_type_versions_seed_range CHECK (seed >= 0),
    ADD COLUMN preset text CONSTRAINT scene_type_versions_preset_not_blank CHECK (btrim(preset) <> ''),
    ADD COLUMN params jsonb CONSTRAINT scene_type_versions_params_object CHECK (jsonb_typeof(params) = 'object'),
    ADD COLUMN created_by text;

-- Versions are history: a scene keeps the exact settings it was made with, so an edit is a
-- new version, never an UPDATE of an old one.
CREATE FUNCTION refuse_version_edit() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'scene type versions are immutable: add a new version instead'
        USING ERRCODE = 'insufficient_privilege', TABLE = 'scene_type_versions';
END
$$;
CREATE TRIGGER scene_type_versions_immutable BEFORE UPDATE ON scene_type_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_version_edit();

INSERT INTO scene_statuses (code, label, position) VALUES ('paused', 'Paused', 8);

-- What a producer asked the loop to do between segments (human intent), kept apart from
-- the scene's machine status.
SELECT create_lookup('scene_controls',
    ARRAY['run', 'pause', 'cancel'],
    ARRAY['Run', 'Pause between segments', 'Cancel after the current segment']);

ALTER TABLE scenes
    ADD COLUMN control text NOT NULL DEFAULT 'run' REFERENCES scene_controls (code),
    ADD COLUMN control_by text,
    ADD COLUMN effective_config jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT scenes_effective_config_object CHECK (jsonb_typeof(effective_config) = 'object'),
    ADD COLUMN planned_segments integer CONSTRAINT scenes_planned_segments_positive CHECK (planned_segments > 0),
    ADD COLUMN failure text;

-- Every attempt at a segment is kept; exactly one per index is the scene's current take.
ALTER TABLE segments ADD COLUMN current boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX segments_one_current ON segments (scene_id, index) WHERE current;
ALTER TABLE segments ADD CONSTRAINT segments_current_is_generated
    CHECK (NOT current OR status IN ('generated', 'qa_passed', 'qa_failed'));

-- Reasons the catalog gives when these refuse a row (read by the repository's errors).
COMMENT ON CONSTRAINT scene_type_versions_segment_within_target ON scene_type_versions IS
    'the segment duration must not exceed the target duration';
COMMENT ON CONSTRAINT scene_type_versions_fps_range ON scene_type_versions IS
    'must be greater than 0 and at most 240';
COMMENT ON CONSTRAINT scene_type_versions_width_sane ON scene_type_versions IS
    'must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes)';
COMMENT ON CONSTRAINT scene_type_versions_height_sane ON scene_type_versions IS
    'must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes)';
