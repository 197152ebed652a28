-- Studio pulse (PRD-42): where each project stands at a glance. Characters cast and ready;
-- the newest take of every character x scene type by stage; minutes generated (assembled)
-- and approved; and the GPU seconds every attempt cost, retakes included.
-- $project: a project slug, or NULL for every project.
WITH cast_members AS (
    SELECT project,
           count(*) AS characters,
           count(*) FILTER (WHERE ready) AS characters_ready
      FROM project_characters
     GROUP BY project
), takes AS (
    SELECT project,
           count(*) AS takes,
           count(*) FILTER (WHERE stage = 'in flight') AS in_flight,
           count(*) FILTER (WHERE stage = 'awaiting review') AS awaiting_review,
           count(*) FILTER (WHERE stage IN ('approved', 'delivered')) AS approved,
           count(*) FILTER (WHERE stage = 'delivered') AS delivered,
           count(*) FILTER (WHERE stage = 'rejected') AS rejected,
           count(*) FILTER (WHERE stage = 'failed') AS failed,
           sum(video_s) FILTER (WHERE status = 'assembled') / 60 AS generated_min,
           sum(video_s) FILTER (WHERE stage IN ('approved', 'delivered')) / 60 AS approved_min
      FROM take_stages
     GROUP BY project
), gpu AS (
    SELECT project, count(*) AS segment_attempts, sum(compute_s) AS gpu_s
      FROM segments
     GROUP BY project
)
SELECT p.project,
       p.name,
       coalesce(c.characters, 0) AS characters,
       coalesce(c.characters_ready, 0) AS characters_ready,
       coalesce(t.takes, 0) AS takes,
       coalesce(t.in_flight, 0) AS in_flight,
       coalesce(t.awaiting_review, 0) AS awaiting_review,
       coalesce(t.approved, 0) AS approved,
       coalesce(t.delivered, 0) AS delivered,
       coalesce(t.rejected, 0) AS rejected,
       coalesce(t.failed, 0) AS failed,
       coalesce(t.generated_min, 0) AS generated_min,
       coalesce(t.approved_min, 0) AS approved_min,
       coalesce(g.segment_attempts, 0) AS segment_attempts,
       coalesce(g.gpu_s, 0) AS gpu_s,
       g.gpu_s / nullif(t.approved_min, 0) AS gpu_s_per_approved_min
  FROM projects p
  LEFT JOIN cast_members c USING (project)
  LEFT JOIN takes t USING (project)
  LEFT JOIN gpu g USING (project)
 WHERE CAST($project AS VARCHAR) IS NULL OR p.project = $project
 ORDER BY p.project;
