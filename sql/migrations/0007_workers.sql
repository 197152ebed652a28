-- ComfyUI worker pool (PRD-46), workflow and model registry (PRD-17), hardware
-- monitoring (PRD-06).

-- A slot of a worker leased for one segment; the heartbeat keeps it, expiry frees it, so a
-- dead worker's (or a dead run's) segment goes elsewhere.
CREATE TABLE worker_leases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id    bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    holder       text NOT NULL CONSTRAINT worker_leases_holder_not_blank CHECK (btrim(holder) <> ''),
    purpose      text NOT NULL DEFAULT '',
    leased_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    released_at  timestamptz,
    outcome      text CONSTRAINT worker_leases_outcome_known
                 CHECK (outcome IN ('done', 'failed', 'expired', 'worker_lost')),
    CONSTRAINT worker_leases_expiry_after_start CHECK (expires_at > leased_at),
    CONSTRAINT worker_leases_released_with_outcome CHECK ((released_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX worker_leases_active_idx ON worker_leases (worker_id) WHERE released_at IS NULL;

ALTER TABLE workers
    ADD COLUMN failures integer NOT NULL DEFAULT 0 CONSTRAINT workers_failures_not_negative CHECK (failures >= 0),
    ADD COLUMN last_error text,
    ADD COLUMN catalogue_sha256 text CONSTRAINT workers_catalogue_sha256_format CHECK (is_sha256(catalogue_sha256)),
    ADD COLUMN catalogue_drifted boolean NOT NULL DEFAULT false;

-- Model files a workflow version references (from its graph and the worker's object_info).
CREATE TABLE workflow_models (
    workflow_id bigint NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    folder      text NOT NULL CONSTRAINT workflow_models_folder_not_blank CHECK (btrim(folder) <> ''),
    filename    text NOT NULL CONSTRAINT workflow_models_filename_not_blank CHECK (btrim(filename) <> ''),
    node_id     text NOT NULL,
    input_name  text NOT NULL,
    PRIMARY KEY (workflow_id, node_id, input_name)
);

-- Slots bind a scene type's parameters to (node id, input name) of a workflow version.
ALTER TABLE workflows ADD COLUMN slots jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT workflows_slots_object CHECK (jsonb_typeof(slots) = 'object');

-- Hardware samples over time: from NVML on this host, or a worker's /system_stats.
CREATE TABLE hardware_samples (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL CONSTRAINT hardware_samples_source_not_blank CHECK (btrim(source) <> ''),
    worker_id     bigint REFERENCES workers (id) ON DELETE CASCADE,
    device        text NOT NULL,
    taken_at      timestamptz NOT NULL DEFAULT now(),
    utilization   real CONSTRAINT hardware_samples_utilization_range CHECK (utilization BETWEEN 0 AND 100),
    memory_used   bigint CONSTRAINT hardware_samples_memory_used_not_negative CHECK (memory_used >= 0),
    memory_total  bigint CONSTRAINT hardware_samples_memory_total_not_negative CHECK (memory_total >= 0),
    temperature_c real,
    power_w       real CONSTRAINT hardware_samples_power_not_negative CHECK (power_w >= 0),
    detail        jsonb NOT NULL DEFAULT '{}'
                  CONSTRAINT hardware_samples_detail_object CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX hardware_samples_taken_idx ON hardware_samples (source, taken_at DESC);

SELECT track_table('worker_leases');
SELECT track_table('workflow_models', ARRAY['workflow_id', 'node_id', 'input_name']);

-- Liveness stamps (a worker's last_seen_at, a lease's heartbeat_at) change every few
-- seconds; like updated_at they are not changes worth an audit row on their own. Face
-- vectors are derived data recomputable from the images: logging them tripled the log's
-- size in benchmarks/ingest.py, so the log keeps the row without them.
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    any_row jsonb;
    key_parts text[] := '{}';
    key_column text;
    stamps text[] := '{updated_at,last_seen_at,heartbeat_at,expires_at}';
    hidden text[] := '{search,password_hash,embedding,centroid}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_row := to_jsonb(OLD) - hidden; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN new_row := to_jsonb(NEW) - hidden; END IF;
    IF TG_OP = 'UPDATE' AND (old_row - stamps) = (new_row - stamps) THEN
        RETURN NULL;
    END IF;
    any_row := coalesce(new_row, old_row);
    IF TG_NARGS = 0 THEN
        key_parts := ARRAY[any_row ->> 'id'];
    ELSE
        FOREACH key_column IN ARRAY TG_ARGV LOOP
            key_parts := key_parts || (key_column || '=' || coalesce(any_row ->> key_column, ''));
        END LOOP;
    END IF;
    INSERT INTO audit_log (actor, table_name, row_key, action, before, after)
    VALUES (current_actor(), TG_TABLE_NAME, array_to_string(key_parts, ','), TG_OP,
            old_row, new_row);
    RETURN NULL;
END
$$;
