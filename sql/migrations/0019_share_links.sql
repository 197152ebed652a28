-- Share links (PRD-84): an outside reviewer watches one take (and, when allowed, comments)
-- without an account, through a signed link that expires and can be revoked. Only the
-- sha256 of the link's token is stored (as for sessions, 0009): a leaked table or audit
-- log does not open any link. trulience/review/share.py holds the policy.
CREATE TABLE share_links (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256   text NOT NULL CONSTRAINT share_links_token_sha256_unique UNIQUE
                   CONSTRAINT share_links_token_sha256_format CHECK (is_sha256(token_sha256)),
    scene_id       bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    -- the take's revision that was shared: the outside reviewer's notes are about it
    revision       integer NOT NULL CONSTRAINT share_links_revision_positive CHECK (revision > 0),
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    -- scrypt, as users.password_hash (trulience/auth/passwords.py); NULL: no password
    password_hash  text CONSTRAINT share_links_password_hash_format
                   CHECK (password_hash ~ '^scrypt\$'),
    allow_comments boolean NOT NULL DEFAULT false,
    label          text NOT NULL DEFAULT ''
                   CONSTRAINT share_links_label_short CHECK (length(label) <= 200),
    CONSTRAINT share_links_expiry_after_creation CHECK (expires_at > created_at),
    CONSTRAINT share_links_revoked_after_creation CHECK (revoked_at >= created_at)
);
COMMENT ON CONSTRAINT share_links_token_sha256_format ON share_links IS
    'must be the sha256 hex of the link token, never the token';
COMMENT ON CONSTRAINT share_links_revision_positive ON share_links IS
    'a take''s revisions are numbered from 1';
COMMENT ON CONSTRAINT share_links_password_hash_format ON share_links IS
    'must be an encoded scrypt hash, never a password';
COMMENT ON CONSTRAINT share_links_label_short ON share_links IS
    'a label is at most 200 characters';
COMMENT ON CONSTRAINT share_links_expiry_after_creation ON share_links IS
    'a link expires after it was created';
COMMENT ON CONSTRAINT share_links_revoked_after_creation ON share_links IS
    'a link is revoked after it was created';
CREATE INDEX share_links_scene_idx ON share_links (scene_id, created_at);

-- Links are made and revoked by people: audited (the password hash redacted by the '*'
-- rule of 0012).
SELECT track_table('share_links');

SELECT create_lookup('share_use_outcomes',
    ARRAY['viewed', 'commented', 'refused'],
    ARRAY['Viewed', 'Commented', 'Refused']);

-- Every use of a link, refused ones too (an unknown token has no link: link_id NULL); only
-- ever appended to.
CREATE TABLE share_link_uses (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    link_id bigint REFERENCES share_links (id) ON DELETE CASCADE,
    at      timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL REFERENCES share_use_outcomes (code),
    reason  text NOT NULL DEFAULT ''
            CONSTRAINT share_link_uses_reason_short CHECK (length(reason) <= 500),
    remote  text NOT NULL DEFAULT ''
            CONSTRAINT share_link_uses_remote_short CHECK (length(remote) <= 200),
    CONSTRAINT share_link_uses_refusal_has_reason
        CHECK (outcome <> 'refused' OR btrim(reason) <> '')
);
COMMENT ON CONSTRAINT share_link_uses_reason_short ON share_link_uses IS
    'a reason is at most 500 characters';
COMMENT ON CONSTRAINT share_link_uses_remote_short ON share_link_uses IS
    'a remote address is at most 200 characters';
COMMENT ON CONSTRAINT share_link_uses_refusal_has_reason ON share_link_uses IS
    'a refused use says why';
CREATE INDEX share_link_uses_link_idx ON share_link_uses (link_id, at);

-- Tracked like every table, so that a use row deleted or changed by hand leaves a trace.
SELECT track_table('share_link_uses');
