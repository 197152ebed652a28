-- Extensions, shared helper functions and the append-only audit log (PRD-45).
-- Every catalog table is put under audit with track_table(), defined here.

CREATE EXTENSION IF NOT EXISTS vector;

-- Slugs name things in storage keys and Dagster partition keys: lowercase, digits, '-' and
-- '_', never '|' (it separates multi-partition dimensions) nor '/' or '.'.
CREATE FUNCTION is_slug(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT value ~ '^[a-z0-9][a-z0-9_-]{0,62}$' $$;

CREATE FUNCTION is_sha256(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT value ~ '^[0-9a-f]{64}$' $$;

-- Who is acting: set per transaction (SET LOCAL trulience.actor = 'alice') or per session;
-- a connection that names nobody is recorded as its database role.
CREATE FUNCTION current_actor() RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT coalesce(nullif(current_setting('trulience.actor', true), ''), 'db:' || session_user) $$;

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    table_name  text NOT NULL,
    row_key     text NOT NULL,
    action      text NOT NULL CONSTRAINT audit_log_action_known
                CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
    before      jsonb,
    after       jsonb,
    txid        bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX audit_log_row_idx ON audit_log (table_name, row_key);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Row trigger: TG_ARGV names the key columns (default: id). Generated search vectors
-- (derived data) and password hashes (secrets) are left out; an UPDATE that changes
-- nothing but updated_at is not recorded.
CREATE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    any_row jsonb;
    key_parts text[] := '{}';
    key_column text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_row := to_jsonb(OLD) - '{search,password_hash}'::text[]; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN new_row := to_jsonb(NEW) - '{search,password_hash}'::text[]; END IF;
    IF TG_OP = 'UPDATE' AND (old_row - 'updated_at') = (new_row - 'updated_at') THEN
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

CREATE FUNCTION refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', TABLE = 'audit_log';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- Put a table under audit, and keep its updated_at (if it has one) current.
CREATE FUNCTION track_table(tbl regclass, key_columns text[] DEFAULT '{}') RETURNS void
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
