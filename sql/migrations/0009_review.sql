-- Review and approval (PRD-03, PRD-10, PRD-12, PRD-35, PRD-38, PRD-92): login sessions,
-- per-user notifications, and signed outgoing webhooks with a log of every attempt.

-- Webhook secrets must never reach the append-only audit log (it cannot be scrubbed later),
-- so the audit trigger now leaves out `secret` as it already leaves out password hashes.
-- The body is otherwise unchanged from 0001.
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    any_row jsonb;
    key_parts text[] := '{}';
    key_column text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN old_row := to_jsonb(OLD) - '{search,password_hash,secret}'::text[]; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN new_row := to_jsonb(NEW) - '{search,password_hash,secret}'::text[]; END IF;
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

-- A login. Only the sha256 of the bearer token is stored: a leaked table (or audit log)
-- does not let anyone act as the user.
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256 text NOT NULL CONSTRAINT sessions_token_sha256_unique UNIQUE
                 CONSTRAINT sessions_token_sha256_format CHECK (is_sha256(token_sha256)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    user_agent   text NOT NULL DEFAULT '',
    CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Events people are told about, and that webhooks subscribe to (one vocabulary for both).
SELECT create_lookup('notification_kinds',
    ARRAY['run_failed', 'gate_failed', 'ready_for_review', 'approved', 'delivered', 'note_added'],
    ARRAY['Run failed', 'Quality gate failed', 'Ready for review',
          'Approved, ready for delivery', 'Delivered', 'Note added']);

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL REFERENCES notification_kinds (code),
    subject    jsonb NOT NULL DEFAULT '{}'
               CONSTRAINT notifications_subject_object CHECK (jsonb_typeof(subject) = 'object'),
    body       text NOT NULL CONSTRAINT notifications_body_not_blank CHECK (btrim(body) <> ''),
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at) WHERE read_at IS NULL;

CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url        text NOT NULL CONSTRAINT webhooks_url_format CHECK (url ~ '^https?://[^\s/]+'),
    secret     text NOT NULL CONSTRAINT webhooks_secret_long_enough CHECK (length(secret) >= 16),
    events     text[] NOT NULL
               CONSTRAINT webhooks_events_not_empty CHECK (cardinality(events) > 0),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Array elements cannot carry a foreign key; this trigger gives them the same refusal.
CREATE FUNCTION refuse_unknown_webhook_event() RETURNS trigger
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
CREATE TRIGGER webhooks_events_known BEFORE INSERT OR UPDATE OF events ON webhooks
    FOR EACH ROW EXECUTE FUNCTION refuse_unknown_webhook_event();

CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event       text NOT NULL REFERENCES notification_kinds (code),
    payload     jsonb NOT NULL,
    attempt     integer NOT NULL CONSTRAINT webhook_deliveries_attempt_positive CHECK (attempt > 0),
    status_code integer
                CONSTRAINT webhook_deliveries_status_code_range CHECK (status_code BETWEEN 100 AND 599),
    error       text,
    delivered   boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- an attempt either got an HTTP answer or failed to connect: it records which
    CONSTRAINT webhook_deliveries_outcome_recorded
        CHECK (status_code IS NOT NULL OR error IS NOT NULL),
    CONSTRAINT webhook_deliveries_delivered_means_2xx
        CHECK (NOT delivered OR status_code BETWEEN 200 AND 299)
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at);

COMMENT ON CONSTRAINT webhooks_url_format ON webhooks IS 'must be an http:// or https:// URL';
COMMENT ON CONSTRAINT webhooks_secret_long_enough ON webhooks IS
    'must be at least 16 characters (it signs every delivery)';
COMMENT ON CONSTRAINT webhooks_events_not_empty ON webhooks IS
    'must subscribe to at least one event';
COMMENT ON CONSTRAINT sessions_expiry_after_creation ON sessions IS
    'a session must expire after it is created';
COMMENT ON CONSTRAINT webhook_deliveries_outcome_recorded ON webhook_deliveries IS
    'an attempt records either the HTTP status or the connection error';
COMMENT ON CONSTRAINT webhook_deliveries_delivered_means_2xx ON webhook_deliveries IS
    'only a 2xx answer counts as delivered';

-- Sessions and webhooks are configuration people change (logins, revocations, endpoints):
-- audited. Notifications and webhook_deliveries are not: they are generated by the system
-- from events that are themselves audited (a review, a run), a notification's read_at flips
-- on every glance, and webhook_deliveries is already an append-only log of attempts;
-- auditing them would double the log without telling anyone who changed what.
SELECT track_table('sessions');
SELECT track_table('webhooks');
