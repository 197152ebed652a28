-- Studio pulse (PRD-42): where each project stands at a glance. Characters cast and ready,
-- then the production figures exactly as `production_figures` (sql/reports/views.sql)
-- defines them: the newest takes by stage, minutes generated / approved, GPU seconds and
-- GPU seconds per approved minute. One row per project, and with no project chosen one
-- more row for the whole studio (project NULL), whose ratio is the studio's own.
-- $project: a project slug, or NULL for every project.
WITH cast_members AS (
    SELECT project,
           count(*) AS characters,
           count(*) FILTER (WHERE ready) AS characters_ready
      FROM project_characters
     GROUP BY GROUPING SETS ((project), ())
), shown AS (
    SELECT project, name FROM projects
     WHERE CAST($project AS VARCHAR) IS NULL OR project = $project
     UNION ALL
    SELECT NULL, 'all projects' WHERE CAST($project AS VARCHAR) IS NULL
)
SELECT r.project,
       r.name,
       coalesce(c.characters, 0) AS characters,
       coalesce(c.characters_ready, 0) AS characters_ready,
       coalesce(f.takes, 0) AS takes,
       coalesce(f.in_flight, 0) AS in_flight,
       coalesce(f.awaiting_review, 0) AS awaiting_review,
       coalesce(f.approved, 0) AS approved,
       coalesce(f.delivered, 0) AS delivered,
       coalesce(f.rejected, 0) AS rejected,
       coalesce(f.failed, 0) AS failed,
       coalesce(f.takes_made, 0) AS takes_made,
       coalesce(f.generated_min, 0) AS generated_min,
       coalesce(f.approved_min, 0) AS approved_min,
       coalesce(f.segment_attempts, 0) AS segment_attempts,
       coalesce(f.gpu_s, 0) AS gpu_s,
       f.gpu_s_per_approved_min
  FROM shown r
  LEFT JOIN cast_members c ON c.project IS NOT DISTINCT FROM r.project
  LEFT JOIN production_figures f
    ON f.project IS NOT DISTINCT FROM r.project
   AND f.level = CASE WHEN r.project IS NULL THEN 'studio' ELSE 'project' END
 ORDER BY r.project NULLS LAST;
