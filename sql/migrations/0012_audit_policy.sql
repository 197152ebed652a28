-- The audit policy as data (issue 12). 0001, 0007 and 0009 each restated audit_row() with
-- its own column lists, and 0009's copy, taken from 0001, silently dropped 0007's: worker
-- heartbeats were audited again and face vectors reached the append-only log. Now the one
-- audit_row() below reads audit_policy; a later migration that adds a table with a secret
-- or a liveness stamp adds rows here and never restates the function.
--
-- Treatments of a column in the audit log's before/after images:
--   hidden    left out (derived data: search vectors, face vectors); a change to it alone
--             is not worth a row
--   stamp     kept in the images, but an UPDATE that changes only stamps writes no row
--             (updated_at, liveness stamps that move every few seconds)
--   redacted  present as "[redacted]" (the after image says "[redacted: changed]" when it
--             changed), never its value; a change to it alone is still recorded, so a
--             password change leaves a row. A NULL stays NULL: "no password" is no secret.
--   recorded  kept as is: a per-table row with it exempts one table from an any-table rule
SELECT create_lookup('audit_treatments',
    ARRAY['hidden', 'stamp', 'redacted', 'recorded'],
    ARRAY['Left out of the audit log', 'Kept, but a change to it alone is not recorded',
          'Recorded as changed, value never shown', 'Recorded as is']);

-- table_name '*' is a rule for any table; a row naming the table wins over it.
CREATE TABLE audit_policy (
    table_name  text NOT NULL CONSTRAINT audit_policy_table_name_format
                CHECK (table_name = '*' OR table_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
    column_name text NOT NULL CONSTRAINT audit_policy_column_name_format
                CHECK (column_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
    treatment   text NOT NULL REFERENCES audit_treatments (code),
    reason      text NOT NULL CONSTRAINT audit_policy_reason_not_blank CHECK (btrim(reason) <> ''),
    PRIMARY KEY (table_name, column_name)
);
COMMENT ON CONSTRAINT audit_policy_table_name_format ON audit_policy IS
    'must be a lowercase table name, or * for any table';
COMMENT ON CONSTRAINT audit_policy_column_name_format ON audit_policy IS
    'must be a lowercase column name';
COMMENT ON CONSTRAINT audit_policy_reason_not_blank ON audit_policy IS
    'must say why the column is treated so';

-- Every intention of 0001, 0007 and 0009, kept. expires_at is a liveness stamp only where a
-- heartbeat moves it (a lease); a session's expiry is a term worth recording if it changes.
INSERT INTO audit_policy (table_name, column_name, treatment, reason) VALUES
    ('*', 'search', 'hidden', 'generated full-text vector, derived from audited columns (0001)'),
    ('*', 'embedding', 'hidden',
     'face vector, recomputable from the images; logging them tripled the log (0007)'),
    ('*', 'centroid', 'hidden', 'mean face vector of a character, derived (0007)'),
    ('*', 'password_hash', 'redacted', 'a secret; its change is recorded, never its value'),
    ('*', 'secret', 'redacted',
     'signs webhook deliveries; the append-only log cannot be scrubbed later (0009)'),
    ('*', 'updated_at', 'stamp', 'moves with every change, set by touch_updated_at (0001)'),
    ('*', 'last_seen_at', 'stamp', 'liveness stamp of workers and sessions (0007)'),
    ('*', 'heartbeat_at', 'stamp', 'liveness stamp renewed every few seconds (0007)'),
    ('worker_leases', 'expires_at', 'stamp', 'every heartbeat moves a lease''s expiry (0007)');

-- The policy each table gets, compiled: a per-table rule wins over an any-table one ('*'
-- holds the rules for tables the policy does not name). The trigger runs on every row, and
-- one primary-key lookup of ready arrays costs a fraction of resolving the rules per row
-- (measured: resolving them per row doubled the trigger's time). Refreshed by the statement
-- trigger below whenever audit_policy changes, so adding a rule is all a migration does.
CREATE MATERIALIZED VIEW audit_policy_by_table AS
SELECT t.table_name,
       coalesce(array_agg(p.column_name ORDER BY p.column_name)
                FILTER (WHERE p.treatment = 'hidden'), '{}') AS hidden,
       coalesce(array_agg(p.column_name ORDER BY p.column_name)
                FILTER (WHERE p.treatment = 'stamp'), '{}') AS stamps,
       coalesce(array_agg(p.column_name ORDER BY p.column_name)
                FILTER (WHERE p.treatment = 'redacted'), '{}') AS redacted
  FROM (SELECT table_name FROM audit_policy UNION SELECT '*') AS t
  LEFT JOIN LATERAL (
        SELECT DISTINCT ON (a.column_name) a.column_name, a.treatment
          FROM audit_policy a
         WHERE a.table_name IN (t.table_name, '*')
         ORDER BY a.column_name, a.table_name = '*') AS p ON true
 GROUP BY t.table_name;
CREATE UNIQUE INDEX audit_policy_by_table_key ON audit_policy_by_table (table_name);

CREATE FUNCTION refresh_audit_policy() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW audit_policy_by_table;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_policy_refresh AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON audit_policy
    FOR EACH STATEMENT EXECUTE FUNCTION refresh_audit_policy();

-- Row trigger: TG_ARGV names the key columns (default: id); the table's policy comes from
-- audit_policy_by_table.
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
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

-- Who changed the policy is itself worth knowing (its rows above predate the trigger, so
-- a new catalog's log starts empty).
SELECT track_table('audit_policy', ARRAY['table_name', 'column_name']);
