-- The production catalog (PRD-00, PRD-01, PRD-47, PRD-60), in third normal form.
-- ON DELETE rules are deliberate: rows that own files in storage RESTRICT (files are
-- reclaimed by policy, never by a cascade); pure links CASCADE with their owner.

CREATE TABLE projects (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL CONSTRAINT projects_slug_unique UNIQUE
                CONSTRAINT projects_slug_format CHECK (is_slug(slug)),
    name        text NOT NULL CONSTRAINT projects_name_not_blank CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'active' REFERENCES project_statuses (code),
    settings    jsonb NOT NULL DEFAULT '{}'
                CONSTRAINT projects_settings_object CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Characters live in the studio-wide library and join projects (PRD-60).
CREATE TABLE characters (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             text NOT NULL CONSTRAINT characters_slug_unique UNIQUE
                     CONSTRAINT characters_slug_format CHECK (is_slug(slug)),
    name             text NOT NULL CONSTRAINT characters_name_not_blank CHECK (btrim(name) <> ''),
    metadata         jsonb NOT NULL DEFAULT '{}'
                     CONSTRAINT characters_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    metadata_version integer NOT NULL DEFAULT 1
                     CONSTRAINT characters_metadata_version_positive CHECK (metadata_version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE project_characters (
    project_id   bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    character_id bigint NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, character_id)
);
CREATE INDEX project_characters_character_idx ON project_characters (character_id);

CREATE TABLE source_images (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    character_id  bigint NOT NULL REFERENCES characters (id) ON DELETE RESTRICT,
    original_name text NOT NULL
                  CONSTRAINT source_images_original_name_not_blank CHECK (btrim(original_name) <> ''),
    version       integer NOT NULL DEFAULT 1
                  CONSTRAINT source_images_version_positive CHECK (version > 0),
    uri           text NOT NULL CONSTRAINT source_images_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256        text NOT NULL CONSTRAINT source_images_sha256_format CHECK (is_sha256(sha256)),
    width         integer NOT NULL CONSTRAINT source_images_width_positive CHECK (width > 0),
    height        integer NOT NULL CONSTRAINT source_images_height_positive CHECK (height > 0),
    format        text NOT NULL CONSTRAINT source_images_format_not_blank CHECK (btrim(format) <> ''),
    qa_status     text NOT NULL DEFAULT 'pending' REFERENCES image_qa_statuses (code),
    qa            jsonb NOT NULL DEFAULT '{}'
                  CONSTRAINT source_images_qa_object CHECK (jsonb_typeof(qa) = 'object'),
    is_primary    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT source_images_name_version_unique UNIQUE (character_id, original_name, version),
    CONSTRAINT source_images_content_unique UNIQUE (character_id, sha256)
);
CREATE UNIQUE INDEX source_images_one_primary ON source_images (character_id) WHERE is_primary;

CREATE TABLE image_variants (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_image_id bigint NOT NULL REFERENCES source_images (id) ON DELETE RESTRICT,
    kind            text NOT NULL REFERENCES variant_kinds (code),
    width           integer NOT NULL CONSTRAINT image_variants_width_sane CHECK (width BETWEEN 16 AND 8192),
    height          integer NOT NULL CONSTRAINT image_variants_height_sane CHECK (height BETWEEN 16 AND 8192),
    params          jsonb NOT NULL DEFAULT '{}'
                    CONSTRAINT image_variants_params_object CHECK (jsonb_typeof(params) = 'object'),
    uri             text NOT NULL CONSTRAINT image_variants_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256          text NOT NULL CONSTRAINT image_variants_sha256_format CHECK (is_sha256(sha256)),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT image_variants_shape_unique UNIQUE (source_image_id, kind, width, height)
);

-- Face embeddings keep each model's native dimension: the column has no fixed size and
-- every model gets its own partial HNSW expression index (added with the model).
CREATE TABLE face_models (
    code        text PRIMARY KEY CONSTRAINT face_models_code_format CHECK (is_slug(code)),
    dimension   integer NOT NULL CONSTRAINT face_models_dimension_sane CHECK (dimension BETWEEN 1 AND 4096),
    description text NOT NULL DEFAULT ''
);

CREATE TABLE face_embeddings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_image_id bigint NOT NULL REFERENCES source_images (id) ON DELETE CASCADE,
    model           text NOT NULL REFERENCES face_models (code),
    embedding       vector NOT NULL,
    det_score       real CONSTRAINT face_embeddings_det_score_range CHECK (det_score BETWEEN 0 AND 1),
    face_box        integer[] CONSTRAINT face_embeddings_face_box_shape CHECK (cardinality(face_box) = 4),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT face_embeddings_image_model_unique UNIQUE (source_image_id, model)
);

CREATE FUNCTION check_embedding_dimension() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    expected integer := (SELECT dimension FROM face_models WHERE code = NEW.model);
BEGIN
    IF expected IS NOT NULL AND vector_dims(NEW.embedding) <> expected THEN
        RAISE EXCEPTION 'embedding has % dimensions, model % produces %',
            vector_dims(NEW.embedding), NEW.model, expected
            USING ERRCODE = 'check_violation', TABLE = 'face_embeddings',
                  COLUMN = 'embedding', CONSTRAINT = 'face_embeddings_dimension_matches_model';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER face_embeddings_dimension BEFORE INSERT OR UPDATE ON face_embeddings
    FOR EACH ROW EXECUTE FUNCTION check_embedding_dimension();

-- ComfyUI workflows in API format, content-addressed (PRD-17 starts here).
CREATE TABLE workflows (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CONSTRAINT workflows_name_format CHECK (is_slug(name)),
    version     integer NOT NULL CONSTRAINT workflows_version_positive CHECK (version > 0),
    sha256      text NOT NULL CONSTRAINT workflows_sha256_format CHECK (is_sha256(sha256)),
    graph       jsonb NOT NULL CONSTRAINT workflows_graph_object CHECK (jsonb_typeof(graph) = 'object'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflows_name_version_unique UNIQUE (name, version),
    CONSTRAINT workflows_name_content_unique UNIQUE (name, sha256)
);

-- A scene type is an identity (slug, parent); its settings are immutable versions, so a
-- scene keeps exactly the settings it was made with. NULL in a version means "inherit".
CREATE TABLE scene_types (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL CONSTRAINT scene_types_slug_unique UNIQUE
               CONSTRAINT scene_types_slug_format CHECK (is_slug(slug)),
    name       text NOT NULL CONSTRAINT scene_types_name_not_blank CHECK (btrim(name) <> ''),
    parent_id  bigint REFERENCES scene_types (id) ON DELETE RESTRICT
               CONSTRAINT scene_types_parent_not_self CHECK (parent_id <> id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION refuse_scene_type_cycle() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE ancestors(id, parent_id) AS (
            SELECT id, parent_id FROM scene_types WHERE id = NEW.parent_id
            UNION
            SELECT s.id, s.parent_id FROM scene_types s JOIN ancestors a ON s.id = a.parent_id
        )
        SELECT 1 FROM ancestors WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION 'scene type % cannot inherit from its own descendant', NEW.slug
            USING ERRCODE = 'check_violation', TABLE = 'scene_types', COLUMN = 'parent_id',
                  CONSTRAINT = 'scene_types_parent_acyclic';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER scene_types_acyclic BEFORE INSERT OR UPDATE OF parent_id ON scene_types
    FOR EACH ROW EXECUTE FUNCTION refuse_scene_type_cycle();

CREATE TABLE scene_type_versions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_type_id      bigint NOT NULL REFERENCES scene_types (id) ON DELETE CASCADE,
    version            integer NOT NULL CONSTRAINT scene_type_versions_version_positive CHECK (version > 0),
    workflow_id        bigint REFERENCES workflows (id) ON DELETE RESTRICT,
    prompt_template    text,
    negative_prompt    text,
    target_duration_s  numeric(9, 3)
                       CONSTRAINT scene_type_versions_target_duration_positive CHECK (target_duration_s > 0),
    segment_duration_s numeric(9, 3)
                       CONSTRAINT scene_type_versions_segment_duration_positive CHECK (segment_duration_s > 0),
    fps                numeric(6, 3)
                       CONSTRAINT scene_type_versions_fps_range CHECK (fps > 0 AND fps <= 240),
    width              integer
                       CONSTRAINT scene_type_versions_width_sane CHECK (width BETWEEN 16 AND 8192 AND width % 2 = 0),
    height             integer
                       CONSTRAINT scene_type_versions_height_sane CHECK (height BETWEEN 16 AND 8192 AND height % 2 = 0),
    seed_policy        text REFERENCES seed_policies (code),
    qa_rules           jsonb CONSTRAINT scene_type_versions_qa_rules_object CHECK (jsonb_typeof(qa_rules) = 'object'),
    presets            jsonb NOT NULL DEFAULT '{}'
                       CONSTRAINT scene_type_versions_presets_object CHECK (jsonb_typeof(presets) = 'object'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scene_type_versions_version_unique UNIQUE (scene_type_id, version),
    CONSTRAINT scene_type_versions_id_type_unique UNIQUE (id, scene_type_id),
    CONSTRAINT scene_type_versions_segment_within_target
        CHECK (segment_duration_s <= target_duration_s)
);

-- A scene is one take of a character in a scene type within a project (PRD-50: takes).
CREATE TABLE scenes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id            bigint NOT NULL,
    character_id          bigint NOT NULL,
    scene_type_id         bigint NOT NULL REFERENCES scene_types (id) ON DELETE RESTRICT,
    scene_type_version_id bigint NOT NULL,
    take                  integer NOT NULL DEFAULT 1 CONSTRAINT scenes_take_positive CHECK (take > 0),
    status                text NOT NULL DEFAULT 'pending' REFERENCES scene_statuses (code),
    uri                   text CONSTRAINT scenes_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256                text CONSTRAINT scenes_sha256_format CHECK (is_sha256(sha256)),
    frames                integer CONSTRAINT scenes_frames_positive CHECK (frames > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- the character must belong to the project, and the version to the scene type
    CONSTRAINT scenes_character_in_project FOREIGN KEY (project_id, character_id)
        REFERENCES project_characters (project_id, character_id) ON DELETE RESTRICT,
    CONSTRAINT scenes_version_of_scene_type FOREIGN KEY (scene_type_version_id, scene_type_id)
        REFERENCES scene_type_versions (id, scene_type_id) ON DELETE RESTRICT,
    CONSTRAINT scenes_take_unique UNIQUE (project_id, character_id, scene_type_id, take)
);
CREATE INDEX scenes_character_idx ON scenes (character_id);
CREATE INDEX scenes_scene_type_idx ON scenes (scene_type_id);

CREATE TABLE segments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id   bigint NOT NULL REFERENCES scenes (id) ON DELETE RESTRICT,
    index      integer NOT NULL CONSTRAINT segments_index_not_negative CHECK (index >= 0),
    attempt    integer NOT NULL DEFAULT 1 CONSTRAINT segments_attempt_positive CHECK (attempt > 0),
    status     text NOT NULL DEFAULT 'pending' REFERENCES segment_statuses (code),
    uri        text CONSTRAINT segments_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256     text CONSTRAINT segments_sha256_format CHECK (is_sha256(sha256)),
    frames     integer CONSTRAINT segments_frames_positive CHECK (frames > 0),
    qa         jsonb NOT NULL DEFAULT '{}' CONSTRAINT segments_qa_object CHECK (jsonb_typeof(qa) = 'object'),
    provenance jsonb NOT NULL DEFAULT '{}'
               CONSTRAINT segments_provenance_object CHECK (jsonb_typeof(provenance) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT segments_index_attempt_unique UNIQUE (scene_id, index, attempt),
    -- a segment past generation has its file: no "generated" row without media
    CONSTRAINT segments_media_when_generated CHECK (
        status IN ('pending', 'generating', 'failed')
        OR (uri IS NOT NULL AND sha256 IS NOT NULL AND frames IS NOT NULL))
);

CREATE TABLE deliverables (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id   bigint NOT NULL REFERENCES scenes (id) ON DELETE RESTRICT,
    status     text NOT NULL DEFAULT 'pending' REFERENCES deliverable_statuses (code),
    uri        text CONSTRAINT deliverables_uri_not_blank CHECK (btrim(uri) <> ''),
    sha256     text CONSTRAINT deliverables_sha256_format CHECK (is_sha256(sha256)),
    manifest   jsonb NOT NULL DEFAULT '{}'
               CONSTRAINT deliverables_manifest_object CHECK (jsonb_typeof(manifest) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL CONSTRAINT users_username_unique UNIQUE
                  CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    display_name  text NOT NULL CONSTRAINT users_display_name_not_blank CHECK (btrim(display_name) <> ''),
    email         text CONSTRAINT users_email_unique UNIQUE
                  CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash text,
    role          text NOT NULL DEFAULT 'viewer' REFERENCES roles (code),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scene_id    bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    reviewer_id bigint NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    decision    text NOT NULL REFERENCES review_decisions (code),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_scene_idx ON reviews (scene_id, created_at);

-- Notes attach to exactly one thing; threads through parent_id (PRD-38, PRD-95).
CREATE TABLE notes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id    bigint NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    parent_id    bigint REFERENCES notes (id) ON DELETE CASCADE,
    project_id   bigint REFERENCES projects (id) ON DELETE CASCADE,
    character_id bigint REFERENCES characters (id) ON DELETE CASCADE,
    scene_id     bigint REFERENCES scenes (id) ON DELETE CASCADE,
    segment_id   bigint REFERENCES segments (id) ON DELETE CASCADE,
    frame        integer CONSTRAINT notes_frame_not_negative CHECK (frame >= 0),
    body         text NOT NULL CONSTRAINT notes_body_not_blank CHECK (btrim(body) <> ''),
    status       text NOT NULL DEFAULT 'open' REFERENCES note_statuses (code),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notes_one_subject CHECK (num_nonnulls(project_id, character_id, scene_id, segment_id) = 1)
);

CREATE TABLE tags (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CONSTRAINT tags_name_unique UNIQUE
               CONSTRAINT tags_name_format CHECK (name ~ '^[a-z0-9][a-z0-9 _:.-]{0,62}$'),
    color      text CONSTRAINT tags_color_format CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entity_tags (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag_id       bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    project_id   bigint REFERENCES projects (id) ON DELETE CASCADE,
    character_id bigint REFERENCES characters (id) ON DELETE CASCADE,
    scene_id     bigint REFERENCES scenes (id) ON DELETE CASCADE,
    segment_id   bigint REFERENCES segments (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entity_tags_one_subject
        CHECK (num_nonnulls(project_id, character_id, scene_id, segment_id) = 1),
    CONSTRAINT entity_tags_once UNIQUE NULLS NOT DISTINCT
        (tag_id, project_id, character_id, scene_id, segment_id)
);
CREATE INDEX entity_tags_character_idx ON entity_tags (character_id) WHERE character_id IS NOT NULL;

CREATE TABLE workers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CONSTRAINT workers_name_unique UNIQUE
                 CONSTRAINT workers_name_format CHECK (is_slug(name)),
    url          text NOT NULL CONSTRAINT workers_url_unique UNIQUE
                 CONSTRAINT workers_url_format CHECK (url ~ '^https?://[^\s/]+'),
    pool         text NOT NULL DEFAULT 'default' CONSTRAINT workers_pool_format CHECK (is_slug(pool)),
    slots        integer NOT NULL DEFAULT 1 CONSTRAINT workers_slots_range CHECK (slots BETWEEN 1 AND 64),
    state        text NOT NULL DEFAULT 'online' REFERENCES worker_states (code),
    capabilities jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT workers_capabilities_object CHECK (jsonb_typeof(capabilities) = 'object'),
    last_seen_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

SELECT track_table('projects');
SELECT track_table('characters');
SELECT track_table('project_characters', ARRAY['project_id', 'character_id']);
SELECT track_table('source_images');
SELECT track_table('image_variants');
SELECT track_table('face_models', ARRAY['code']);
SELECT track_table('face_embeddings');
SELECT track_table('workflows');
SELECT track_table('scene_types');
SELECT track_table('scene_type_versions');
SELECT track_table('scenes');
SELECT track_table('segments');
SELECT track_table('deliverables');
SELECT track_table('users');
SELECT track_table('reviews');
SELECT track_table('notes');
SELECT track_table('tags');
SELECT track_table('entity_tags');
SELECT track_table('workers');
