-- Per-user preferences (PRD-52): which keyboard shortcut preset a user works with across
-- the apps, and the keys they rebound on top of it. One row per user; a user without a
-- row works with the default preset. The key tables themselves live in code
-- (trulience.review.shortcuts), which validates every change before it is written: the
-- lookup below only names the presets so that a misspelt one is refused here too.

SELECT create_lookup('shortcut_presets',
    ARRAY['default', 'left_hand', 'numpad'],
    ARRAY['Default (, . a r f Space)', 'Left hand (WASD)', 'Number pad']);

CREATE TABLE user_preferences (
    user_id            bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    shortcut_preset    text NOT NULL DEFAULT 'default' REFERENCES shortcut_presets (code),
    -- action → key, only the actions the user rebound
    shortcut_overrides jsonb NOT NULL DEFAULT '{}'
                       CONSTRAINT user_preferences_shortcut_overrides_object
                       CHECK (jsonb_typeof(shortcut_overrides) = 'object'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

COMMENT ON CONSTRAINT user_preferences_shortcut_overrides_object ON user_preferences IS
    'shortcut overrides must be a JSON object of action → key';

-- Preferences are settings people change: audited, keyed by the user they belong to.
SELECT track_table('user_preferences', ARRAY['user_id']);
