-- The Studio's layout and filters per user (issue 17, PRD-04/30/32/89): the page open,
-- each page's filters, the dashboards' widgets and their order, and whether each "More"
-- disclosure is open, kept as one JSON object of key → value beside the user's other
-- preferences and restored at the next login. The keys are named in code (apps/prefs.py);
-- the catalog only insists the whole is an object.
ALTER TABLE user_preferences
    ADD COLUMN studio_layout jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT user_preferences_studio_layout_object
        CHECK (jsonb_typeof(studio_layout) = 'object');
COMMENT ON CONSTRAINT user_preferences_studio_layout_object ON user_preferences IS
    'the Studio''s saved layout must be a JSON object of key → value';
