-- Lookup tables: every status and kind is a row here, referenced by foreign key, so a
-- misspelt status is refused by the database and the allowed values are data, not code.

CREATE FUNCTION create_lookup(table_name text, codes text[], labels text[]) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format(
        'CREATE TABLE %I ('
        '  code text PRIMARY KEY CONSTRAINT %I CHECK (code ~ ''^[a-z][a-z_]{0,31}$''),'
        '  label text NOT NULL CONSTRAINT %I CHECK (btrim(label) <> ''''),'
        '  position smallint NOT NULL)',
        table_name, table_name || '_code_format', table_name || '_label_not_blank');
    EXECUTE format(
        'INSERT INTO %I (code, label, position) '
        'SELECT c, l, o FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(c, l, o)',
        table_name) USING codes, labels;
    PERFORM track_table(table_name::regclass, ARRAY['code']);
END
$$;

SELECT create_lookup('project_statuses',
    ARRAY['active', 'archived'],
    ARRAY['Active', 'Archived']);

SELECT create_lookup('image_qa_statuses',
    ARRAY['pending', 'passed', 'failed'],
    ARRAY['Awaiting QA', 'Passed QA', 'Failed QA']);

SELECT create_lookup('variant_kinds',
    ARRAY['crop', 'pad', 'resize'],
    ARRAY['Face-centred crop', 'Padded', 'Resized']);

SELECT create_lookup('seed_policies',
    ARRAY['fixed', 'increment', 'random'],
    ARRAY['Same seed every segment', 'Seed + segment index', 'Random, recorded']);

-- Machine state of a scene (owned by the pipeline) ...
SELECT create_lookup('scene_statuses',
    ARRAY['pending', 'generating', 'generated', 'qa_failed', 'assembled', 'failed', 'cancelled'],
    ARRAY['Pending', 'Generating', 'Generated', 'Failed QA', 'Assembled', 'Failed', 'Cancelled']);

SELECT create_lookup('segment_statuses',
    ARRAY['pending', 'generating', 'generated', 'qa_passed', 'qa_failed', 'failed', 'superseded'],
    ARRAY['Pending', 'Generating', 'Generated', 'Passed QA', 'Failed QA', 'Failed', 'Superseded']);

-- ... and the human verdict on it (owned by reviewers), kept apart on purpose.
SELECT create_lookup('review_decisions',
    ARRAY['approved', 'rejected', 'flagged'],
    ARRAY['Approved', 'Rejected', 'Flagged']);

SELECT create_lookup('deliverable_statuses',
    ARRAY['pending', 'packaged', 'delivered', 'failed'],
    ARRAY['Pending', 'Packaged', 'Delivered', 'Failed']);

SELECT create_lookup('note_statuses',
    ARRAY['open', 'resolved'],
    ARRAY['Open', 'Resolved']);

SELECT create_lookup('roles',
    ARRAY['admin', 'producer', 'reviewer', 'viewer'],
    ARRAY['Administrator', 'Producer', 'Reviewer', 'Viewer']);

SELECT create_lookup('worker_states',
    ARRAY['online', 'draining', 'offline'],
    ARRAY['Online', 'Draining', 'Offline']);
