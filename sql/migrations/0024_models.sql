-- Models and LoRAs (PRD-104): the model files our workflows load, registered with their
-- sha256, size and source and kept in our storage, so `trulience models sync` can install
-- them on a worker host (DIR/models/<kind>/<name>) and prove each copy by its checksum.
-- trulience/workers/models.py holds the policy.

-- A kind is a ComfyUI model folder, as GET /models of ComfyUI 0.3.64 names them, less two
-- that hold no single model file: custom_nodes (code, not a model) and diffusers (a model
-- there is a folder of files).
SELECT create_lookup('model_kinds',
    ARRAY['checkpoints', 'configs', 'loras', 'vae', 'text_encoders', 'diffusion_models',
          'clip_vision', 'style_models', 'embeddings', 'vae_approx', 'controlnet', 'gligen',
          'upscale_models', 'hypernetworks', 'photomaker', 'classifiers', 'model_patches',
          'audio_encoders'],
    ARRAY['Checkpoint', 'Model config', 'LoRA', 'VAE', 'Text encoder', 'Diffusion model',
          'CLIP vision', 'Style model', 'Embedding', 'VAE approximation', 'ControlNet',
          'GLIGEN', 'Upscale model', 'Hypernetwork', 'PhotoMaker', 'Classifier',
          'Model patch', 'Audio encoder']);

-- name is the file as ComfyUI lists it in its folder (and a workflow's loader names it):
-- "hero.safetensors", or "sdxl/hero.safetensors" in a subfolder.
CREATE TABLE models (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL REFERENCES model_kinds (code),
    name       text NOT NULL CONSTRAINT models_name_relative CHECK (
                   name <> '' AND name = btrim(name) AND name !~ '^/' AND name !~ '\\'
                   AND name !~ '(^|/)\.{1,2}(/|$)' AND name !~ '//' AND name !~ '/$'
                   AND length(name) <= 255),
    sha256     text NOT NULL CONSTRAINT models_sha256_format CHECK (is_sha256(sha256)),
    size       bigint NOT NULL CONSTRAINT models_size_positive CHECK (size > 0),
    source     text NOT NULL DEFAULT ''
               CONSTRAINT models_source_short CHECK (length(source) <= 2000),
    uri        text NOT NULL CONSTRAINT models_uri_not_blank CHECK (btrim(uri) <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT models_kind_name_unique UNIQUE (kind, name),
    CONSTRAINT models_sha256_unique UNIQUE (sha256)
);
COMMENT ON CONSTRAINT models_name_relative ON models IS
    'must be a relative file name inside the model folder (no leading or trailing "/", no '
    '"." or ".." parts, no backslash, at most 255 characters)';
COMMENT ON CONSTRAINT models_size_positive ON models IS 'an empty file is no model';
COMMENT ON CONSTRAINT models_source_short ON models IS 'a source is at most 2000 characters';
SELECT track_table('models');

-- Which worker has which model file, as its last health check found it (GET /models and
-- /models/<folder>, kept in workers.capabilities): one row per worker and file, so the pool
-- and `trulience models list` read one rule.
CREATE VIEW worker_models AS
SELECT w.id AS worker_id, w.name AS worker, w.pool, w.state, f.key AS kind,
       replace(m.name, '\', '/') AS name
  FROM workers w
 CROSS JOIN LATERAL jsonb_each(coalesce(w.capabilities -> 'models', '{}')) AS f (key, files)
 CROSS JOIN LATERAL jsonb_array_elements_text(
       CASE WHEN jsonb_typeof(f.files) = 'array' THEN f.files ELSE '[]' END) AS m (name);
