-- The Studio's theme per user (issue 17, PRD-29): light or dark, chosen with the toggle in
-- the Studio's header and restored at the next login. Stored beside the user's other
-- preferences (shortcuts, sensitive media); a user without a row works in the light theme.
ALTER TABLE user_preferences
    ADD COLUMN theme text NOT NULL DEFAULT 'light'
        CONSTRAINT user_preferences_theme_choice CHECK (theme IN ('light', 'dark'));
COMMENT ON CONSTRAINT user_preferences_theme_choice ON user_preferences IS
    'the Studio''s theme is either light or dark';
