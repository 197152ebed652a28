-- Full-text search over characters and notes (PRD-20, text part). The vectors are
-- generated columns, so they can never disagree with the rows they index.

-- Character names and slugs weigh most; every string value in the metadata counts too.
ALTER TABLE characters ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', slug || ' ' || replace(slug, '-', ' ') || ' ' || name), 'A')
    || setweight(jsonb_to_tsvector('simple', metadata, '["string"]'), 'B')
) STORED;
CREATE INDEX characters_search_idx ON characters USING gin (search);

ALTER TABLE notes ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('english', body)
) STORED;
CREATE INDEX notes_search_idx ON notes USING gin (search);
