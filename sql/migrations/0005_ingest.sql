-- Ingest (PRD-13, 14, 16, 21, 22, 76, 79, 107): face models with per-model vector
-- indexes, identity calibration, duplicate candidates, metadata sidecar sync, inbox drops
-- and the per-character readiness view.

-- Register a face model and give it its own partial HNSW index: embeddings keep their
-- native dimension, and pgvector indexes mixed dimensions through an expression cast.
-- Queries must use the same cast and model filter to use it.
CREATE FUNCTION ensure_face_model(model_code text, model_dimension integer,
                                  model_description text DEFAULT '') RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    known integer := (SELECT dimension FROM face_models WHERE code = model_code);
BEGIN
    IF known IS NOT NULL AND known <> model_dimension THEN
        RAISE EXCEPTION 'face model % is registered with % dimensions, not %',
            model_code, known, model_dimension
            USING ERRCODE = 'check_violation', TABLE = 'face_models', COLUMN = 'dimension',
                  CONSTRAINT = 'face_models_dimension_fixed';
    END IF;
    INSERT INTO face_models (code, dimension, description)
    VALUES (model_code, model_dimension, model_description)
    ON CONFLICT (code) DO NOTHING;
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON face_embeddings USING hnsw '
        '((embedding::vector(%s)) vector_cosine_ops) WHERE model = %L',
        'face_embeddings_hnsw_' || replace(model_code, '-', '_'), model_dimension, model_code);
END
$$;

-- Who chose a character's primary image: QA picks the best-scoring one unless a producer
-- chose, and a producer's choice is never overridden by a later QA pass.
ALTER TABLE source_images
    ADD COLUMN primary_by text CONSTRAINT source_images_primary_by_known
        CHECK (primary_by IN ('qa', 'producer'));
-- primaries chosen before this migration were set by hand
UPDATE source_images SET primary_by = 'producer' WHERE is_primary;
ALTER TABLE source_images
    ADD CONSTRAINT source_images_primary_by_when_primary CHECK ((primary_by IS NOT NULL) = is_primary);

-- A character's identity per model: the centroid of its source-image embeddings and the
-- band of cosine similarities its own images (and their augmentations) reach, so video QA
-- gates against the character's own spread rather than one global constant.
CREATE TABLE character_identities (
    character_id   bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    model          text NOT NULL REFERENCES face_models (code),
    centroid       vector NOT NULL,
    samples        integer NOT NULL CONSTRAINT character_identities_samples_positive CHECK (samples > 0),
    same_min       real NOT NULL CONSTRAINT character_identities_same_min_range CHECK (same_min BETWEEN -1 AND 1),
    same_p05       real NOT NULL CONSTRAINT character_identities_same_p05_range CHECK (same_p05 BETWEEN -1 AND 1),
    same_median    real NOT NULL CONSTRAINT character_identities_same_median_range CHECK (same_median BETWEEN -1 AND 1),
    threshold      real NOT NULL CONSTRAINT character_identities_threshold_range CHECK (threshold BETWEEN -1 AND 1),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (character_id, model),
    CONSTRAINT character_identities_band_ordered CHECK (same_min <= same_p05 AND same_p05 <= same_median)
);

SELECT create_lookup('duplicate_resolutions',
    ARRAY['open', 'keep_both', 'merged'],
    ARRAY['Awaiting a producer', 'Different people: keep both', 'Same person: merged']);

-- A possible duplicate: the newer character's face matches an older one's (PRD-79).
CREATE TABLE duplicate_candidates (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    character_id       bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    other_character_id bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    model              text NOT NULL REFERENCES face_models (code),
    score              real NOT NULL CONSTRAINT duplicate_candidates_score_range CHECK (score BETWEEN -1 AND 1),
    resolution         text NOT NULL DEFAULT 'open' REFERENCES duplicate_resolutions (code),
    resolved_by        text,
    resolved_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT duplicate_candidates_not_self CHECK (character_id <> other_character_id),
    CONSTRAINT duplicate_candidates_pair_unique UNIQUE (character_id, other_character_id, model),
    CONSTRAINT duplicate_candidates_resolved_consistently
        CHECK ((resolution = 'open') = (resolved_at IS NULL))
);

