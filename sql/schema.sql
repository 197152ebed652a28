-- The catalog schema that sql/migrations produce, applied in order (pg_dump --schema-only,
-- normalised). Generated: do not edit by hand; regenerate with
--   .venv/bin/python -m trulience.catalog.snapshot --write

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

CREATE FUNCTION public.announce_batch_in_pool() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM announce_pool('batch', 'update', NULL, NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_decision() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    review reviews := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM pg_notify('trulience_review', json_build_object(
        'kind', 'decision', 'action', lower(TG_OP), 'scene_id', review.scene_id,
        'id', review.id,
        'by', (SELECT u.display_name FROM users u WHERE u.id = review.reviewer_id),
        'decision', review.decision)::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_grant() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('trulience_pool',
                      json_build_object('request', NEW.id, 'pool', NEW.pool)::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_lease() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM announce_pool('lease', lower(TG_OP),
                          (SELECT w.pool FROM workers w WHERE w.id = NEW.worker_id), NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_note() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    take_id bigint := coalesce(NEW.scene_id,
                               (SELECT g.scene_id FROM segments g WHERE g.id = NEW.segment_id));
BEGIN
    IF take_id IS NOT NULL THEN
        PERFORM pg_notify('trulience_review', json_build_object(
            'kind', 'note', 'action', lower(TG_OP), 'scene_id', take_id, 'id', NEW.id,
            'by', (SELECT u.display_name FROM users u WHERE u.id = NEW.author_id),
            'frame', NEW.frame, 'reply', NEW.parent_id IS NOT NULL)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_pool(kind text, action text, pool_name text, take_id bigint) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_notify('trulience_pool', json_build_object(
        'kind', kind, 'action', action, 'pool', pool_name, 'scene_id', take_id)::text);
$$;

CREATE FUNCTION public.announce_queue(kind text, action text, take_id bigint) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_notify('trulience_queue', json_build_object(
        'kind', kind, 'action', action, 'scene_id', take_id)::text);
$$;

CREATE FUNCTION public.announce_queue_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM announce_queue(TG_ARGV[0], lower(TG_OP),
                           CASE WHEN TG_OP = 'DELETE' THEN OLD.scene_id ELSE NEW.scene_id END);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_segment_request() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    row segment_requests := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM announce_pool('request', lower(TG_OP), row.pool, row.scene_id);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_take() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM announce_queue('take', 'insert', NEW.id);
    ELSIF NEW.promoted IS DISTINCT FROM OLD.promoted THEN
        PERFORM announce_queue('promotion', 'update', NEW.id);
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.branch IS DISTINCT FROM OLD.branch THEN
        PERFORM announce_queue('take', 'update', NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_take_in_pool() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM announce_pool('take', 'update', NULL, NEW.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.announce_worker() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    row workers := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM announce_pool('worker', lower(TG_OP), row.pool, NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION public.audit_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    hidden text[];
    stamps text[];
    redacted text[];
    old_row jsonb;
    new_row jsonb;
    any_row jsonb;
    key_parts text[] := '{}';
    key_column text;
    secret_column text;
BEGIN
    SELECT c.hidden, c.stamps, c.redacted INTO hidden, stamps, redacted
      FROM audit_policy_by_table c
     WHERE c.table_name IN (TG_TABLE_NAME, '*')
     ORDER BY c.table_name = '*' LIMIT 1;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_row := to_jsonb(OLD) - hidden; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN new_row := to_jsonb(NEW) - hidden; END IF;
    -- compared before redaction, so a changed secret counts as a change
    IF TG_OP = 'UPDATE' AND (old_row - stamps) = (new_row - stamps) THEN
        RETURN NULL;
    END IF;
    FOREACH secret_column IN ARRAY redacted LOOP
        IF jsonb_typeof(new_row -> secret_column) <> 'null' THEN
            new_row := jsonb_set(new_row, ARRAY[secret_column], CASE
                WHEN TG_OP = 'UPDATE'
                     AND (old_row -> secret_column) IS DISTINCT FROM (new_row -> secret_column)
                THEN '"[redacted: changed]"' ELSE '"[redacted]"' END::jsonb);
        END IF;
        IF jsonb_typeof(old_row -> secret_column) <> 'null' THEN
            old_row := jsonb_set(old_row, ARRAY[secret_column], '"[redacted]"');
        END IF;
    END LOOP;
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

CREATE FUNCTION public.check_embedding_dimension() RETURNS trigger
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

CREATE FUNCTION public.create_lookup(table_name text, codes text[], labels text[]) RETURNS void
    LANGUAGE plpgsql
    AS $_$
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
$_$;

CREATE FUNCTION public.current_actor() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(nullif(current_setting('trulience.actor', true), ''), 'db:' || session_user) $$;

CREATE FUNCTION public.ensure_face_model(model_code text, model_dimension integer, model_description text DEFAULT ''::text) RETURNS void
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

CREATE FUNCTION public.is_sha256(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $_$ SELECT value ~ '^[0-9a-f]{64}$' $_$;

CREATE FUNCTION public.is_slug(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $_$ SELECT value ~ '^[a-z0-9][a-z0-9_-]{0,62}$' $_$;

CREATE FUNCTION public.record_scene_revision() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    newest scene_revisions;
BEGIN
    SELECT * INTO newest FROM scene_revisions WHERE scene_id = NEW.id
     ORDER BY revision DESC LIMIT 1;
    IF newest.id IS NOT NULL AND newest.sha256 IS NULL AND newest.uri IS NULL
       AND NOT EXISTS (SELECT 1 FROM reviews r
                        WHERE r.scene_id = NEW.id AND r.revision = newest.revision) THEN
        UPDATE scene_revisions SET uri = NEW.uri, sha256 = NEW.sha256, frames = NEW.frames
         WHERE id = newest.id;
    ELSIF newest.id IS NULL
          OR (TG_OP = 'UPDATE' AND NEW.sha256 IS NOT NULL
              AND NEW.sha256 IS DISTINCT FROM OLD.sha256) THEN
        INSERT INTO scene_revisions (scene_id, revision, uri, sha256, frames)
        VALUES (NEW.id, coalesce(newest.revision, 0) + 1, NEW.uri, NEW.sha256, NEW.frames);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.refresh_audit_policy() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    REFRESH MATERIALIZED VIEW audit_policy_by_table;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', TABLE = 'audit_log';
END
$$;

CREATE FUNCTION public.refuse_scene_type_cycle() RETURNS trigger
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

CREATE FUNCTION public.refuse_unknown_webhook_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    unknown text := (SELECT string_agg(e, ', ') FROM unnest(NEW.events) AS e
                      WHERE e IS NULL OR e NOT IN (SELECT code FROM notification_kinds));
BEGIN
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown event % (must be one of: %)', unknown,
            (SELECT string_agg(code, ', ' ORDER BY position) FROM notification_kinds)
            USING ERRCODE = 'check_violation', TABLE = 'webhooks', COLUMN = 'events',
                  CONSTRAINT = 'webhooks_events_known';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.refuse_version_edit() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'scene type versions are immutable: add a new version instead'
        USING ERRCODE = 'insufficient_privilege', TABLE = 'scene_type_versions';
END
$$;

CREATE FUNCTION public.review_supersedes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.revision IS NULL THEN
        NEW.revision := coalesce(
            (SELECT max(v.revision) FROM scene_revisions v WHERE v.scene_id = NEW.scene_id), 1);
    END IF;
    IF NEW.current THEN
        UPDATE reviews SET current = false
         WHERE scene_id = NEW.scene_id AND revision = NEW.revision
           AND reviewer_id = NEW.reviewer_id AND current
        RETURNING id INTO NEW.supersedes;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.scene_revision_stage() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.stage IS NULL THEN
        NEW.stage := (SELECT stage FROM scenes WHERE id = NEW.scene_id);
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE FUNCTION public.track_table(tbl regclass, key_columns text[] DEFAULT '{}'::text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    args text := (SELECT coalesce(string_agg(quote_literal(c), ', '), '') FROM unnest(key_columns) AS c);
BEGIN
    EXECUTE format(
        'CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s '
        'FOR EACH ROW EXECUTE FUNCTION audit_row(%s)', tbl, args);
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = tbl AND attname = 'updated_at' AND NOT attisdropped) THEN
        EXECUTE format(
            'CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %s '
            'FOR EACH ROW EXECUTE FUNCTION touch_updated_at()', tbl);
    END IF;
END
$$;

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    actor text NOT NULL,
    table_name text NOT NULL,
    row_key text NOT NULL,
    action text NOT NULL,
    before jsonb,
    after jsonb,
    txid bigint DEFAULT txid_current() NOT NULL,
    CONSTRAINT audit_log_action_known CHECK ((action = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text])))
);

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.audit_policy (
    table_name text NOT NULL,
    column_name text NOT NULL,
    treatment text NOT NULL,
    reason text NOT NULL,
    CONSTRAINT audit_policy_column_name_format CHECK ((column_name ~ '^[a-z_][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT audit_policy_reason_not_blank CHECK ((btrim(reason) <> ''::text)),
    CONSTRAINT audit_policy_table_name_format CHECK (((table_name = '*'::text) OR (table_name ~ '^[a-z_][a-z0-9_]{0,62}$'::text)))
);

COMMENT ON CONSTRAINT audit_policy_column_name_format ON public.audit_policy IS 'must be a lowercase column name';

COMMENT ON CONSTRAINT audit_policy_reason_not_blank ON public.audit_policy IS 'must say why the column is treated so';

COMMENT ON CONSTRAINT audit_policy_table_name_format ON public.audit_policy IS 'must be a lowercase table name, or * for any table';

CREATE MATERIALIZED VIEW public.audit_policy_by_table AS
 SELECT t.table_name,
    COALESCE(array_agg(p.column_name ORDER BY p.column_name) FILTER (WHERE (p.treatment = 'hidden'::text)), '{}'::text[]) AS hidden,
    COALESCE(array_agg(p.column_name ORDER BY p.column_name) FILTER (WHERE (p.treatment = 'stamp'::text)), '{}'::text[]) AS stamps,
    COALESCE(array_agg(p.column_name ORDER BY p.column_name) FILTER (WHERE (p.treatment = 'redacted'::text)), '{}'::text[]) AS redacted
   FROM (( SELECT audit_policy.table_name
           FROM public.audit_policy
        UNION
         SELECT '*'::text) t
     LEFT JOIN LATERAL ( SELECT DISTINCT ON (a.column_name) a.column_name,
            a.treatment
           FROM public.audit_policy a
          WHERE (a.table_name = ANY (ARRAY[t.table_name, '*'::text]))
          ORDER BY a.column_name, (a.table_name = '*'::text)) p ON (true))
  GROUP BY t.table_name
  WITH NO DATA;

CREATE TABLE public.audit_treatments (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT audit_treatments_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT audit_treatments_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.batch_items (
    id bigint NOT NULL,
    batch_id bigint NOT NULL,
    project_id bigint NOT NULL,
    character_id bigint NOT NULL,
    scene_type_id bigint NOT NULL,
    after_take integer,
    scene_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT batch_items_after_take_not_negative CHECK ((after_take >= 0)),
    CONSTRAINT batch_items_linked_after_launch CHECK (((scene_id IS NULL) OR (after_take IS NOT NULL)))
);

COMMENT ON CONSTRAINT batch_items_linked_after_launch ON public.batch_items IS 'a take is linked only after the batch was launched';

CREATE TABLE public.batches (
    id bigint NOT NULL,
    project_id bigint NOT NULL,
    priority smallint DEFAULT 0 NOT NULL,
    requested_by text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    estimate_gpu_s numeric(14,1),
    estimate_low_s numeric(14,1),
    estimate_high_s numeric(14,1),
    estimate_basis jsonb DEFAULT '{}'::jsonb NOT NULL,
    dagster_backfill_id text,
    launched_at timestamp with time zone,
    failure text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT batches_dagster_backfill_id_not_blank CHECK ((btrim(dagster_backfill_id) <> ''::text)),
    CONSTRAINT batches_estimate_basis_object CHECK ((jsonb_typeof(estimate_basis) = 'object'::text)),
    CONSTRAINT batches_estimate_complete CHECK ((num_nulls(estimate_gpu_s, estimate_low_s, estimate_high_s) = ANY (ARRAY[0, 3]))),
    CONSTRAINT batches_estimate_not_negative CHECK ((estimate_gpu_s >= (0)::numeric)),
    CONSTRAINT batches_estimate_range_ordered CHECK (((estimate_low_s <= estimate_gpu_s) AND (estimate_gpu_s <= estimate_high_s))),
    CONSTRAINT batches_priority_range CHECK (((priority >= '-100'::integer) AND (priority <= 100))),
    CONSTRAINT batches_requested_by_not_blank CHECK ((btrim(requested_by) <> ''::text)),
    CONSTRAINT batches_running_has_backfill CHECK (((status <> ALL (ARRAY['running'::text, 'completed'::text])) OR (dagster_backfill_id IS NOT NULL)))
);

COMMENT ON CONSTRAINT batches_estimate_complete ON public.batches IS 'an estimate has an expected value, a low and a high bound, or none of them';

COMMENT ON CONSTRAINT batches_estimate_range_ordered ON public.batches IS 'the estimate must lie within its range (low <= expected <= high)';

COMMENT ON CONSTRAINT batches_priority_range ON public.batches IS 'must be a whole number from -100 to 100 (higher runs first)';

COMMENT ON CONSTRAINT batches_running_has_backfill ON public.batches IS 'a running or completed batch must name its Dagster backfill';

CREATE TABLE public.deliverables (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    uri text,
    sha256 text,
    manifest jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    revision integer,
    CONSTRAINT deliverables_manifest_object CHECK ((jsonb_typeof(manifest) = 'object'::text)),
    CONSTRAINT deliverables_revision_positive CHECK ((revision > 0)),
    CONSTRAINT deliverables_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT deliverables_uri_not_blank CHECK ((btrim(uri) <> ''::text))
);

CREATE TABLE public.notes (
    id bigint NOT NULL,
    author_id bigint NOT NULL,
    parent_id bigint,
    project_id bigint,
    character_id bigint,
    scene_id bigint,
    segment_id bigint,
    frame integer,
    body text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED,
    scene_type_id bigint,
    deliverable_id bigint,
    CONSTRAINT notes_body_not_blank CHECK ((btrim(body) <> ''::text)),
    CONSTRAINT notes_frame_not_negative CHECK ((frame >= 0)),
    CONSTRAINT notes_one_subject CHECK ((num_nonnulls(project_id, character_id, scene_id, segment_id, scene_type_id, deliverable_id) = 1))
);

COMMENT ON CONSTRAINT notes_one_subject ON public.notes IS 'a note is on exactly one of a project, character, scene type, take, segment or delivery';

CREATE TABLE public.reviews (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    reviewer_id bigint NOT NULL,
    decision text NOT NULL,
    comment text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revision integer NOT NULL,
    current boolean DEFAULT true NOT NULL,
    supersedes bigint,
    undo_until timestamp with time zone,
    delivery_requested_at timestamp with time zone,
    open_notes_acknowledged integer DEFAULT 0 NOT NULL,
    CONSTRAINT reviews_open_notes_acknowledged_not_negative CHECK ((open_notes_acknowledged >= 0)),
    CONSTRAINT reviews_revision_positive CHECK ((revision > 0))
);

COMMENT ON CONSTRAINT reviews_revision_positive ON public.reviews IS 'revisions are numbered from 1';

CREATE TABLE public.scene_revisions (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    revision integer NOT NULL,
    uri text,
    sha256 text,
    frames integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    stage text,
    CONSTRAINT scene_revisions_frames_not_negative CHECK ((frames >= 0)),
    CONSTRAINT scene_revisions_revision_positive CHECK ((revision > 0)),
    CONSTRAINT scene_revisions_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT scene_revisions_stage_known CHECK ((stage = ANY (ARRAY['preview'::text, 'final'::text]))),
    CONSTRAINT scene_revisions_uri_not_blank CHECK ((btrim(uri) <> ''::text))
);

CREATE TABLE public.scenes (
    id bigint NOT NULL,
    project_id bigint NOT NULL,
    character_id bigint NOT NULL,
    scene_type_id bigint NOT NULL,
    scene_type_version_id bigint NOT NULL,
    take integer DEFAULT 1 NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    uri text,
    sha256 text,
    frames integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    control text DEFAULT 'run'::text NOT NULL,
    control_by text,
    effective_config jsonb DEFAULT '{}'::jsonb NOT NULL,
    planned_segments integer,
    failure text,
    prompt_id text,
    prompt_worker text,
    prompt_segment integer,
    prompt_submitted_at timestamp with time zone,
    branch text DEFAULT 'main'::text NOT NULL,
    branch_overrides jsonb DEFAULT '{}'::jsonb NOT NULL,
    promoted boolean DEFAULT false NOT NULL,
    promoted_by text,
    promoted_at timestamp with time zone,
    priority smallint,
    stage text,
    CONSTRAINT scenes_branch_format CHECK ((branch ~ '^[a-z0-9][a-z0-9._-]{0,62}$'::text)),
    CONSTRAINT scenes_branch_overrides_object CHECK ((jsonb_typeof(branch_overrides) = 'object'::text)),
    CONSTRAINT scenes_effective_config_object CHECK ((jsonb_typeof(effective_config) = 'object'::text)),
    CONSTRAINT scenes_frames_positive CHECK ((frames > 0)),
    CONSTRAINT scenes_planned_segments_positive CHECK ((planned_segments > 0)),
    CONSTRAINT scenes_priority_range CHECK (((priority >= '-100'::integer) AND (priority <= 100))),
    CONSTRAINT scenes_promotion_complete CHECK ((promoted = ((promoted_by IS NOT NULL) AND (promoted_at IS NOT NULL)))),
    CONSTRAINT scenes_prompt_complete CHECK ((((prompt_id IS NULL) = (prompt_worker IS NULL)) AND ((prompt_id IS NULL) = (prompt_segment IS NULL)) AND ((prompt_id IS NULL) = (prompt_submitted_at IS NULL)))),
    CONSTRAINT scenes_prompt_id_not_blank CHECK ((btrim(prompt_id) <> ''::text)),
    CONSTRAINT scenes_prompt_segment_not_negative CHECK ((prompt_segment >= 0)),
    CONSTRAINT scenes_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT scenes_stage_known CHECK ((stage = ANY (ARRAY['preview'::text, 'final'::text]))),
    CONSTRAINT scenes_take_positive CHECK ((take > 0)),
    CONSTRAINT scenes_uri_not_blank CHECK ((btrim(uri) <> ''::text))
);

COMMENT ON CONSTRAINT scenes_branch_format ON public.scenes IS 'a branch name is lower-case letters, digits, dot, dash or underscore (at most 63)';

COMMENT ON CONSTRAINT scenes_branch_overrides_object ON public.scenes IS 'a branch''s overrides must be a JSON object (seed, params, workflow)';

COMMENT ON CONSTRAINT scenes_priority_range ON public.scenes IS 'a take''s priority is between -100 and 100 (higher runs first)';

COMMENT ON CONSTRAINT scenes_promotion_complete ON public.scenes IS 'a promoted take records who promoted it and when; a take not promoted records neither';

COMMENT ON CONSTRAINT scenes_stage_known ON public.scenes IS 'a take is a preview or a final (or neither: its scene type makes no preview)';

CREATE TABLE public.segments (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    index integer NOT NULL,
    attempt integer DEFAULT 1 NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    uri text,
    sha256 text,
    frames integer,
    qa jsonb DEFAULT '{}'::jsonb NOT NULL,
    provenance jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    current boolean DEFAULT false NOT NULL,
    CONSTRAINT segments_attempt_positive CHECK ((attempt > 0)),
    CONSTRAINT segments_current_is_generated CHECK (((NOT current) OR (status = ANY (ARRAY['generated'::text, 'qa_passed'::text, 'qa_failed'::text])))),
    CONSTRAINT segments_frames_positive CHECK ((frames > 0)),
    CONSTRAINT segments_index_not_negative CHECK ((index >= 0)),
    CONSTRAINT segments_media_when_generated CHECK (((status = ANY (ARRAY['pending'::text, 'generating'::text, 'failed'::text])) OR ((uri IS NOT NULL) AND (sha256 IS NOT NULL) AND (frames IS NOT NULL)))),
    CONSTRAINT segments_provenance_object CHECK ((jsonb_typeof(provenance) = 'object'::text)),
    CONSTRAINT segments_qa_object CHECK ((jsonb_typeof(qa) = 'object'::text)),
    CONSTRAINT segments_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT segments_uri_not_blank CHECK ((btrim(uri) <> ''::text))
);

CREATE VIEW public.take_decisions AS
 SELECT s.id AS scene_id,
    COALESCE(v.revision, 1) AS revision,
    v.uri AS revision_uri,
    v.sha256 AS revision_sha256,
    v.created_at AS revision_created_at,
    d.id AS review_id,
    d.decision,
    d.reviewer_id,
    d.created_at AS decided_at,
    d.undo_until,
    d.delivery_requested_at,
    ((s.status = 'assembled'::text) AND (d.id IS NULL)) AS awaiting_review,
    v.stage AS revision_stage
   FROM ((public.scenes s
     LEFT JOIN LATERAL ( SELECT r.revision,
            r.uri,
            r.sha256,
            r.created_at,
            r.stage
           FROM public.scene_revisions r
          WHERE (r.scene_id = s.id)
          ORDER BY r.revision DESC
         LIMIT 1) v ON (true))
     LEFT JOIN LATERAL ( SELECT w.id,
            w.decision,
            w.reviewer_id,
            w.created_at,
            w.undo_until,
            w.delivery_requested_at
           FROM public.reviews w
          WHERE ((w.scene_id = s.id) AND (w.revision = COALESCE(v.revision, 1)) AND w.current)
          ORDER BY w.created_at DESC, w.id DESC
         LIMIT 1) d ON (true));

CREATE VIEW public.batch_item_states AS
 SELECT i.id AS item_id,
    i.batch_id,
    i.project_id,
    i.character_id,
    i.scene_type_id,
    t.scene_id,
    s.take,
    s.status AS scene_status,
    s.failure AS scene_failure,
    r.decision,
    d.status AS deliverable_status,
    COALESCE(g.gpu_seconds, (0)::numeric) AS gpu_seconds,
        CASE
            WHEN (t.scene_id IS NULL) THEN
            CASE b.status
                WHEN 'queued'::text THEN 'queued'::text
                WHEN 'cancelled'::text THEN 'cancelled'::text
                WHEN 'failed'::text THEN 'failed'::text
                ELSE 'pending'::text
            END
            WHEN (d.status = ANY (ARRAY['packaged'::text, 'delivered'::text])) THEN 'delivered'::text
            WHEN (d.status = 'failed'::text) THEN 'failed'::text
            WHEN (s.status = ANY (ARRAY['failed'::text, 'qa_failed'::text, 'cancelled'::text])) THEN 'failed'::text
            WHEN (s.status = 'generated'::text) THEN 'generated'::text
            WHEN ((s.status = 'assembled'::text) AND (r.decision = 'approved'::text)) THEN 'approved'::text
            WHEN ((s.status = 'assembled'::text) AND ((r.decision IS NOT NULL) OR (EXISTS ( SELECT 1
               FROM public.notes n
              WHERE (n.scene_id = s.id))))) THEN 'in_review'::text
            WHEN (s.status = 'assembled'::text) THEN 'assembled'::text
            ELSE 'generating'::text
        END AS state
   FROM ((((((public.batch_items i
     JOIN public.batches b ON ((b.id = i.batch_id)))
     CROSS JOIN LATERAL ( SELECT COALESCE(i.scene_id, ( SELECT sc.id
                   FROM public.scenes sc
                  WHERE ((sc.project_id = i.project_id) AND (sc.character_id = i.character_id) AND (sc.scene_type_id = i.scene_type_id) AND (sc.take > i.after_take))
                  ORDER BY sc.take
                 LIMIT 1)) AS scene_id) t)
     LEFT JOIN public.scenes s ON ((s.id = t.scene_id)))
     LEFT JOIN public.take_decisions r ON ((r.scene_id = t.scene_id)))
     LEFT JOIN LATERAL ( SELECT dl.status
           FROM public.deliverables dl
          WHERE (dl.scene_id = t.scene_id)
          ORDER BY dl.id DESC
         LIMIT 1) d ON (true))
     LEFT JOIN LATERAL ( SELECT sum(((sg.provenance ->> 'compute_s'::text))::numeric) AS gpu_seconds
           FROM public.segments sg
          WHERE ((sg.scene_id = t.scene_id) AND (jsonb_typeof((sg.provenance -> 'compute_s'::text)) = 'number'::text))) g ON (true));

ALTER TABLE public.batch_items ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.batch_items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.batch_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT batch_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT batch_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.batches ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.budget_policies (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT budget_policies_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT budget_policies_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.chain_events (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT chain_events_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT chain_events_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.chain_rules (
    id bigint NOT NULL,
    project_id bigint NOT NULL,
    trigger_scene_type_id bigint NOT NULL,
    trigger_event text DEFAULT 'approved'::text NOT NULL,
    then_scene_type_id bigint NOT NULL,
    created_by text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT chain_rules_created_by_not_blank CHECK ((btrim(created_by) <> ''::text)),
    CONSTRAINT chain_rules_not_to_itself CHECK ((trigger_scene_type_id <> then_scene_type_id))
);

COMMENT ON CONSTRAINT chain_rules_not_to_itself ON public.chain_rules IS 'a chain rule cannot run the scene type that triggers it';

ALTER TABLE public.chain_rules ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.chain_rules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.character_identities (
    character_id bigint NOT NULL,
    model text NOT NULL,
    centroid public.vector NOT NULL,
    samples integer NOT NULL,
    same_min real NOT NULL,
    same_p05 real NOT NULL,
    same_median real NOT NULL,
    threshold real NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT character_identities_band_ordered CHECK (((same_min <= same_p05) AND (same_p05 <= same_median))),
    CONSTRAINT character_identities_same_median_range CHECK (((same_median >= ('-1'::integer)::double precision) AND (same_median <= (1)::double precision))),
    CONSTRAINT character_identities_same_min_range CHECK (((same_min >= ('-1'::integer)::double precision) AND (same_min <= (1)::double precision))),
    CONSTRAINT character_identities_same_p05_range CHECK (((same_p05 >= ('-1'::integer)::double precision) AND (same_p05 <= (1)::double precision))),
    CONSTRAINT character_identities_samples_positive CHECK ((samples > 0)),
    CONSTRAINT character_identities_threshold_range CHECK (((threshold >= ('-1'::integer)::double precision) AND (threshold <= (1)::double precision)))
);

CREATE TABLE public.characters (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    metadata_version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    search tsvector GENERATED ALWAYS AS ((setweight(to_tsvector('simple'::regconfig, ((((slug || ' '::text) || replace(slug, '-'::text, ' '::text)) || ' '::text) || name)), 'A'::"char") || setweight(jsonb_to_tsvector('simple'::regconfig, metadata, '["string"]'::jsonb), 'B'::"char"))) STORED,
    rating text DEFAULT 'general'::text NOT NULL,
    CONSTRAINT characters_metadata_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT characters_metadata_version_positive CHECK ((metadata_version > 0)),
    CONSTRAINT characters_name_not_blank CHECK ((btrim(name) <> ''::text)),
    CONSTRAINT characters_slug_format CHECK (public.is_slug(slug))
);

CREATE TABLE public.duplicate_candidates (
    id bigint NOT NULL,
    character_id bigint NOT NULL,
    other_character_id bigint NOT NULL,
    model text NOT NULL,
    score real NOT NULL,
    resolution text DEFAULT 'open'::text NOT NULL,
    resolved_by text,
    resolved_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT duplicate_candidates_not_self CHECK ((character_id <> other_character_id)),
    CONSTRAINT duplicate_candidates_resolved_consistently CHECK (((resolution = 'open'::text) = (resolved_at IS NULL))),
    CONSTRAINT duplicate_candidates_score_range CHECK (((score >= ('-1'::integer)::double precision) AND (score <= (1)::double precision)))
);

CREATE TABLE public.image_variants (
    id bigint NOT NULL,
    source_image_id bigint NOT NULL,
    kind text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    uri text NOT NULL,
    sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT image_variants_height_sane CHECK (((height >= 16) AND (height <= 8192))),
    CONSTRAINT image_variants_params_object CHECK ((jsonb_typeof(params) = 'object'::text)),
    CONSTRAINT image_variants_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT image_variants_uri_not_blank CHECK ((btrim(uri) <> ''::text)),
    CONSTRAINT image_variants_width_sane CHECK (((width >= 16) AND (width <= 8192)))
);

CREATE TABLE public.source_images (
    id bigint NOT NULL,
    character_id bigint NOT NULL,
    original_name text NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    uri text NOT NULL,
    sha256 text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    format text NOT NULL,
    qa_status text DEFAULT 'pending'::text NOT NULL,
    qa jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_primary boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    primary_by text,
    CONSTRAINT source_images_format_not_blank CHECK ((btrim(format) <> ''::text)),
    CONSTRAINT source_images_height_positive CHECK ((height > 0)),
    CONSTRAINT source_images_original_name_not_blank CHECK ((btrim(original_name) <> ''::text)),
    CONSTRAINT source_images_primary_by_known CHECK ((primary_by = ANY (ARRAY['qa'::text, 'producer'::text]))),
    CONSTRAINT source_images_primary_by_when_primary CHECK (((primary_by IS NOT NULL) = is_primary)),
    CONSTRAINT source_images_qa_object CHECK ((jsonb_typeof(qa) = 'object'::text)),
    CONSTRAINT source_images_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT source_images_uri_not_blank CHECK ((btrim(uri) <> ''::text)),
    CONSTRAINT source_images_version_positive CHECK ((version > 0)),
    CONSTRAINT source_images_width_positive CHECK ((width > 0))
);

CREATE VIEW public.character_readiness AS
 SELECT id AS character_id,
    slug,
    name,
    ( SELECT count(*) AS count
           FROM public.source_images s
          WHERE (s.character_id = c.id)) AS images,
    ( SELECT count(*) AS count
           FROM public.source_images s
          WHERE ((s.character_id = c.id) AND (s.qa_status = 'passed'::text))) AS images_passed,
    ( SELECT count(*) AS count
           FROM public.source_images s
          WHERE ((s.character_id = c.id) AND (s.qa_status = 'failed'::text))) AS images_failed,
    (EXISTS ( SELECT 1
           FROM public.source_images s
          WHERE ((s.character_id = c.id) AND s.is_primary AND (s.qa_status = 'passed'::text)))) AS has_primary,
    ( SELECT COALESCE(array_agg(i.model ORDER BY i.model), '{}'::text[]) AS "coalesce"
           FROM public.character_identities i
          WHERE (i.character_id = c.id)) AS identity_models,
    ( SELECT count(*) AS count
           FROM (public.image_variants v
             JOIN public.source_images s ON ((s.id = v.source_image_id)))
          WHERE (s.character_id = c.id)) AS variants,
    ( SELECT count(*) AS count
           FROM public.duplicate_candidates d
          WHERE (((d.character_id = c.id) OR (d.other_character_id = c.id)) AND (d.resolution = 'open'::text))) AS open_duplicates,
    ( SELECT COALESCE(jsonb_object_agg(by_status.status, by_status.n), '{}'::jsonb) AS "coalesce"
           FROM ( SELECT sc.status,
                    count(*) AS n
                   FROM public.scenes sc
                  WHERE (sc.character_id = c.id)
                  GROUP BY sc.status) by_status) AS scenes_by_status,
    ( SELECT count(*) AS count
           FROM (public.scenes sc
             JOIN public.take_decisions td ON ((td.scene_id = sc.id)))
          WHERE ((sc.character_id = c.id) AND (td.decision = 'approved'::text))) AS scenes_approved,
    ( SELECT count(*) AS count
           FROM (public.deliverables dl
             JOIN public.scenes sc ON ((sc.id = dl.scene_id)))
          WHERE ((sc.character_id = c.id) AND (dl.status = 'delivered'::text))) AS scenes_delivered,
    ((EXISTS ( SELECT 1
           FROM public.source_images s
          WHERE ((s.character_id = c.id) AND s.is_primary AND (s.qa_status = 'passed'::text)))) AND (EXISTS ( SELECT 1
           FROM public.character_identities i
          WHERE (i.character_id = c.id))) AND (EXISTS ( SELECT 1
           FROM (public.image_variants v
             JOIN public.source_images s ON ((s.id = v.source_image_id)))
          WHERE (s.character_id = c.id))) AND (NOT (EXISTS ( SELECT 1
           FROM public.duplicate_candidates d
          WHERE (((d.character_id = c.id) OR (d.other_character_id = c.id)) AND (d.resolution = 'open'::text)))))) AS ready
   FROM public.characters c;

CREATE TABLE public.character_scene_overrides (
    id bigint NOT NULL,
    character_id bigint NOT NULL,
    scene_type_id bigint NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT character_scene_overrides_settings_object CHECK ((jsonb_typeof(settings) = 'object'::text))
);

COMMENT ON CONSTRAINT character_scene_overrides_settings_object ON public.character_scene_overrides IS 'a character''s overrides must be a JSON object of scene-type settings';

ALTER TABLE public.character_scene_overrides ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.character_scene_overrides_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.characters ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.characters_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.content_ratings (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT content_ratings_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT content_ratings_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.segment_trims (
    id bigint NOT NULL,
    segment_id bigint NOT NULL,
    head integer DEFAULT 0 NOT NULL,
    tail integer DEFAULT 0 NOT NULL,
    by_user text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    reason text,
    CONSTRAINT segment_trims_by_not_blank CHECK ((btrim(by_user) <> ''::text)),
    CONSTRAINT segment_trims_head_not_negative CHECK ((head >= 0)),
    CONSTRAINT segment_trims_tail_not_negative CHECK ((tail >= 0))
);

COMMENT ON CONSTRAINT segment_trims_by_not_blank ON public.segment_trims IS 'a trim records who made it';

COMMENT ON CONSTRAINT segment_trims_head_not_negative ON public.segment_trims IS 'a trim removes a whole, non-negative number of frames from the head';

COMMENT ON CONSTRAINT segment_trims_tail_not_negative ON public.segment_trims IS 'a trim removes a whole, non-negative number of frames from the tail';

CREATE VIEW public.current_segment_frames AS
 SELECT g.id AS segment_id,
    g.scene_id,
    g.index,
    g.frames AS made_frames,
    COALESCE(t.head, 0) AS head,
    COALESCE(t.tail, 0) AS tail,
    ((g.frames - COALESCE(t.head, 0)) - COALESCE(t.tail, 0)) AS frames
   FROM (public.segments g
     LEFT JOIN LATERAL ( SELECT x.head,
            x.tail
           FROM public.segment_trims x
          WHERE (x.segment_id = g.id)
          ORDER BY x.at DESC, x.id DESC
         LIMIT 1) t ON (true))
  WHERE g.current;

CREATE VIEW public.current_takes AS
 SELECT DISTINCT ON (project_id, character_id, scene_type_id) project_id,
    character_id,
    scene_type_id,
    id AS scene_id,
    take,
    branch,
    promoted
   FROM public.scenes s
  WHERE (promoted OR (branch = 'main'::text))
  ORDER BY project_id, character_id, scene_type_id, promoted DESC, take DESC;

CREATE TABLE public.deliverable_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT deliverable_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT deliverable_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.deliverables ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.deliverables_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.drop_outcomes (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT drop_outcomes_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT drop_outcomes_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.duplicate_candidates ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.duplicate_candidates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.duplicate_resolutions (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT duplicate_resolutions_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT duplicate_resolutions_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE SEQUENCE public.edit_command_groups
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE TABLE public.edit_commands (
    id bigint NOT NULL,
    group_id bigint NOT NULL,
    actor text NOT NULL,
    kind text NOT NULL,
    target_kind text NOT NULL,
    target text NOT NULL,
    field text DEFAULT ''::text NOT NULL,
    label text NOT NULL,
    before jsonb NOT NULL,
    after jsonb NOT NULL,
    applied_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    undone_at timestamp with time zone,
    undone_by text,
    redone_at timestamp with time zone,
    redo_of bigint,
    redo_dropped_at timestamp with time zone,
    CONSTRAINT edit_commands_actor_not_blank CHECK ((actor <> ''::text)),
    CONSTRAINT edit_commands_kind_known CHECK ((kind = ANY (ARRAY['set_field'::text, 'replace_metadata'::text, 'rename'::text, 'tag'::text, 'scene_type_settings'::text]))),
    CONSTRAINT edit_commands_label_not_blank CHECK ((label <> ''::text)),
    CONSTRAINT edit_commands_redone_once_undone CHECK (((redone_at IS NULL) OR (undone_at IS NOT NULL))),
    CONSTRAINT edit_commands_target_kind_known CHECK ((target_kind = ANY (ARRAY['character'::text, 'scene_type'::text]))),
    CONSTRAINT edit_commands_undone_by_someone CHECK (((undone_at IS NULL) = (undone_by IS NULL)))
);

COMMENT ON CONSTRAINT edit_commands_kind_known ON public.edit_commands IS 'must be one of: set_field, replace_metadata, rename, tag, scene_type_settings';

COMMENT ON CONSTRAINT edit_commands_redone_once_undone ON public.edit_commands IS 'only an undone command can be redone';

COMMENT ON CONSTRAINT edit_commands_target_kind_known ON public.edit_commands IS 'must be character or scene_type';

COMMENT ON CONSTRAINT edit_commands_undone_by_someone ON public.edit_commands IS 'an undone command names who undid it';

ALTER TABLE public.edit_commands ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.edit_commands_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.entity_tags (
    id bigint NOT NULL,
    tag_id bigint NOT NULL,
    project_id bigint,
    character_id bigint,
    scene_id bigint,
    segment_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT entity_tags_one_subject CHECK ((num_nonnulls(project_id, character_id, scene_id, segment_id) = 1))
);

ALTER TABLE public.entity_tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.entity_tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.face_embeddings (
    id bigint NOT NULL,
    source_image_id bigint NOT NULL,
    model text NOT NULL,
    embedding public.vector NOT NULL,
    det_score real,
    face_box integer[],
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT face_embeddings_det_score_range CHECK (((det_score >= (0)::double precision) AND (det_score <= (1)::double precision))),
    CONSTRAINT face_embeddings_face_box_shape CHECK ((cardinality(face_box) = 4))
);

ALTER TABLE public.face_embeddings ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.face_embeddings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.face_models (
    code text NOT NULL,
    dimension integer NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    CONSTRAINT face_models_code_format CHECK (public.is_slug(code)),
    CONSTRAINT face_models_dimension_sane CHECK (((dimension >= 1) AND (dimension <= 4096)))
);

CREATE TABLE public.hardware_samples (
    id bigint NOT NULL,
    source text NOT NULL,
    worker_id bigint,
    device text NOT NULL,
    taken_at timestamp with time zone DEFAULT now() NOT NULL,
    utilization real,
    memory_used bigint,
    memory_total bigint,
    temperature_c real,
    power_w real,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT hardware_samples_detail_object CHECK ((jsonb_typeof(detail) = 'object'::text)),
    CONSTRAINT hardware_samples_memory_total_not_negative CHECK ((memory_total >= 0)),
    CONSTRAINT hardware_samples_memory_used_not_negative CHECK ((memory_used >= 0)),
    CONSTRAINT hardware_samples_power_not_negative CHECK ((power_w >= (0)::double precision)),
    CONSTRAINT hardware_samples_source_not_blank CHECK ((btrim(source) <> ''::text)),
    CONSTRAINT hardware_samples_utilization_range CHECK (((utilization >= (0)::double precision) AND (utilization <= (100)::double precision)))
);

ALTER TABLE public.hardware_samples ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.hardware_samples_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.hook_failure_policies (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT hook_failure_policies_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT hook_failure_policies_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.hook_outcomes (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT hook_outcomes_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT hook_outcomes_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.hook_runs (
    id bigint NOT NULL,
    hook_id bigint,
    hook_name text NOT NULL,
    stage text NOT NULL,
    scene_id bigint NOT NULL,
    run_id text,
    outcome text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    exit_code integer,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT hook_runs_finished_after_start CHECK ((finished_at >= started_at)),
    CONSTRAINT hook_runs_metadata_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT hook_runs_refusal_has_reason CHECK (((outcome = 'passed'::text) OR (btrim(reason) <> ''::text)))
);

COMMENT ON CONSTRAINT hook_runs_finished_after_start ON public.hook_runs IS 'a hook run finishes after it started';

COMMENT ON CONSTRAINT hook_runs_refusal_has_reason ON public.hook_runs IS 'a hook run that did not pass says why';

ALTER TABLE public.hook_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.hook_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.hook_runtimes (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT hook_runtimes_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT hook_runtimes_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.hook_stages (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT hook_stages_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT hook_stages_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.hooks (
    id bigint NOT NULL,
    project_id bigint NOT NULL,
    scene_type_id bigint,
    name text NOT NULL,
    stage text NOT NULL,
    runtime text NOT NULL,
    script text NOT NULL,
    args text[] DEFAULT '{}'::text[] NOT NULL,
    timeout_s double precision DEFAULT 300 NOT NULL,
    on_failure text DEFAULT 'veto'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT hooks_name_format CHECK (public.is_slug(name)),
    CONSTRAINT hooks_script_absolute CHECK ((script ~ '^/'::text)),
    CONSTRAINT hooks_timeout_s_range CHECK (((timeout_s > (0)::double precision) AND (timeout_s <= (86400)::double precision)))
);

COMMENT ON CONSTRAINT hooks_script_absolute ON public.hooks IS 'must be an absolute path to the script';

COMMENT ON CONSTRAINT hooks_timeout_s_range ON public.hooks IS 'must be more than 0 and at most 86400 seconds';

ALTER TABLE public.hooks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.hooks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.image_qa_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT image_qa_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT image_qa_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.image_variants ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.image_variants_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.inbox_drops (
    id bigint NOT NULL,
    project_slug text NOT NULL,
    folder text NOT NULL,
    fingerprint text NOT NULL,
    outcome text NOT NULL,
    character_id bigint,
    report jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT inbox_drops_fingerprint_format CHECK (public.is_sha256(fingerprint)),
    CONSTRAINT inbox_drops_folder_not_blank CHECK ((btrim(folder) <> ''::text)),
    CONSTRAINT inbox_drops_report_object CHECK ((jsonb_typeof(report) = 'object'::text))
);

ALTER TABLE public.inbox_drops ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.inbox_drops_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.metadata_sync (
    character_id bigint NOT NULL,
    synced_version integer NOT NULL,
    sidecar_uri text NOT NULL,
    sidecar_sha256 text NOT NULL,
    synced_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT metadata_sync_sha256_format CHECK (public.is_sha256(sidecar_sha256)),
    CONSTRAINT metadata_sync_uri_not_blank CHECK ((btrim(sidecar_uri) <> ''::text)),
    CONSTRAINT metadata_sync_version_positive CHECK ((synced_version > 0))
);

CREATE TABLE public.model_kinds (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT model_kinds_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT model_kinds_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.models (
    id bigint NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    source text DEFAULT ''::text NOT NULL,
    uri text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT models_name_relative CHECK (((name <> ''::text) AND (name = btrim(name)) AND (name !~ '^/'::text) AND (name !~ '\\'::text) AND (name !~ '(^|/)\.{1,2}(/|$)'::text) AND (name !~ '//'::text) AND (name !~ '/$'::text) AND (length(name) <= 255))),
    CONSTRAINT models_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT models_size_positive CHECK ((size > 0)),
    CONSTRAINT models_source_short CHECK ((length(source) <= 2000)),
    CONSTRAINT models_uri_not_blank CHECK ((btrim(uri) <> ''::text))
);

COMMENT ON CONSTRAINT models_name_relative ON public.models IS 'must be a relative file name inside the model folder (no leading or trailing "/", no "." or ".." parts, no backslash, at most 255 characters)';

COMMENT ON CONSTRAINT models_size_positive ON public.models IS 'an empty file is no model';

COMMENT ON CONSTRAINT models_source_short ON public.models IS 'a source is at most 2000 characters';

ALTER TABLE public.models ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.models_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.note_drawings (
    id bigint NOT NULL,
    note_id bigint NOT NULL,
    frame integer NOT NULL,
    vector jsonb NOT NULL,
    png_uri text NOT NULL,
    png_sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT note_drawings_frame_not_negative CHECK ((frame >= 0)),
    CONSTRAINT note_drawings_png_sha256_format CHECK (public.is_sha256(png_sha256)),
    CONSTRAINT note_drawings_png_uri_not_blank CHECK ((btrim(png_uri) <> ''::text)),
    CONSTRAINT note_drawings_vector_frame CHECK (((vector -> 'frame'::text) = to_jsonb(frame))),
    CONSTRAINT note_drawings_vector_shapes CHECK (((jsonb_typeof((vector -> 'shapes'::text)) = 'array'::text) AND (jsonb_array_length((vector -> 'shapes'::text)) > 0))),
    CONSTRAINT note_drawings_vector_version CHECK (((jsonb_typeof(vector) = 'object'::text) AND ((vector -> 'version'::text) = '1'::jsonb)))
);

COMMENT ON CONSTRAINT note_drawings_frame_not_negative ON public.note_drawings IS 'frames are numbered from 0';

COMMENT ON CONSTRAINT note_drawings_png_sha256_format ON public.note_drawings IS 'the PNG''s sha256 must be 64 lowercase hex digits';

COMMENT ON CONSTRAINT note_drawings_png_uri_not_blank ON public.note_drawings IS 'a drawing keeps the URI of its flattened PNG';

COMMENT ON CONSTRAINT note_drawings_vector_frame ON public.note_drawings IS 'the drawing is of the frame it is recorded at';

COMMENT ON CONSTRAINT note_drawings_vector_shapes ON public.note_drawings IS 'a drawing has at least one shape';

COMMENT ON CONSTRAINT note_drawings_vector_version ON public.note_drawings IS 'the drawing must be a Drawing JSON object of version 1';

ALTER TABLE public.note_drawings ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.note_drawings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.note_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT note_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT note_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.notes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.notification_kinds (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT notification_kinds_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT notification_kinds_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.notifications (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    kind text NOT NULL,
    subject jsonb DEFAULT '{}'::jsonb NOT NULL,
    body text NOT NULL,
    read_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_by_review_id bigint,
    CONSTRAINT notifications_body_not_blank CHECK ((btrim(body) <> ''::text)),
    CONSTRAINT notifications_subject_object CHECK ((jsonb_typeof(subject) = 'object'::text))
);

ALTER TABLE public.notifications ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.project_budgets (
    project_id bigint NOT NULL,
    gpu_seconds_limit numeric(14,1) NOT NULL,
    policy text DEFAULT 'refuse'::text NOT NULL,
    cost_per_gpu_hour numeric(12,4),
    currency text DEFAULT 'USD'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT project_budgets_cost_not_negative CHECK ((cost_per_gpu_hour >= (0)::numeric)),
    CONSTRAINT project_budgets_currency_format CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT project_budgets_limit_not_negative CHECK ((gpu_seconds_limit >= (0)::numeric))
);

COMMENT ON CONSTRAINT project_budgets_cost_not_negative ON public.project_budgets IS 'must not be negative';

COMMENT ON CONSTRAINT project_budgets_currency_format ON public.project_budgets IS 'must be a three-letter ISO 4217 code such as USD or EUR';

COMMENT ON CONSTRAINT project_budgets_limit_not_negative ON public.project_budgets IS 'must not be negative (0 allows no GPU time at all)';

CREATE TABLE public.project_characters (
    project_id bigint NOT NULL,
    character_id bigint NOT NULL,
    added_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.project_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT project_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT project_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.projects (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT projects_name_not_blank CHECK ((btrim(name) <> ''::text)),
    CONSTRAINT projects_settings_object CHECK ((jsonb_typeof(settings) = 'object'::text)),
    CONSTRAINT projects_slug_format CHECK (public.is_slug(slug))
);

ALTER TABLE public.projects ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.projects_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.regression_goldens (
    id bigint NOT NULL,
    workflow text NOT NULL,
    scene_id bigint NOT NULL,
    character_id bigint NOT NULL,
    scene_type_id bigint NOT NULL,
    workflow_version integer NOT NULL,
    effective_config jsonb NOT NULL,
    seeds jsonb NOT NULL,
    approved boolean NOT NULL,
    chosen_by text NOT NULL,
    note text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT regression_goldens_chosen_by_not_blank CHECK ((btrim(chosen_by) <> ''::text)),
    CONSTRAINT regression_goldens_config_object CHECK ((jsonb_typeof(effective_config) = 'object'::text)),
    CONSTRAINT regression_goldens_seeds_array CHECK (((jsonb_typeof(seeds) = 'array'::text) AND (jsonb_array_length(seeds) > 0))),
    CONSTRAINT regression_goldens_workflow_format CHECK (public.is_slug(workflow)),
    CONSTRAINT regression_goldens_workflow_version_positive CHECK ((workflow_version > 0))
);

COMMENT ON CONSTRAINT regression_goldens_seeds_array ON public.regression_goldens IS 'a golden records one seed per segment (at least one segment)';

CREATE TABLE public.regression_results (
    id bigint NOT NULL,
    run_id bigint NOT NULL,
    golden_id bigint NOT NULL,
    verdict text NOT NULL,
    figures jsonb NOT NULL,
    failures jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT regression_results_failures_array CHECK ((jsonb_typeof(failures) = 'array'::text)),
    CONSTRAINT regression_results_figures_object CHECK ((jsonb_typeof(figures) = 'object'::text)),
    CONSTRAINT regression_results_verdict_final CHECK ((verdict <> 'running'::text))
);

CREATE TABLE public.regression_runs (
    id bigint NOT NULL,
    workflow_id bigint NOT NULL,
    models_fingerprint text NOT NULL,
    status text DEFAULT 'running'::text NOT NULL,
    thresholds jsonb NOT NULL,
    requested_by text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    report_uri text,
    report_json_uri text,
    error text,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT regression_runs_finished CHECK (((status = 'running'::text) = (finished_at IS NULL))),
    CONSTRAINT regression_runs_models_fingerprint_format CHECK (public.is_sha256(models_fingerprint)),
    CONSTRAINT regression_runs_requested_by_not_blank CHECK ((btrim(requested_by) <> ''::text)),
    CONSTRAINT regression_runs_thresholds_object CHECK ((jsonb_typeof(thresholds) = 'object'::text))
);

COMMENT ON CONSTRAINT regression_runs_finished ON public.regression_runs IS 'a run is finished exactly when it has a verdict';

CREATE TABLE public.regression_thresholds (
    workflow text NOT NULL,
    min_ssim double precision DEFAULT 0.95 NOT NULL,
    min_psnr_db double precision DEFAULT 30 NOT NULL,
    max_identity_drop double precision DEFAULT 0.05 NOT NULL,
    qa_must_match boolean DEFAULT true NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT regression_thresholds_identity_range CHECK (((max_identity_drop >= (0)::double precision) AND (max_identity_drop <= (1)::double precision))),
    CONSTRAINT regression_thresholds_psnr_range CHECK (((min_psnr_db > (0)::double precision) AND (min_psnr_db <= (100)::double precision))),
    CONSTRAINT regression_thresholds_ssim_range CHECK (((min_ssim > (0)::double precision) AND (min_ssim <= (1)::double precision))),
    CONSTRAINT regression_thresholds_updated_by_not_blank CHECK ((btrim(updated_by) <> ''::text)),
    CONSTRAINT regression_thresholds_workflow_format CHECK (public.is_slug(workflow))
);

COMMENT ON CONSTRAINT regression_thresholds_identity_range ON public.regression_thresholds IS 'the maximum identity drop must be from 0 to 1 (cosine similarity)';

COMMENT ON CONSTRAINT regression_thresholds_psnr_range ON public.regression_thresholds IS 'the minimum PSNR must be above 0 dB and at most 100 dB';

COMMENT ON CONSTRAINT regression_thresholds_ssim_range ON public.regression_thresholds IS 'the minimum mean SSIM must be above 0 and at most 1';

CREATE TABLE public.scene_type_versions (
    id bigint NOT NULL,
    scene_type_id bigint NOT NULL,
    version integer NOT NULL,
    workflow_id bigint,
    prompt_template text,
    negative_prompt text,
    target_duration_s numeric(9,3),
    segment_duration_s numeric(9,3),
    fps numeric(6,3),
    width integer,
    height integer,
    seed_policy text,
    qa_rules jsonb,
    presets jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    seed bigint,
    preset text,
    params jsonb,
    created_by text,
    preview jsonb,
    CONSTRAINT scene_type_versions_fps_range CHECK (((fps > (0)::numeric) AND (fps <= (240)::numeric))),
    CONSTRAINT scene_type_versions_height_sane CHECK ((((height >= 16) AND (height <= 8192)) AND ((height % 2) = 0))),
    CONSTRAINT scene_type_versions_params_object CHECK ((jsonb_typeof(params) = 'object'::text)),
    CONSTRAINT scene_type_versions_preset_not_blank CHECK ((btrim(preset) <> ''::text)),
    CONSTRAINT scene_type_versions_presets_object CHECK ((jsonb_typeof(presets) = 'object'::text)),
    CONSTRAINT scene_type_versions_preview_object CHECK ((jsonb_typeof(preview) = 'object'::text)),
    CONSTRAINT scene_type_versions_qa_rules_object CHECK ((jsonb_typeof(qa_rules) = 'object'::text)),
    CONSTRAINT scene_type_versions_seed_range CHECK ((seed >= 0)),
    CONSTRAINT scene_type_versions_segment_duration_positive CHECK ((segment_duration_s > (0)::numeric)),
    CONSTRAINT scene_type_versions_segment_within_target CHECK ((segment_duration_s <= target_duration_s)),
    CONSTRAINT scene_type_versions_target_duration_positive CHECK ((target_duration_s > (0)::numeric)),
    CONSTRAINT scene_type_versions_version_positive CHECK ((version > 0)),
    CONSTRAINT scene_type_versions_width_sane CHECK ((((width >= 16) AND (width <= 8192)) AND ((width % 2) = 0)))
);

COMMENT ON CONSTRAINT scene_type_versions_fps_range ON public.scene_type_versions IS 'must be greater than 0 and at most 240';

COMMENT ON CONSTRAINT scene_type_versions_height_sane ON public.scene_type_versions IS 'must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes)';

COMMENT ON CONSTRAINT scene_type_versions_segment_within_target ON public.scene_type_versions IS 'the segment duration must not exceed the target duration';

COMMENT ON CONSTRAINT scene_type_versions_width_sane ON public.scene_type_versions IS 'must be an even number of pixels from 16 to 8192 (H.264 refuses odd sizes)';

CREATE VIEW public.workflow_model_sets AS
SELECT
    NULL::bigint AS workflow_id,
    NULL::text AS workflow,
    NULL::integer AS version,
    NULL::bigint AS models,
    NULL::text AS models_fingerprint;

CREATE VIEW public.workflow_clearance AS
 WITH goldens AS (
         SELECT regression_goldens.workflow,
            count(*) AS goldens
           FROM public.regression_goldens
          GROUP BY regression_goldens.workflow
        ), runs AS (
         SELECT f.workflow_id,
            ( SELECT r.id
                   FROM public.regression_runs r
                  WHERE ((r.workflow_id = f.workflow_id) AND (r.models_fingerprint = f.models_fingerprint))
                  ORDER BY r.id DESC
                 LIMIT 1) AS last_run_id,
            ( SELECT r.id
                   FROM public.regression_runs r
                  WHERE ((r.workflow_id = f.workflow_id) AND (r.models_fingerprint = f.models_fingerprint) AND (r.status <> 'running'::text))
                  ORDER BY r.id DESC
                 LIMIT 1) AS finished_run_id,
            (EXISTS ( SELECT 1
                   FROM public.regression_runs r
                  WHERE ((r.workflow_id = f.workflow_id) AND (r.models_fingerprint <> f.models_fingerprint)))) AS ran_on_other_models
           FROM public.workflow_model_sets f
        ), judged AS (
         SELECT f.workflow_id,
            f.workflow,
            f.version,
            f.models_fingerprint,
            COALESCE(g.goldens, (0)::bigint) AS goldens,
            u.last_run_id,
            l.status AS last_status,
            u.finished_run_id,
            d.status AS finished_status,
            u.ran_on_other_models,
            ( SELECT count(*) AS count
                   FROM public.regression_goldens x
                  WHERE ((x.workflow = f.workflow) AND (NOT (EXISTS ( SELECT 1
                           FROM public.regression_results z
                          WHERE ((z.run_id = u.finished_run_id) AND (z.golden_id = x.id))))))) AS goldens_not_run,
            COALESCE(((((d.thresholds ->> 'min_ssim'::text))::double precision >= COALESCE(t.min_ssim, (0.95)::double precision)) AND (((d.thresholds ->> 'min_psnr_db'::text))::double precision >= COALESCE(t.min_psnr_db, (30)::double precision)) AND (((d.thresholds ->> 'max_identity_drop'::text))::double precision <= COALESCE(t.max_identity_drop, (0.05)::double precision)) AND (((d.thresholds ->> 'qa_must_match'::text))::boolean OR (NOT COALESCE(t.qa_must_match, true)))), false) AS strict_enough
           FROM (((((public.workflow_model_sets f
             JOIN runs u USING (workflow_id))
             LEFT JOIN goldens g ON ((g.workflow = f.workflow)))
             LEFT JOIN public.regression_thresholds t ON ((t.workflow = f.workflow)))
             LEFT JOIN public.regression_runs l ON ((l.id = u.last_run_id)))
             LEFT JOIN public.regression_runs d ON ((d.id = u.finished_run_id)))
        )
 SELECT workflow_id,
    workflow,
    version,
    models_fingerprint,
    goldens,
    last_run_id,
    last_status,
    finished_run_id,
    finished_status,
    ((goldens = 0) OR ((finished_status = 'passed'::text) AND (goldens_not_run = 0) AND strict_enough)) AS cleared,
        CASE
            WHEN (goldens = 0) THEN 'no goldens: cleared without a regression run'::text
            WHEN ((finished_status = 'passed'::text) AND (goldens_not_run = 0) AND strict_enough) THEN ('passed regression run '::text || finished_run_id)
            WHEN ((finished_status = 'passed'::text) AND (goldens_not_run > 0)) THEN (((goldens_not_run || ' golden(s) added since passing run '::text) || finished_run_id) || '; run it again'::text)
            WHEN (finished_status = 'passed'::text) THEN (('thresholds tightened since passing run '::text || finished_run_id) || '; run it again'::text)
            WHEN (finished_run_id IS NOT NULL) THEN ((('regression run '::text || finished_run_id) || ' '::text) || finished_status)
            WHEN (last_run_id IS NOT NULL) THEN (('regression run '::text || last_run_id) || ' is running'::text)
            WHEN ran_on_other_models THEN 'never run on the current models (a model changed)'::text
            ELSE 'never run'::text
        END AS note
   FROM judged;

CREATE TABLE public.workflows (
    id bigint NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    sha256 text NOT NULL,
    graph jsonb NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    slots jsonb DEFAULT '{}'::jsonb NOT NULL,
    warnings jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT workflows_graph_object CHECK ((jsonb_typeof(graph) = 'object'::text)),
    CONSTRAINT workflows_name_format CHECK (public.is_slug(name)),
    CONSTRAINT workflows_sha256_format CHECK (public.is_sha256(sha256)),
    CONSTRAINT workflows_slots_object CHECK ((jsonb_typeof(slots) = 'object'::text)),
    CONSTRAINT workflows_version_positive CHECK ((version > 0)),
    CONSTRAINT workflows_warnings_array CHECK ((jsonb_typeof(warnings) = 'array'::text))
);

CREATE VIEW public.regression_due AS
 SELECT workflow_id,
    workflow,
    version,
    models_fingerprint,
    note
   FROM public.workflow_clearance c
  WHERE ((goldens > 0) AND (last_run_id IS NULL) AND ((version = ( SELECT max(w.version) AS max
           FROM public.workflows w
          WHERE (w.name = c.workflow))) OR (EXISTS ( SELECT 1
           FROM public.scene_type_versions v
          WHERE ((v.workflow_id = c.workflow_id) AND (v.version = ( SELECT max(x.version) AS max
                   FROM public.scene_type_versions x
                  WHERE (x.scene_type_id = v.scene_type_id))))))));

ALTER TABLE public.regression_goldens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.regression_goldens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.regression_overrides (
    id bigint NOT NULL,
    batch_id bigint NOT NULL,
    workflow_id bigint NOT NULL,
    models_fingerprint text NOT NULL,
    overridden_by text NOT NULL,
    reason text NOT NULL,
    not_cleared text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT regression_overrides_models_fingerprint_format CHECK (public.is_sha256(models_fingerprint)),
    CONSTRAINT regression_overrides_overridden_by_not_blank CHECK ((btrim(overridden_by) <> ''::text)),
    CONSTRAINT regression_overrides_reason_not_blank CHECK ((btrim(reason) <> ''::text))
);

ALTER TABLE public.regression_overrides ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.regression_overrides_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.regression_results ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.regression_results_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.regression_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.regression_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.regression_verdicts (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT regression_verdicts_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT regression_verdicts_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.review_decisions (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT review_decisions_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT review_decisions_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.scene_types (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    parent_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    rating text DEFAULT 'general'::text NOT NULL,
    CONSTRAINT scene_types_name_not_blank CHECK ((btrim(name) <> ''::text)),
    CONSTRAINT scene_types_parent_not_self CHECK ((parent_id <> id)),
    CONSTRAINT scene_types_slug_format CHECK (public.is_slug(slug))
);

CREATE TABLE public.take_assignments (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    assignee_id bigint NOT NULL,
    due_at timestamp with time zone,
    assigned_by bigint NOT NULL,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT take_assignments_due_after_assignment CHECK ((due_at > assigned_at))
);

COMMENT ON CONSTRAINT take_assignments_due_after_assignment ON public.take_assignments IS 'the due date must be after the moment the take is assigned';

CREATE TABLE public.users (
    id bigint NOT NULL,
    username text NOT NULL,
    display_name text NOT NULL,
    email text,
    password_hash text,
    role text DEFAULT 'viewer'::text NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_display_name_not_blank CHECK ((btrim(display_name) <> ''::text)),
    CONSTRAINT users_email_format CHECK ((email ~ '^[^@\s]+@[^@\s]+$'::text)),
    CONSTRAINT users_username_format CHECK ((username ~ '^[a-z0-9][a-z0-9._-]{0,62}$'::text))
);

CREATE VIEW public.review_queue AS
 SELECT s.id AS scene_id,
    p.slug AS project,
    c.slug AS "character",
    st.slug AS scene_type,
    s.take,
    s.uri,
    s.frames,
    s.created_at,
    td.revision,
    COALESCE(td.revision_created_at, s.created_at) AS waiting_since,
    COALESCE(td.decision, 'awaiting'::text) AS review_status,
    u.username AS assignee,
    a.due_at,
    b.username AS assigned_by,
    COALESCE(((a.due_at < now()) AND td.awaiting_review), false) AS overdue
   FROM (((((((public.take_decisions td
     JOIN public.scenes s ON ((s.id = td.scene_id)))
     JOIN public.projects p ON ((p.id = s.project_id)))
     JOIN public.characters c ON ((c.id = s.character_id)))
     JOIN public.scene_types st ON ((st.id = s.scene_type_id)))
     LEFT JOIN public.take_assignments a ON ((a.scene_id = s.id)))
     LEFT JOIN public.users u ON ((u.id = a.assignee_id)))
     LEFT JOIN public.users b ON ((b.id = a.assigned_by)))
  WHERE (s.status = 'assembled'::text);

ALTER TABLE public.reviews ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.reviews_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.roles (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT roles_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT roles_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.scene_controls (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT scene_controls_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT scene_controls_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.scene_revisions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.scene_revisions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.scene_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT scene_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT scene_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.scene_type_versions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.scene_type_versions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.scene_types ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.scene_types_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.scenes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.scenes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.schema_migrations (
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.seed_policies (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT seed_policies_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT seed_policies_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.segment_requests (
    id bigint NOT NULL,
    pool text NOT NULL,
    scene_id bigint,
    segment integer,
    holder text NOT NULL,
    purpose text DEFAULT ''::text NOT NULL,
    priority smallint DEFAULT 0 NOT NULL,
    requires jsonb DEFAULT '{}'::jsonb NOT NULL,
    excluded bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    ttl_s double precision NOT NULL,
    requested_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    reason text,
    alive_until timestamp with time zone NOT NULL,
    lease_id bigint,
    granted_at timestamp with time zone,
    given_up_at timestamp with time zone,
    CONSTRAINT segment_requests_granted_once CHECK (((granted_at IS NULL) OR (given_up_at IS NULL))),
    CONSTRAINT segment_requests_holder_not_blank CHECK ((btrim(holder) <> ''::text)),
    CONSTRAINT segment_requests_pool_not_blank CHECK ((btrim(pool) <> ''::text)),
    CONSTRAINT segment_requests_priority_range CHECK (((priority >= '-100'::integer) AND (priority <= 100))),
    CONSTRAINT segment_requests_requires_object CHECK ((jsonb_typeof(requires) = 'object'::text)),
    CONSTRAINT segment_requests_segment_not_negative CHECK ((segment >= 0)),
    CONSTRAINT segment_requests_ttl_positive CHECK ((ttl_s > (0)::double precision))
);

COMMENT ON CONSTRAINT segment_requests_granted_once ON public.segment_requests IS 'a segment request is either granted a slot or given up, never both';

CREATE VIEW public.take_priorities AS
 SELECT id AS scene_id,
    (COALESCE((priority)::integer, (( SELECT max(b.priority) AS max
           FROM (public.batch_items i
             JOIN public.batches b ON ((b.id = i.batch_id)))
          WHERE (i.scene_id = s.id)))::integer, 0))::smallint AS priority
   FROM public.scenes s;

CREATE VIEW public.segment_queue AS
 SELECT r.id,
    r.pool,
    r.scene_id,
    r.segment,
    r.holder,
    r.purpose,
    COALESCE(t.priority, r.priority) AS priority,
    r.requires,
    r.excluded,
    r.ttl_s,
    r.requested_at,
    r.reason,
    row_number() OVER (PARTITION BY r.pool ORDER BY COALESCE(t.priority, r.priority) DESC, r.requested_at, r.id) AS "position"
   FROM (public.segment_requests r
     LEFT JOIN public.take_priorities t ON ((t.scene_id = r.scene_id)))
  WHERE ((r.granted_at IS NULL) AND (r.given_up_at IS NULL) AND (r.alive_until > now()));

ALTER TABLE public.segment_requests ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.segment_requests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.segment_statuses (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT segment_statuses_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT segment_statuses_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.segment_trims ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.segment_trims_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.segments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.segments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.sessions (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    token_sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    user_agent text DEFAULT ''::text NOT NULL,
    CONSTRAINT sessions_expiry_after_creation CHECK ((expires_at > created_at)),
    CONSTRAINT sessions_token_sha256_format CHECK (public.is_sha256(token_sha256))
);

COMMENT ON CONSTRAINT sessions_expiry_after_creation ON public.sessions IS 'a session must expire after it is created';

ALTER TABLE public.sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.share_link_uses (
    id bigint NOT NULL,
    link_id bigint,
    at timestamp with time zone DEFAULT now() NOT NULL,
    outcome text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    remote text DEFAULT ''::text NOT NULL,
    CONSTRAINT share_link_uses_reason_short CHECK ((length(reason) <= 500)),
    CONSTRAINT share_link_uses_refusal_has_reason CHECK (((outcome <> 'refused'::text) OR (btrim(reason) <> ''::text))),
    CONSTRAINT share_link_uses_remote_short CHECK ((length(remote) <= 200))
);

COMMENT ON CONSTRAINT share_link_uses_reason_short ON public.share_link_uses IS 'a reason is at most 500 characters';

COMMENT ON CONSTRAINT share_link_uses_refusal_has_reason ON public.share_link_uses IS 'a refused use says why';

COMMENT ON CONSTRAINT share_link_uses_remote_short ON public.share_link_uses IS 'a remote address is at most 200 characters';

ALTER TABLE public.share_link_uses ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.share_link_uses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.share_links (
    id bigint NOT NULL,
    token_sha256 text NOT NULL,
    scene_id bigint NOT NULL,
    revision integer NOT NULL,
    created_by bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    password_hash text,
    allow_comments boolean DEFAULT false NOT NULL,
    label text DEFAULT ''::text NOT NULL,
    CONSTRAINT share_links_expiry_after_creation CHECK ((expires_at > created_at)),
    CONSTRAINT share_links_label_short CHECK ((length(label) <= 200)),
    CONSTRAINT share_links_password_hash_format CHECK ((password_hash ~ '^scrypt\$'::text)),
    CONSTRAINT share_links_revision_positive CHECK ((revision > 0)),
    CONSTRAINT share_links_revoked_after_creation CHECK ((revoked_at >= created_at)),
    CONSTRAINT share_links_token_sha256_format CHECK (public.is_sha256(token_sha256))
);

COMMENT ON CONSTRAINT share_links_expiry_after_creation ON public.share_links IS 'a link expires after it was created';

COMMENT ON CONSTRAINT share_links_label_short ON public.share_links IS 'a label is at most 200 characters';

COMMENT ON CONSTRAINT share_links_password_hash_format ON public.share_links IS 'must be an encoded scrypt hash, never a password';

COMMENT ON CONSTRAINT share_links_revision_positive ON public.share_links IS 'a take''s revisions are numbered from 1';

COMMENT ON CONSTRAINT share_links_revoked_after_creation ON public.share_links IS 'a link is revoked after it was created';

COMMENT ON CONSTRAINT share_links_token_sha256_format ON public.share_links IS 'must be the sha256 hex of the link token, never the token';

ALTER TABLE public.share_links ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.share_links_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.share_use_outcomes (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT share_use_outcomes_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT share_use_outcomes_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.shortcut_presets (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT shortcut_presets_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT shortcut_presets_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.source_images ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.source_images_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.tags (
    id bigint NOT NULL,
    name text NOT NULL,
    color text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tags_color_format CHECK ((color ~ '^#[0-9a-f]{6}$'::text)),
    CONSTRAINT tags_name_format CHECK ((name ~ '^[a-z0-9][a-z0-9 _:.-]{0,62}$'::text))
);

ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE public.take_assignments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.take_assignments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE VIEW public.take_consistency AS
SELECT
    NULL::bigint AS scene_id,
    NULL::bigint AS project_id,
    NULL::bigint AS character_id,
    NULL::bigint AS scene_type_id,
    NULL::integer AS take,
    NULL::integer AS revision,
    NULL::bigint AS segments,
    NULL::double precision AS median_identity,
    NULL::double precision AS min_identity,
    NULL::double precision AS threshold,
    NULL::bigint AS character_takes,
    NULL::double precision AS character_median,
    NULL::double precision AS mad,
    NULL::double precision AS z_score,
    NULL::boolean AS outlier,
    NULL::text AS reason;

CREATE TABLE public.take_finals (
    id bigint NOT NULL,
    scene_id bigint NOT NULL,
    preview_revision integer NOT NULL,
    review_id bigint,
    method text NOT NULL,
    workflow_id bigint,
    preview_width integer NOT NULL,
    preview_height integer NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT take_finals_created_by_not_blank CHECK ((btrim(created_by) <> ''::text)),
    CONSTRAINT take_finals_height_even CHECK (((height > 0) AND ((height % 2) = 0))),
    CONSTRAINT take_finals_method_known CHECK ((method = ANY (ARRAY['rerender'::text, 'upscale'::text]))),
    CONSTRAINT take_finals_preview_height_even CHECK (((preview_height > 0) AND ((preview_height % 2) = 0))),
    CONSTRAINT take_finals_preview_revision_positive CHECK ((preview_revision > 0)),
    CONSTRAINT take_finals_preview_width_even CHECK (((preview_width > 0) AND ((preview_width % 2) = 0))),
    CONSTRAINT take_finals_upscale_names_workflow CHECK (((method = 'upscale'::text) = (workflow_id IS NOT NULL))),
    CONSTRAINT take_finals_width_even CHECK (((width > 0) AND ((width % 2) = 0)))
);

COMMENT ON CONSTRAINT take_finals_upscale_names_workflow ON public.take_finals IS 'an upscaled final names its upscale workflow; a re-rendered one names none';

ALTER TABLE public.take_finals ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.take_finals_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE VIEW public.take_sensitivity AS
 SELECT s.id AS scene_id,
    c.rating AS character_rating,
    t.rating AS scene_type_rating,
    ((c.rating <> 'general'::text) OR (t.rating <> 'general'::text)) AS sensitive
   FROM ((public.scenes s
     JOIN public.characters c ON ((c.id = s.character_id)))
     JOIN public.scene_types t ON ((t.id = s.scene_type_id)));

CREATE VIEW public.take_stages AS
 SELECT s.id AS scene_id,
    s.stage,
    f.id AS final_id,
    f.preview_revision,
    f.review_id,
    f.method,
    f.workflow_id,
    f.preview_width,
    f.preview_height,
    f.width,
    f.height,
    f.created_at AS final_started_at,
    ( SELECT min(v.revision) AS min
           FROM public.scene_revisions v
          WHERE ((v.scene_id = s.id) AND (v.stage = 'final'::text))) AS final_revision
   FROM (public.scenes s
     LEFT JOIN public.take_finals f ON ((f.scene_id = s.id)))
  WHERE (s.stage IS NOT NULL);

CREATE TABLE public.user_preferences (
    user_id bigint NOT NULL,
    shortcut_preset text DEFAULT 'default'::text NOT NULL,
    shortcut_overrides jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    show_sensitive text DEFAULT 'blur'::text NOT NULL,
    theme text DEFAULT 'light'::text NOT NULL,
    studio_layout jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT user_preferences_shortcut_overrides_object CHECK ((jsonb_typeof(shortcut_overrides) = 'object'::text)),
    CONSTRAINT user_preferences_show_sensitive_choice CHECK ((show_sensitive = ANY (ARRAY['blur'::text, 'show'::text]))),
    CONSTRAINT user_preferences_studio_layout_object CHECK ((jsonb_typeof(studio_layout) = 'object'::text)),
    CONSTRAINT user_preferences_theme_choice CHECK ((theme = ANY (ARRAY['light'::text, 'dark'::text])))
);

COMMENT ON CONSTRAINT user_preferences_shortcut_overrides_object ON public.user_preferences IS 'shortcut overrides must be a JSON object of action → key';

COMMENT ON CONSTRAINT user_preferences_show_sensitive_choice ON public.user_preferences IS 'sensitive media is either blurred until revealed (blur) or shown (show)';

COMMENT ON CONSTRAINT user_preferences_studio_layout_object ON public.user_preferences IS 'the Studio''s saved layout must be a JSON object of key → value';

COMMENT ON CONSTRAINT user_preferences_theme_choice ON public.user_preferences IS 'the Studio''s theme is either light or dark';

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.variant_kinds (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT variant_kinds_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT variant_kinds_label_not_blank CHECK ((btrim(label) <> ''::text))
);

CREATE TABLE public.webhook_deliveries (
    id bigint NOT NULL,
    webhook_id bigint NOT NULL,
    event text NOT NULL,
    payload jsonb NOT NULL,
    attempt integer NOT NULL,
    status_code integer,
    error text,
    delivered boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_deliveries_attempt_positive CHECK ((attempt > 0)),
    CONSTRAINT webhook_deliveries_delivered_means_2xx CHECK (((NOT delivered) OR ((status_code >= 200) AND (status_code <= 299)))),
    CONSTRAINT webhook_deliveries_outcome_recorded CHECK (((status_code IS NOT NULL) OR (error IS NOT NULL))),
    CONSTRAINT webhook_deliveries_status_code_range CHECK (((status_code >= 100) AND (status_code <= 599)))
);

COMMENT ON CONSTRAINT webhook_deliveries_delivered_means_2xx ON public.webhook_deliveries IS 'only a 2xx answer counts as delivered';

COMMENT ON CONSTRAINT webhook_deliveries_outcome_recorded ON public.webhook_deliveries IS 'an attempt records either the HTTP status or the connection error';

ALTER TABLE public.webhook_deliveries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.webhooks (
    id bigint NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    events text[] NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhooks_events_not_empty CHECK ((cardinality(events) > 0)),
    CONSTRAINT webhooks_secret_long_enough CHECK ((length(secret) >= 16)),
    CONSTRAINT webhooks_url_format CHECK ((url ~ '^https?://[^\s/]+'::text))
);

COMMENT ON CONSTRAINT webhooks_events_not_empty ON public.webhooks IS 'must subscribe to at least one event';

COMMENT ON CONSTRAINT webhooks_secret_long_enough ON public.webhooks IS 'must be at least 16 characters (it signs every delivery)';

COMMENT ON CONSTRAINT webhooks_url_format ON public.webhooks IS 'must be an http:// or https:// URL';

ALTER TABLE public.webhooks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhooks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.worker_leases (
    id bigint NOT NULL,
    worker_id bigint NOT NULL,
    holder text NOT NULL,
    purpose text DEFAULT ''::text NOT NULL,
    leased_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    released_at timestamp with time zone,
    outcome text,
    CONSTRAINT worker_leases_expiry_after_start CHECK ((expires_at > leased_at)),
    CONSTRAINT worker_leases_holder_not_blank CHECK ((btrim(holder) <> ''::text)),
    CONSTRAINT worker_leases_outcome_known CHECK ((outcome = ANY (ARRAY['done'::text, 'failed'::text, 'expired'::text, 'worker_lost'::text, 'interrupted'::text]))),
    CONSTRAINT worker_leases_released_with_outcome CHECK (((released_at IS NULL) = (outcome IS NULL)))
);

ALTER TABLE public.worker_leases ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.worker_leases_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.workers (
    id bigint NOT NULL,
    name text NOT NULL,
    url text NOT NULL,
    pool text DEFAULT 'default'::text NOT NULL,
    slots integer DEFAULT 1 NOT NULL,
    state text DEFAULT 'online'::text NOT NULL,
    capabilities jsonb DEFAULT '{}'::jsonb NOT NULL,
    last_seen_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    last_error text,
    catalogue_sha256 text,
    catalogue_drifted boolean DEFAULT false NOT NULL,
    queue_depth smallint DEFAULT 1 NOT NULL,
    CONSTRAINT workers_capabilities_object CHECK ((jsonb_typeof(capabilities) = 'object'::text)),
    CONSTRAINT workers_catalogue_sha256_format CHECK (public.is_sha256(catalogue_sha256)),
    CONSTRAINT workers_failures_not_negative CHECK ((failures >= 0)),
    CONSTRAINT workers_name_format CHECK (public.is_slug(name)),
    CONSTRAINT workers_pool_format CHECK (public.is_slug(pool)),
    CONSTRAINT workers_queue_depth_range CHECK (((queue_depth >= 0) AND (queue_depth <= 8))),
    CONSTRAINT workers_slots_range CHECK (((slots >= 1) AND (slots <= 64))),
    CONSTRAINT workers_url_format CHECK ((url ~ '^https?://[^\s/]+'::text))
);

COMMENT ON COLUMN public.workers.failures IS 'consecutive faults (failed health checks, segments lost on the worker) since its last success';

COMMENT ON CONSTRAINT workers_queue_depth_range ON public.workers IS 'a worker queues between 0 and 8 segments beyond its slots';

CREATE VIEW public.worker_models AS
 SELECT w.id AS worker_id,
    w.name AS worker,
    w.pool,
    w.state,
    f.key AS kind,
    replace(m.name, '\'::text, '/'::text) AS name
   FROM ((public.workers w
     CROSS JOIN LATERAL jsonb_each(COALESCE((w.capabilities -> 'models'::text), '{}'::jsonb)) f(key, files))
     CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE
            WHEN (jsonb_typeof(f.files) = 'array'::text) THEN f.files
            ELSE '[]'::jsonb
        END) m(name));

CREATE TABLE public.worker_states (
    code text NOT NULL,
    label text NOT NULL,
    "position" smallint NOT NULL,
    CONSTRAINT worker_states_code_format CHECK ((code ~ '^[a-z][a-z_]{0,31}$'::text)),
    CONSTRAINT worker_states_label_not_blank CHECK ((btrim(label) <> ''::text))
);

ALTER TABLE public.workers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.workers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.workflow_models (
    workflow_id bigint NOT NULL,
    folder text NOT NULL,
    filename text NOT NULL,
    node_id text NOT NULL,
    input_name text NOT NULL,
    CONSTRAINT workflow_models_filename_not_blank CHECK ((btrim(filename) <> ''::text)),
    CONSTRAINT workflow_models_folder_not_blank CHECK ((btrim(folder) <> ''::text))
);

ALTER TABLE public.workflows ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.workflows_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_policy
    ADD CONSTRAINT audit_policy_pkey PRIMARY KEY (table_name, column_name);

ALTER TABLE ONLY public.audit_treatments
    ADD CONSTRAINT audit_treatments_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_once UNIQUE (batch_id, character_id, scene_type_id);

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.batch_statuses
    ADD CONSTRAINT batch_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_dagster_backfill_id_unique UNIQUE (dagster_backfill_id);

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_id_project_unique UNIQUE (id, project_id);

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.budget_policies
    ADD CONSTRAINT budget_policies_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.chain_events
    ADD CONSTRAINT chain_events_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_unique UNIQUE (project_id, trigger_scene_type_id, trigger_event, then_scene_type_id);

ALTER TABLE ONLY public.character_identities
    ADD CONSTRAINT character_identities_pkey PRIMARY KEY (character_id, model);

ALTER TABLE ONLY public.character_scene_overrides
    ADD CONSTRAINT character_scene_overrides_once UNIQUE (character_id, scene_type_id);

COMMENT ON CONSTRAINT character_scene_overrides_once ON public.character_scene_overrides IS 'a character has one set of overrides per scene type';

ALTER TABLE ONLY public.character_scene_overrides
    ADD CONSTRAINT character_scene_overrides_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.characters
    ADD CONSTRAINT characters_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.characters
    ADD CONSTRAINT characters_slug_unique UNIQUE (slug);

ALTER TABLE ONLY public.content_ratings
    ADD CONSTRAINT content_ratings_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.deliverable_statuses
    ADD CONSTRAINT deliverable_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.deliverables
    ADD CONSTRAINT deliverables_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.drop_outcomes
    ADD CONSTRAINT drop_outcomes_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_pair_unique UNIQUE (character_id, other_character_id, model);

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.duplicate_resolutions
    ADD CONSTRAINT duplicate_resolutions_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.edit_commands
    ADD CONSTRAINT edit_commands_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_once UNIQUE NULLS NOT DISTINCT (tag_id, project_id, character_id, scene_id, segment_id);

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.face_embeddings
    ADD CONSTRAINT face_embeddings_image_model_unique UNIQUE (source_image_id, model);

ALTER TABLE ONLY public.face_embeddings
    ADD CONSTRAINT face_embeddings_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.face_models
    ADD CONSTRAINT face_models_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.hardware_samples
    ADD CONSTRAINT hardware_samples_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.hook_failure_policies
    ADD CONSTRAINT hook_failure_policies_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.hook_outcomes
    ADD CONSTRAINT hook_outcomes_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.hook_runs
    ADD CONSTRAINT hook_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.hook_runtimes
    ADD CONSTRAINT hook_runtimes_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.hook_stages
    ADD CONSTRAINT hook_stages_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_project_name_unique UNIQUE (project_id, name);

ALTER TABLE ONLY public.image_qa_statuses
    ADD CONSTRAINT image_qa_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.image_variants
    ADD CONSTRAINT image_variants_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.image_variants
    ADD CONSTRAINT image_variants_shape_unique UNIQUE (source_image_id, kind, width, height);

ALTER TABLE ONLY public.inbox_drops
    ADD CONSTRAINT inbox_drops_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.metadata_sync
    ADD CONSTRAINT metadata_sync_pkey PRIMARY KEY (character_id);

ALTER TABLE ONLY public.model_kinds
    ADD CONSTRAINT model_kinds_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_kind_name_unique UNIQUE (kind, name);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_sha256_unique UNIQUE (sha256);

ALTER TABLE ONLY public.note_drawings
    ADD CONSTRAINT note_drawings_one_per_note UNIQUE (note_id);

COMMENT ON CONSTRAINT note_drawings_one_per_note ON public.note_drawings IS 'a note has at most one drawing';

ALTER TABLE ONLY public.note_drawings
    ADD CONSTRAINT note_drawings_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.note_statuses
    ADD CONSTRAINT note_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.notification_kinds
    ADD CONSTRAINT notification_kinds_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.project_budgets
    ADD CONSTRAINT project_budgets_pkey PRIMARY KEY (project_id);

ALTER TABLE ONLY public.project_characters
    ADD CONSTRAINT project_characters_pkey PRIMARY KEY (project_id, character_id);

ALTER TABLE ONLY public.project_statuses
    ADD CONSTRAINT project_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_slug_unique UNIQUE (slug);

ALTER TABLE ONLY public.regression_goldens
    ADD CONSTRAINT regression_goldens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.regression_goldens
    ADD CONSTRAINT regression_goldens_unique UNIQUE (workflow, scene_id);

COMMENT ON CONSTRAINT regression_goldens_unique ON public.regression_goldens IS 'this take is already a golden of this workflow';

ALTER TABLE ONLY public.regression_overrides
    ADD CONSTRAINT regression_overrides_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.regression_overrides
    ADD CONSTRAINT regression_overrides_unique UNIQUE (batch_id, workflow_id);

ALTER TABLE ONLY public.regression_results
    ADD CONSTRAINT regression_results_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.regression_results
    ADD CONSTRAINT regression_results_unique UNIQUE (run_id, golden_id);

ALTER TABLE ONLY public.regression_runs
    ADD CONSTRAINT regression_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.regression_thresholds
    ADD CONSTRAINT regression_thresholds_pkey PRIMARY KEY (workflow);

ALTER TABLE ONLY public.regression_verdicts
    ADD CONSTRAINT regression_verdicts_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.review_decisions
    ADD CONSTRAINT review_decisions_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.scene_controls
    ADD CONSTRAINT scene_controls_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.scene_revisions
    ADD CONSTRAINT scene_revisions_one_number_per_take UNIQUE (scene_id, revision);

COMMENT ON CONSTRAINT scene_revisions_one_number_per_take ON public.scene_revisions IS 'a take has one revision of each number';

ALTER TABLE ONLY public.scene_revisions
    ADD CONSTRAINT scene_revisions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.scene_statuses
    ADD CONSTRAINT scene_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_id_type_unique UNIQUE (id, scene_type_id);

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_version_unique UNIQUE (scene_type_id, version);

ALTER TABLE ONLY public.scene_types
    ADD CONSTRAINT scene_types_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.scene_types
    ADD CONSTRAINT scene_types_slug_unique UNIQUE (slug);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_subject_unique UNIQUE (id, project_id, character_id, scene_type_id);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_take_unique UNIQUE (project_id, character_id, scene_type_id, take);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.seed_policies
    ADD CONSTRAINT seed_policies_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.segment_requests
    ADD CONSTRAINT segment_requests_lease_id_key UNIQUE (lease_id);

ALTER TABLE ONLY public.segment_requests
    ADD CONSTRAINT segment_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.segment_statuses
    ADD CONSTRAINT segment_statuses_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.segment_trims
    ADD CONSTRAINT segment_trims_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT segments_index_attempt_unique UNIQUE (scene_id, index, attempt);

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT segments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_sha256_unique UNIQUE (token_sha256);

ALTER TABLE ONLY public.share_link_uses
    ADD CONSTRAINT share_link_uses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.share_links
    ADD CONSTRAINT share_links_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.share_links
    ADD CONSTRAINT share_links_token_sha256_unique UNIQUE (token_sha256);

ALTER TABLE ONLY public.share_use_outcomes
    ADD CONSTRAINT share_use_outcomes_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.shortcut_presets
    ADD CONSTRAINT shortcut_presets_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.source_images
    ADD CONSTRAINT source_images_content_unique UNIQUE (character_id, sha256);

ALTER TABLE ONLY public.source_images
    ADD CONSTRAINT source_images_name_version_unique UNIQUE (character_id, original_name, version);

ALTER TABLE ONLY public.source_images
    ADD CONSTRAINT source_images_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_name_unique UNIQUE (name);

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.take_assignments
    ADD CONSTRAINT take_assignments_one_per_take UNIQUE (scene_id);

COMMENT ON CONSTRAINT take_assignments_one_per_take ON public.take_assignments IS 'a take has one assignment at a time (assigning again replaces it)';

ALTER TABLE ONLY public.take_assignments
    ADD CONSTRAINT take_assignments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.take_finals
    ADD CONSTRAINT take_finals_one_per_take UNIQUE (scene_id);

COMMENT ON CONSTRAINT take_finals_one_per_take ON public.take_finals IS 'a take has one final (a second approval event makes nothing new)';

ALTER TABLE ONLY public.take_finals
    ADD CONSTRAINT take_finals_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_unique UNIQUE (email);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_username_unique UNIQUE (username);

ALTER TABLE ONLY public.variant_kinds
    ADD CONSTRAINT variant_kinds_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT webhooks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.worker_leases
    ADD CONSTRAINT worker_leases_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.worker_states
    ADD CONSTRAINT worker_states_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_name_unique UNIQUE (name);

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_url_unique UNIQUE (url);

ALTER TABLE ONLY public.workflow_models
    ADD CONSTRAINT workflow_models_pkey PRIMARY KEY (workflow_id, node_id, input_name);

ALTER TABLE ONLY public.workflows
    ADD CONSTRAINT workflows_name_content_unique UNIQUE (name, sha256);

ALTER TABLE ONLY public.workflows
    ADD CONSTRAINT workflows_name_version_unique UNIQUE (name, version);

ALTER TABLE ONLY public.workflows
    ADD CONSTRAINT workflows_pkey PRIMARY KEY (id);

CREATE INDEX audit_log_at_idx ON public.audit_log USING btree (at);

CREATE INDEX audit_log_row_idx ON public.audit_log USING btree (table_name, row_key);

CREATE UNIQUE INDEX audit_policy_by_table_key ON public.audit_policy_by_table USING btree (table_name);

CREATE INDEX batch_items_scene_idx ON public.batch_items USING btree (scene_id) WHERE (scene_id IS NOT NULL);

CREATE INDEX batch_items_subject_idx ON public.batch_items USING btree (project_id, character_id, scene_type_id);

CREATE INDEX batches_project_status_idx ON public.batches USING btree (project_id, status);

CREATE INDEX chain_rules_trigger_idx ON public.chain_rules USING btree (project_id, trigger_scene_type_id) WHERE enabled;

CREATE INDEX character_scene_overrides_scene_type ON public.character_scene_overrides USING btree (scene_type_id);

CREATE INDEX characters_search_idx ON public.characters USING gin (search);

CREATE INDEX edit_commands_stack ON public.edit_commands USING btree (actor, id DESC);

CREATE INDEX edit_commands_target ON public.edit_commands USING btree (target_kind, target, id);

CREATE INDEX entity_tags_character_idx ON public.entity_tags USING btree (character_id) WHERE (character_id IS NOT NULL);

CREATE INDEX hardware_samples_taken_idx ON public.hardware_samples USING btree (source, taken_at DESC);

CREATE INDEX hook_runs_scene_idx ON public.hook_runs USING btree (scene_id, finished_at);

CREATE INDEX hooks_stage_idx ON public.hooks USING btree (project_id, stage);

CREATE INDEX inbox_drops_folder_idx ON public.inbox_drops USING btree (project_slug, folder, created_at DESC);

CREATE INDEX notes_deliverable_idx ON public.notes USING btree (deliverable_id) WHERE (deliverable_id IS NOT NULL);

CREATE INDEX notes_scene_type_idx ON public.notes USING btree (scene_type_id) WHERE (scene_type_id IS NOT NULL);

CREATE INDEX notes_search_idx ON public.notes USING gin (search);

CREATE INDEX notifications_closed_by_review_idx ON public.notifications USING btree (closed_by_review_id) WHERE (closed_by_review_id IS NOT NULL);

CREATE INDEX notifications_unread_idx ON public.notifications USING btree (user_id, created_at) WHERE (read_at IS NULL);

CREATE INDEX project_characters_character_idx ON public.project_characters USING btree (character_id);

CREATE INDEX regression_runs_version_idx ON public.regression_runs USING btree (workflow_id, models_fingerprint, id);

CREATE UNIQUE INDEX reviews_one_current_per_reviewer ON public.reviews USING btree (scene_id, revision, reviewer_id) WHERE current;

CREATE INDEX reviews_revision_idx ON public.reviews USING btree (scene_id, revision, created_at) WHERE current;

CREATE INDEX reviews_scene_idx ON public.reviews USING btree (scene_id, created_at);

CREATE INDEX scenes_character_idx ON public.scenes USING btree (character_id);

CREATE UNIQUE INDEX scenes_one_promoted_take_per_cell ON public.scenes USING btree (project_id, character_id, scene_type_id) WHERE promoted;

CREATE UNIQUE INDEX scenes_one_take_per_branch ON public.scenes USING btree (project_id, character_id, scene_type_id, branch) WHERE (branch <> 'main'::text);

CREATE INDEX scenes_prompt_worker_idx ON public.scenes USING btree (prompt_worker) WHERE (prompt_id IS NOT NULL);

CREATE INDEX scenes_scene_type_idx ON public.scenes USING btree (scene_type_id);

CREATE INDEX segment_requests_waiting_idx ON public.segment_requests USING btree (pool, requested_at) WHERE ((granted_at IS NULL) AND (given_up_at IS NULL));

CREATE INDEX segment_trims_segment ON public.segment_trims USING btree (segment_id, at DESC, id DESC);

CREATE UNIQUE INDEX segments_one_current ON public.segments USING btree (scene_id, index) WHERE current;

CREATE INDEX sessions_user_idx ON public.sessions USING btree (user_id);

CREATE INDEX share_link_uses_link_idx ON public.share_link_uses USING btree (link_id, at);

CREATE INDEX share_links_scene_idx ON public.share_links USING btree (scene_id, created_at);

CREATE UNIQUE INDEX source_images_one_primary ON public.source_images USING btree (character_id) WHERE is_primary;

CREATE INDEX take_assignments_assignee_idx ON public.take_assignments USING btree (assignee_id);

CREATE INDEX take_finals_review_idx ON public.take_finals USING btree (review_id) WHERE (review_id IS NOT NULL);

CREATE INDEX take_finals_workflow_idx ON public.take_finals USING btree (workflow_id) WHERE (workflow_id IS NOT NULL);

CREATE INDEX webhook_deliveries_webhook_idx ON public.webhook_deliveries USING btree (webhook_id, created_at);

CREATE INDEX worker_leases_active_idx ON public.worker_leases USING btree (worker_id) WHERE (released_at IS NULL);

CREATE OR REPLACE VIEW public.take_consistency AS
 WITH measured AS (
         SELECT g.scene_id,
            COALESCE(((g.qa #>> '{metrics,identity_median}'::text[]))::double precision, gate.value) AS median,
            COALESCE(((g.qa #>> '{metrics,identity_min}'::text[]))::double precision, ((g.qa #>> '{metrics,identity_median}'::text[]))::double precision, gate.value) AS lowest,
            gate.threshold
           FROM (public.segments g
             LEFT JOIN LATERAL ( SELECT
                        CASE
                            WHEN (jsonb_typeof((x.value -> 'value'::text)) = 'number'::text) THEN ((x.value ->> 'value'::text))::double precision
                            ELSE NULL::double precision
                        END AS value,
                        CASE
                            WHEN (jsonb_typeof((x.value -> 'threshold'::text)) = 'number'::text) THEN ((x.value ->> 'threshold'::text))::double precision
                            ELSE NULL::double precision
                        END AS threshold
                   FROM jsonb_array_elements(COALESCE((g.qa -> 'gates'::text), '[]'::jsonb)) x(value)
                  WHERE ((x.value ->> 'name'::text) = 'identity'::text)
                 LIMIT 1) gate ON (true))
          WHERE g.current
        ), takes AS (
         SELECT s_1.id AS scene_id,
            s_1.project_id,
            s_1.character_id,
            s_1.scene_type_id,
            s_1.take,
            count(*) AS segments,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY m.median) AS median_identity,
            min(m.lowest) AS min_identity,
            max(m.threshold) AS threshold
           FROM (measured m
             JOIN public.scenes s_1 ON ((s_1.id = m.scene_id)))
          WHERE (m.median IS NOT NULL)
          GROUP BY s_1.id
        ), centre AS (
         SELECT takes.character_id,
            count(*) AS takes,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY takes.median_identity) AS character_median
           FROM takes
          GROUP BY takes.character_id
        ), spread AS (
         SELECT t.character_id,
            GREATEST(percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY (abs((t.median_identity - c.character_median)))), (0.01)::double precision) AS mad
           FROM (takes t
             JOIN centre c USING (character_id))
          GROUP BY t.character_id
        ), scored AS (
         SELECT t.scene_id,
            t.project_id,
            t.character_id,
            t.scene_type_id,
            t.take,
            t.segments,
            t.median_identity,
            t.min_identity,
            t.threshold,
            c.takes AS character_takes,
            c.character_median,
            d.mad,
                CASE
                    WHEN (c.takes >= 3) THEN (((0.6745)::double precision * (t.median_identity - c.character_median)) / d.mad)
                    ELSE NULL::double precision
                END AS z_score
           FROM ((takes t
             JOIN centre c USING (character_id))
             JOIN spread d USING (character_id))
        )
 SELECT scene_id,
    project_id,
    character_id,
    scene_type_id,
    take,
    ( SELECT max(r.revision) AS max
           FROM public.scene_revisions r
          WHERE (r.scene_id = s.scene_id)) AS revision,
    segments,
    median_identity,
    min_identity,
    threshold,
    character_takes,
    character_median,
    mad,
    z_score,
    (COALESCE((median_identity < threshold), false) OR COALESCE((z_score <= ('-3.5'::numeric)::double precision), false)) AS outlier,
    NULLIF(concat_ws('; '::text,
        CASE
            WHEN (median_identity < threshold) THEN format('below band: median %s under the character''s threshold %s'::text, round((median_identity)::numeric, 3), round((threshold)::numeric, 3))
            ELSE NULL::text
        END,
        CASE
            WHEN (z_score <= ('-3.5'::numeric)::double precision) THEN format('low against the character: z %s (median %s, the character''s %s)'::text, round((z_score)::numeric, 1), round((median_identity)::numeric, 3), round((character_median)::numeric, 3))
            ELSE NULL::text
        END), ''::text) AS reason
   FROM scored s;

CREATE OR REPLACE VIEW public.workflow_model_sets AS
 SELECT w.id AS workflow_id,
    w.name AS workflow,
    w.version,
    count(m.filename) AS models,
    encode(sha256(convert_to(COALESCE(string_agg(((((m.folder || '/'::text) || m.filename) || '='::text) || COALESCE(x.sha256, 'unregistered'::text)), '
'::text ORDER BY m.folder, m.filename), ''::text), 'UTF8'::name)), 'hex'::text) AS models_fingerprint
   FROM ((public.workflows w
     LEFT JOIN ( SELECT DISTINCT workflow_models.workflow_id,
            workflow_models.folder,
            workflow_models.filename
           FROM public.workflow_models) m ON ((m.workflow_id = w.id)))
     LEFT JOIN public.models x ON (((x.kind = m.folder) AND (x.name = m.filename))))
  GROUP BY w.id;

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.audit_policy FOR EACH ROW EXECUTE FUNCTION public.audit_row('table_name', 'column_name');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.audit_treatments FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.batch_items FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.batch_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.batches FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.budget_policies FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.chain_events FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.chain_rules FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.character_identities FOR EACH ROW EXECUTE FUNCTION public.audit_row('character_id', 'model');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.character_scene_overrides FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.characters FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.content_ratings FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.deliverable_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.deliverables FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.drop_outcomes FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.duplicate_candidates FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.duplicate_resolutions FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.edit_commands FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.entity_tags FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.face_embeddings FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.face_models FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hook_failure_policies FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hook_outcomes FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hook_runs FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hook_runtimes FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hook_stages FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.hooks FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.image_qa_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.image_variants FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.inbox_drops FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.metadata_sync FOR EACH ROW EXECUTE FUNCTION public.audit_row('character_id');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.model_kinds FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.models FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.note_drawings FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.note_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.notes FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.notification_kinds FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.project_budgets FOR EACH ROW EXECUTE FUNCTION public.audit_row('project_id');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.project_characters FOR EACH ROW EXECUTE FUNCTION public.audit_row('project_id', 'character_id');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.project_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.projects FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_goldens FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_overrides FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_results FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_runs FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_thresholds FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.regression_verdicts FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.review_decisions FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.reviews FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.roles FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scene_controls FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scene_revisions FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scene_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scene_type_versions FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scene_types FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.scenes FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.seed_policies FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.segment_requests FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.segment_statuses FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.segment_trims FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.segments FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.sessions FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.share_link_uses FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.share_links FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.share_use_outcomes FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.shortcut_presets FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.source_images FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.tags FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.take_assignments FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.take_finals FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.user_preferences FOR EACH ROW EXECUTE FUNCTION public.audit_row('user_id');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.variant_kinds FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.webhooks FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.worker_leases FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.worker_states FOR EACH ROW EXECUTE FUNCTION public.audit_row('code');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.workers FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.workflow_models FOR EACH ROW EXECUTE FUNCTION public.audit_row('workflow_id', 'node_id', 'input_name');

CREATE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON public.workflows FOR EACH ROW EXECUTE FUNCTION public.audit_row();

CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.refuse_audit_change();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_audit_change();

CREATE TRIGGER audit_policy_refresh AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.audit_policy FOR EACH STATEMENT EXECUTE FUNCTION public.refresh_audit_policy();

CREATE TRIGGER batches_pool_announced AFTER UPDATE OF priority, status ON public.batches FOR EACH ROW WHEN (((old.priority IS DISTINCT FROM new.priority) OR (old.status IS DISTINCT FROM new.status))) EXECUTE FUNCTION public.announce_batch_in_pool();

CREATE TRIGGER face_embeddings_dimension BEFORE INSERT OR UPDATE ON public.face_embeddings FOR EACH ROW EXECUTE FUNCTION public.check_embedding_dimension();

CREATE TRIGGER notes_announced AFTER INSERT OR UPDATE ON public.notes FOR EACH ROW EXECUTE FUNCTION public.announce_note();

CREATE TRIGGER reviews_announced AFTER INSERT OR DELETE OR UPDATE ON public.reviews FOR EACH ROW EXECUTE FUNCTION public.announce_decision();

CREATE TRIGGER reviews_queue_announced AFTER INSERT OR DELETE OR UPDATE ON public.reviews FOR EACH ROW EXECUTE FUNCTION public.announce_queue_row('decision');

CREATE TRIGGER reviews_supersede BEFORE INSERT ON public.reviews FOR EACH ROW EXECUTE FUNCTION public.review_supersedes();

CREATE TRIGGER scene_revisions_queue_announced AFTER INSERT ON public.scene_revisions FOR EACH ROW EXECUTE FUNCTION public.announce_queue_row('revision');

CREATE TRIGGER scene_revisions_stage BEFORE INSERT ON public.scene_revisions FOR EACH ROW EXECUTE FUNCTION public.scene_revision_stage();

CREATE TRIGGER scene_type_versions_immutable BEFORE UPDATE ON public.scene_type_versions FOR EACH ROW EXECUTE FUNCTION public.refuse_version_edit();

CREATE TRIGGER scene_types_acyclic BEFORE INSERT OR UPDATE OF parent_id ON public.scene_types FOR EACH ROW EXECUTE FUNCTION public.refuse_scene_type_cycle();

CREATE TRIGGER scenes_pool_announced AFTER UPDATE OF priority, control ON public.scenes FOR EACH ROW WHEN (((old.priority IS DISTINCT FROM new.priority) OR (old.control IS DISTINCT FROM new.control))) EXECUTE FUNCTION public.announce_take_in_pool();

CREATE TRIGGER scenes_queue_announced AFTER INSERT OR UPDATE ON public.scenes FOR EACH ROW EXECUTE FUNCTION public.announce_take();

CREATE TRIGGER scenes_record_revision AFTER INSERT OR UPDATE OF status, uri, sha256 ON public.scenes FOR EACH ROW WHEN ((new.status = 'assembled'::text)) EXECUTE FUNCTION public.record_scene_revision();

CREATE TRIGGER segment_requests_given_up AFTER UPDATE OF given_up_at ON public.segment_requests FOR EACH ROW WHEN (((old.given_up_at IS NULL) AND (new.given_up_at IS NOT NULL))) EXECUTE FUNCTION public.announce_segment_request();

CREATE TRIGGER segment_requests_granted AFTER UPDATE OF granted_at ON public.segment_requests FOR EACH ROW WHEN (((old.granted_at IS NULL) AND (new.granted_at IS NOT NULL))) EXECUTE FUNCTION public.announce_grant();

CREATE TRIGGER segment_requests_made AFTER INSERT OR DELETE ON public.segment_requests FOR EACH ROW EXECUTE FUNCTION public.announce_segment_request();

CREATE TRIGGER take_assignments_queue_announced AFTER INSERT OR DELETE OR UPDATE ON public.take_assignments FOR EACH ROW EXECUTE FUNCTION public.announce_queue_row('assignment');

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.batch_items FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.batches FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.character_identities FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.character_scene_overrides FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.characters FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.deliverables FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.duplicate_candidates FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.hooks FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.metadata_sync FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.notes FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.project_budgets FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.projects FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.regression_thresholds FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.scene_types FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.scenes FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.segments FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.source_images FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.user_preferences FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.webhooks FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.workers FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE TRIGGER webhooks_events_known BEFORE INSERT OR UPDATE OF events ON public.webhooks FOR EACH ROW EXECUTE FUNCTION public.refuse_unknown_webhook_event();

CREATE TRIGGER worker_leases_released AFTER UPDATE OF released_at ON public.worker_leases FOR EACH ROW WHEN (((old.released_at IS NULL) AND (new.released_at IS NOT NULL))) EXECUTE FUNCTION public.announce_lease();

CREATE TRIGGER worker_leases_taken AFTER INSERT ON public.worker_leases FOR EACH ROW EXECUTE FUNCTION public.announce_lease();

CREATE TRIGGER workers_pool_announced AFTER INSERT OR DELETE ON public.workers FOR EACH ROW EXECUTE FUNCTION public.announce_worker();

CREATE TRIGGER workers_pool_changed AFTER UPDATE OF state, slots, queue_depth, pool ON public.workers FOR EACH ROW WHEN (((old.state IS DISTINCT FROM new.state) OR (old.slots IS DISTINCT FROM new.slots) OR (old.queue_depth IS DISTINCT FROM new.queue_depth) OR (old.pool IS DISTINCT FROM new.pool))) EXECUTE FUNCTION public.announce_worker();

ALTER TABLE ONLY public.audit_policy
    ADD CONSTRAINT audit_policy_treatment_fkey FOREIGN KEY (treatment) REFERENCES public.audit_treatments(code);

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_character_in_project FOREIGN KEY (project_id, character_id) REFERENCES public.project_characters(project_id, character_id) ON DELETE RESTRICT;

COMMENT ON CONSTRAINT batch_items_character_in_project ON public.batch_items IS 'the character is not in the project';

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_of_batch FOREIGN KEY (batch_id, project_id) REFERENCES public.batches(id, project_id) ON DELETE CASCADE;

COMMENT ON CONSTRAINT batch_items_of_batch ON public.batch_items IS 'an item belongs to a batch of the same project';

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_take_of_item FOREIGN KEY (scene_id, project_id, character_id, scene_type_id) REFERENCES public.scenes(id, project_id, character_id, scene_type_id) ON DELETE RESTRICT;

COMMENT ON CONSTRAINT batch_items_take_of_item ON public.batch_items IS 'the linked take must be of the item''s project, character and scene type';

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.batches
    ADD CONSTRAINT batches_status_fkey FOREIGN KEY (status) REFERENCES public.batch_statuses(code);

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_then_scene_type_id_fkey FOREIGN KEY (then_scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_trigger_event_fkey FOREIGN KEY (trigger_event) REFERENCES public.chain_events(code);

ALTER TABLE ONLY public.chain_rules
    ADD CONSTRAINT chain_rules_trigger_scene_type_id_fkey FOREIGN KEY (trigger_scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.character_identities
    ADD CONSTRAINT character_identities_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.character_identities
    ADD CONSTRAINT character_identities_model_fkey FOREIGN KEY (model) REFERENCES public.face_models(code);

ALTER TABLE ONLY public.character_scene_overrides
    ADD CONSTRAINT character_scene_overrides_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.character_scene_overrides
    ADD CONSTRAINT character_scene_overrides_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.characters
    ADD CONSTRAINT characters_rating_fkey FOREIGN KEY (rating) REFERENCES public.content_ratings(code);

ALTER TABLE ONLY public.deliverables
    ADD CONSTRAINT deliverables_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.deliverables
    ADD CONSTRAINT deliverables_status_fkey FOREIGN KEY (status) REFERENCES public.deliverable_statuses(code);

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_model_fkey FOREIGN KEY (model) REFERENCES public.face_models(code);

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_other_character_id_fkey FOREIGN KEY (other_character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.duplicate_candidates
    ADD CONSTRAINT duplicate_candidates_resolution_fkey FOREIGN KEY (resolution) REFERENCES public.duplicate_resolutions(code);

ALTER TABLE ONLY public.edit_commands
    ADD CONSTRAINT edit_commands_redo_of_fkey FOREIGN KEY (redo_of) REFERENCES public.edit_commands(id);

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_segment_id_fkey FOREIGN KEY (segment_id) REFERENCES public.segments(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.entity_tags
    ADD CONSTRAINT entity_tags_tag_id_fkey FOREIGN KEY (tag_id) REFERENCES public.tags(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.face_embeddings
    ADD CONSTRAINT face_embeddings_model_fkey FOREIGN KEY (model) REFERENCES public.face_models(code);

ALTER TABLE ONLY public.face_embeddings
    ADD CONSTRAINT face_embeddings_source_image_id_fkey FOREIGN KEY (source_image_id) REFERENCES public.source_images(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.hardware_samples
    ADD CONSTRAINT hardware_samples_worker_id_fkey FOREIGN KEY (worker_id) REFERENCES public.workers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.hook_runs
    ADD CONSTRAINT hook_runs_hook_id_fkey FOREIGN KEY (hook_id) REFERENCES public.hooks(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.hook_runs
    ADD CONSTRAINT hook_runs_outcome_fkey FOREIGN KEY (outcome) REFERENCES public.hook_outcomes(code);

ALTER TABLE ONLY public.hook_runs
    ADD CONSTRAINT hook_runs_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.hook_runs
    ADD CONSTRAINT hook_runs_stage_fkey FOREIGN KEY (stage) REFERENCES public.hook_stages(code);

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_on_failure_fkey FOREIGN KEY (on_failure) REFERENCES public.hook_failure_policies(code);

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_runtime_fkey FOREIGN KEY (runtime) REFERENCES public.hook_runtimes(code);

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.hooks
    ADD CONSTRAINT hooks_stage_fkey FOREIGN KEY (stage) REFERENCES public.hook_stages(code);

ALTER TABLE ONLY public.image_variants
    ADD CONSTRAINT image_variants_kind_fkey FOREIGN KEY (kind) REFERENCES public.variant_kinds(code);

ALTER TABLE ONLY public.image_variants
    ADD CONSTRAINT image_variants_source_image_id_fkey FOREIGN KEY (source_image_id) REFERENCES public.source_images(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.inbox_drops
    ADD CONSTRAINT inbox_drops_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.inbox_drops
    ADD CONSTRAINT inbox_drops_outcome_fkey FOREIGN KEY (outcome) REFERENCES public.drop_outcomes(code);

ALTER TABLE ONLY public.metadata_sync
    ADD CONSTRAINT metadata_sync_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_kind_fkey FOREIGN KEY (kind) REFERENCES public.model_kinds(code);

ALTER TABLE ONLY public.note_drawings
    ADD CONSTRAINT note_drawings_note_id_fkey FOREIGN KEY (note_id) REFERENCES public.notes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_author_id_fkey FOREIGN KEY (author_id) REFERENCES public.users(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_deliverable_id_fkey FOREIGN KEY (deliverable_id) REFERENCES public.deliverables(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.notes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_segment_id_fkey FOREIGN KEY (segment_id) REFERENCES public.segments(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_status_fkey FOREIGN KEY (status) REFERENCES public.note_statuses(code);

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_closed_by_review_id_fkey FOREIGN KEY (closed_by_review_id) REFERENCES public.reviews(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_kind_fkey FOREIGN KEY (kind) REFERENCES public.notification_kinds(code);

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.project_budgets
    ADD CONSTRAINT project_budgets_policy_fkey FOREIGN KEY (policy) REFERENCES public.budget_policies(code);

ALTER TABLE ONLY public.project_budgets
    ADD CONSTRAINT project_budgets_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.project_characters
    ADD CONSTRAINT project_characters_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.project_characters
    ADD CONSTRAINT project_characters_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_status_fkey FOREIGN KEY (status) REFERENCES public.project_statuses(code);

ALTER TABLE ONLY public.regression_goldens
    ADD CONSTRAINT regression_goldens_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_goldens
    ADD CONSTRAINT regression_goldens_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_goldens
    ADD CONSTRAINT regression_goldens_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_overrides
    ADD CONSTRAINT regression_overrides_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES public.batches(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_overrides
    ADD CONSTRAINT regression_overrides_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflows(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_results
    ADD CONSTRAINT regression_results_golden_id_fkey FOREIGN KEY (golden_id) REFERENCES public.regression_goldens(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_results
    ADD CONSTRAINT regression_results_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.regression_runs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.regression_results
    ADD CONSTRAINT regression_results_verdict_fkey FOREIGN KEY (verdict) REFERENCES public.regression_verdicts(code);

ALTER TABLE ONLY public.regression_runs
    ADD CONSTRAINT regression_runs_status_fkey FOREIGN KEY (status) REFERENCES public.regression_verdicts(code);

ALTER TABLE ONLY public.regression_runs
    ADD CONSTRAINT regression_runs_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflows(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_decision_fkey FOREIGN KEY (decision) REFERENCES public.review_decisions(code);

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_reviewer_id_fkey FOREIGN KEY (reviewer_id) REFERENCES public.users(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.reviews
    ADD CONSTRAINT reviews_supersedes_fkey FOREIGN KEY (supersedes) REFERENCES public.reviews(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.scene_revisions
    ADD CONSTRAINT scene_revisions_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_seed_policy_fkey FOREIGN KEY (seed_policy) REFERENCES public.seed_policies(code);

ALTER TABLE ONLY public.scene_type_versions
    ADD CONSTRAINT scene_type_versions_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflows(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.scene_types
    ADD CONSTRAINT scene_types_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.scene_types(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.scene_types
    ADD CONSTRAINT scene_types_rating_fkey FOREIGN KEY (rating) REFERENCES public.content_ratings(code);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_character_in_project FOREIGN KEY (project_id, character_id) REFERENCES public.project_characters(project_id, character_id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_control_fkey FOREIGN KEY (control) REFERENCES public.scene_controls(code);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_scene_type_id_fkey FOREIGN KEY (scene_type_id) REFERENCES public.scene_types(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_status_fkey FOREIGN KEY (status) REFERENCES public.scene_statuses(code);

ALTER TABLE ONLY public.scenes
    ADD CONSTRAINT scenes_version_of_scene_type FOREIGN KEY (scene_type_version_id, scene_type_id) REFERENCES public.scene_type_versions(id, scene_type_id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.segment_requests
    ADD CONSTRAINT segment_requests_lease_id_fkey FOREIGN KEY (lease_id) REFERENCES public.worker_leases(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.segment_requests
    ADD CONSTRAINT segment_requests_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.segment_trims
    ADD CONSTRAINT segment_trims_segment_id_fkey FOREIGN KEY (segment_id) REFERENCES public.segments(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT segments_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT segments_status_fkey FOREIGN KEY (status) REFERENCES public.segment_statuses(code);

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.share_link_uses
    ADD CONSTRAINT share_link_uses_link_id_fkey FOREIGN KEY (link_id) REFERENCES public.share_links(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.share_link_uses
    ADD CONSTRAINT share_link_uses_outcome_fkey FOREIGN KEY (outcome) REFERENCES public.share_use_outcomes(code);

ALTER TABLE ONLY public.share_links
    ADD CONSTRAINT share_links_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id);

ALTER TABLE ONLY public.share_links
    ADD CONSTRAINT share_links_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.source_images
    ADD CONSTRAINT source_images_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.characters(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.source_images
    ADD CONSTRAINT source_images_qa_status_fkey FOREIGN KEY (qa_status) REFERENCES public.image_qa_statuses(code);

ALTER TABLE ONLY public.take_assignments
    ADD CONSTRAINT take_assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES public.users(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.take_assignments
    ADD CONSTRAINT take_assignments_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.take_assignments
    ADD CONSTRAINT take_assignments_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.take_finals
    ADD CONSTRAINT take_finals_review_id_fkey FOREIGN KEY (review_id) REFERENCES public.reviews(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.take_finals
    ADD CONSTRAINT take_finals_scene_id_fkey FOREIGN KEY (scene_id) REFERENCES public.scenes(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.take_finals
    ADD CONSTRAINT take_finals_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflows(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_shortcut_preset_fkey FOREIGN KEY (shortcut_preset) REFERENCES public.shortcut_presets(code);

ALTER TABLE ONLY public.user_preferences
    ADD CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_role_fkey FOREIGN KEY (role) REFERENCES public.roles(code);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_fkey FOREIGN KEY (event) REFERENCES public.notification_kinds(code);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES public.webhooks(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.worker_leases
    ADD CONSTRAINT worker_leases_worker_id_fkey FOREIGN KEY (worker_id) REFERENCES public.workers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_state_fkey FOREIGN KEY (state) REFERENCES public.worker_states(code);

ALTER TABLE ONLY public.workflow_models
    ADD CONSTRAINT workflow_models_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflows(id) ON DELETE CASCADE;
