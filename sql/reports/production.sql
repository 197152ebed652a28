-- Production per project and scene type (PRD-73, PRD-42): the newest take of every
-- character x scene type by stage, minutes generated / approved / delivered, and the GPU
-- seconds every attempt cost (retakes included) per approved minute. `takes` counts every
-- take ever made, older ones included; the stages count each character's newest take.
WITH gpu AS (
    SELECT project, scene_type, sum(compute_s) AS gpu_s, count(*) AS attempts
      FROM segments
     GROUP BY ALL
), made AS (
    SELECT project, scene_type, count(*) AS takes FROM scenes GROUP BY ALL
), takes AS (
    SELECT project, scene_type,
           -- one newest take per character and scene type, so this counts characters
           count(*) AS characters,
           count(*) FILTER (WHERE stage = 'in flight') AS in_flight,
           count(*) FILTER (WHERE stage = 'awaiting review') AS awaiting_review,
           count(*) FILTER (WHERE stage IN ('approved', 'delivered')) AS approved,
           count(*) FILTER (WHERE stage = 'rejected') AS rejected,
           count(*) FILTER (WHERE stage = 'delivered') AS delivered,
           count(*) FILTER (WHERE stage = 'failed') AS failed,
           coalesce(sum(video_s) FILTER (WHERE status = 'assembled'), 0) / 60 AS generated_min,
           coalesce(sum(video_s) FILTER (WHERE stage IN ('approved', 'delivered')), 0) / 60
               AS approved_min,
           coalesce(sum(video_s) FILTER (WHERE stage = 'delivered'), 0) / 60 AS delivered_min
      FROM take_stages
     GROUP BY ALL
)
SELECT t.project, t.scene_type, t.characters, m.takes, t.in_flight, t.awaiting_review,
       t.approved, t.rejected, t.delivered, t.failed,
       round(t.generated_min, 3) AS generated_min,
       round(t.approved_min, 3) AS approved_min,
       round(t.delivered_min, 3) AS delivered_min,
       coalesce(g.attempts, 0) AS segment_attempts,
       round(coalesce(g.gpu_s, 0), 3) AS gpu_s,
       round(g.gpu_s / nullif(t.approved_min, 0), 3) AS gpu_s_per_approved_min
  FROM takes t
  JOIN made m USING (project, scene_type)
  LEFT JOIN gpu g USING (project, scene_type)
 ORDER BY t.project, t.scene_type;
