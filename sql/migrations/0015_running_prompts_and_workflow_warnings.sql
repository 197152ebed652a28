-- ComfyUI in real use (issue 12, section 4).

-- The prompt a take's segment is running on a ComfyUI worker right now, recorded when it is
-- queued and cleared when the segment ends. An operator's interrupt targets this prompt by
-- id (a global interrupt stops whatever the worker runs, and is lost during the last node),
-- and the loop, seeing the take cancelled, treats the interrupt as the operator's.
ALTER TABLE scenes
    ADD COLUMN prompt_id           text
               CONSTRAINT scenes_prompt_id_not_blank CHECK (btrim(prompt_id) <> ''),
    ADD COLUMN prompt_worker       text,
    ADD COLUMN prompt_segment      integer
               CONSTRAINT scenes_prompt_segment_not_negative CHECK (prompt_segment >= 0),
    ADD COLUMN prompt_submitted_at timestamptz,
    ADD CONSTRAINT scenes_prompt_complete CHECK (
        (prompt_id IS NULL) = (prompt_worker IS NULL)
        AND (prompt_id IS NULL) = (prompt_segment IS NULL)
        AND (prompt_id IS NULL) = (prompt_submitted_at IS NULL));
CREATE INDEX scenes_prompt_worker_idx ON scenes (prompt_worker) WHERE prompt_id IS NOT NULL;

-- What registration warned about a workflow version (no seed slot, a fixed size that
-- disagrees with a scene type): kept with the version, shown again when it is used.
ALTER TABLE workflows
    ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'
               CONSTRAINT workflows_warnings_array CHECK (jsonb_typeof(warnings) = 'array');

-- The running prompt moves twice per segment (recorded, cleared): operational state like a
-- heartbeat, not a decision. An update that changes only these writes no audit row; the
-- operator's interrupt itself is recorded through the take's control (0012's policy table).
INSERT INTO audit_policy (table_name, column_name, treatment, reason) VALUES
    ('scenes', 'prompt_id', 'stamp', 'the prompt a segment runs as, moves twice per segment'),
    ('scenes', 'prompt_worker', 'stamp', 'the worker of the running prompt'),
    ('scenes', 'prompt_segment', 'stamp', 'the segment of the running prompt'),
    ('scenes', 'prompt_submitted_at', 'stamp', 'when the running prompt was queued');
