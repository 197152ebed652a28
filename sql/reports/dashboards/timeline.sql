-- Render timeline (PRD-90): every segment attempt on its worker, from the moment the
-- backend started it to the moment it finished, with its QA verdict. Attempts without both
-- times (recorded before workers reported them) cannot be placed and are left out.
-- $project: a project slug, or NULL for every project.
-- $hours: only attempts that finished within this many hours of the newest one; NULL: all.
WITH placed AS (
    SELECT *
      FROM segments
     WHERE started_at IS NOT NULL AND finished_at IS NOT NULL
       AND (CAST($project AS VARCHAR) IS NULL OR project = $project)
)
SELECT coalesce(worker, '(unknown)') AS worker, project, character, scene_type, take, scene_id,
       index, attempt, workflow,
       status,
       CASE WHEN qa_passed THEN 'passed' WHEN NOT qa_passed THEN 'failed' ELSE 'no verdict' END
           AS qa,
       array_to_string(failed_gates, ', ') AS failed_gates,
       compute_s, started_at, finished_at, run_id
  FROM placed
 WHERE CAST($hours AS DOUBLE) IS NULL
    OR finished_at >= (SELECT max(finished_at) FROM placed)
                      - to_milliseconds(CAST($hours * 3600000 AS BIGINT))
 ORDER BY worker, started_at, scene_id, index, attempt;
