-- Drawn notes (PRD-70): what a reviewer drew on the frame a note is about, kept beside the
-- note as vector data (the player's Drawing JSON: coordinates as fractions of the frame,
-- so it fits any size the take is shown at) and as the flattened PNG of that frame with
-- the drawing over it (what a report or an email shows). A note has at most one drawing;
-- the note and its drawing are written in one transaction, the PNG stored before commit.
-- The shapes themselves are checked in code (trulience.review.drawings) before they are
-- written: here only what every reader relies on.
CREATE TABLE note_drawings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note_id    bigint NOT NULL REFERENCES notes (id) ON DELETE CASCADE
               CONSTRAINT note_drawings_one_per_note UNIQUE,
    frame      integer NOT NULL CONSTRAINT note_drawings_frame_not_negative CHECK (frame >= 0),
    vector     jsonb NOT NULL
               CONSTRAINT note_drawings_vector_version
               CHECK (jsonb_typeof(vector) = 'object' AND vector -> 'version' = '1'::jsonb),
    png_uri    text NOT NULL CONSTRAINT note_drawings_png_uri_not_blank CHECK (btrim(png_uri) <> ''),
    png_sha256 text NOT NULL CONSTRAINT note_drawings_png_sha256_format CHECK (is_sha256(png_sha256)),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT note_drawings_vector_shapes
        CHECK (jsonb_typeof(vector -> 'shapes') = 'array'
               AND jsonb_array_length(vector -> 'shapes') > 0),
    CONSTRAINT note_drawings_vector_frame CHECK (vector -> 'frame' = to_jsonb(frame))
);

COMMENT ON CONSTRAINT note_drawings_one_per_note ON note_drawings IS
    'a note has at most one drawing';
COMMENT ON CONSTRAINT note_drawings_frame_not_negative ON note_drawings IS
    'frames are numbered from 0';
COMMENT ON CONSTRAINT note_drawings_vector_version ON note_drawings IS
    'the drawing must be a Drawing JSON object of version 1';
COMMENT ON CONSTRAINT note_drawings_png_uri_not_blank ON note_drawings IS
    'a drawing keeps the URI of its flattened PNG';
COMMENT ON CONSTRAINT note_drawings_png_sha256_format ON note_drawings IS
    'the PNG''s sha256 must be 64 lowercase hex digits';
COMMENT ON CONSTRAINT note_drawings_vector_shapes ON note_drawings IS
    'a drawing has at least one shape';
COMMENT ON CONSTRAINT note_drawings_vector_frame ON note_drawings IS
    'the drawing is of the frame it is recorded at';

-- Drawings are what reviewers wrote, as notes are: audited.
SELECT track_table('note_drawings');