-- Dual metadata (PRD-13): what the last sync saw on each side, so an edit on both sides
-- since then is a conflict, never a silent overwrite.
CREATE TABLE metadata_sync (
    character_id   bigint PRIMARY KEY REFERENCES characters (id) ON DELETE CASCADE,
    synced_version integer NOT NULL CONSTRAINT metadata_sync_version_positive CHECK (synced_version > 0),
    sidecar_uri    text NOT NULL CONSTRAINT metadata_sync_uri_not_blank CHECK (btrim(sidecar_uri) <> ''),
    sidecar_sha256 text NOT NULL CONSTRAINT metadata_sync_sha256_format CHECK (is_sha256(sidecar_sha256)),
    synced_at      timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

SELECT create_lookup('drop_outcomes',
    ARRAY['imported', 'unchanged', 'rejected'],
    ARRAY['Imported', 'Unchanged', 'Rejected']);

-- Every inbox folder the sensor processed, with the content fingerprint it saw.
CREATE TABLE inbox_drops (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_slug text NOT NULL,
    folder       text NOT NULL CONSTRAINT inbox_drops_folder_not_blank CHECK (btrim(folder) <> ''),
    fingerprint  text NOT NULL CONSTRAINT inbox_drops_fingerprint_format CHECK (is_sha256(fingerprint)),
    outcome      text NOT NULL REFERENCES drop_outcomes (code),
    character_id bigint REFERENCES characters (id) ON DELETE SET NULL,
    report       jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT inbox_drops_report_object CHECK (jsonb_typeof(report) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_drops_folder_idx ON inbox_drops (project_slug, folder, created_at DESC);

SELECT track_table('character_identities', ARRAY['character_id', 'model']);
SELECT track_table('duplicate_candidates');
SELECT track_table('metadata_sync', ARRAY['character_id']);
SELECT track_table('inbox_drops');

-- Readiness per character (PRD-107): what it has and what is still missing.
CREATE VIEW character_readiness AS
SELECT c.id AS character_id,
       c.slug,
       c.name,
       (SELECT count(*) FROM source_images s WHERE s.character_id = c.id) AS images,
       (SELECT count(*) FROM source_images s
         WHERE s.character_id = c.id AND s.qa_status = 'passed') AS images_passed,
       (SELECT count(*) FROM source_images s
         WHERE s.character_id = c.id AND s.qa_status = 'failed') AS images_failed,
       EXISTS (SELECT 1 FROM source_images s
                WHERE s.character_id = c.id AND s.is_primary) AS has_primary,
       (SELECT coalesce(array_agg(i.model ORDER BY i.model), '{}')
          FROM character_identities i WHERE i.character_id = c.id) AS identity_models,
       (SELECT count(*) FROM image_variants v JOIN source_images s ON s.id = v.source_image_id
         WHERE s.character_id = c.id) AS variants,
       (SELECT count(*) FROM duplicate_candidates d
         WHERE (d.character_id = c.id OR d.other_character_id = c.id)
           AND d.resolution = 'open') AS open_duplicates,
       (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (
            SELECT sc.status, count(*) AS n FROM scenes sc
             WHERE sc.character_id = c.id GROUP BY sc.status) AS by_status) AS scenes_by_status,
       (SELECT count(*) FROM scenes sc
         WHERE sc.character_id = c.id
           AND (SELECT r.decision FROM reviews r WHERE r.scene_id = sc.id
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 1) = 'approved') AS scenes_approved,
       (SELECT count(*) FROM deliverables dl JOIN scenes sc ON sc.id = dl.scene_id
         WHERE sc.character_id = c.id AND dl.status = 'delivered') AS scenes_delivered
  FROM characters c;
