-- Production per project and scene type (PRD-73, PRD-42), with each project's total and the
-- whole studio's (`level`): the newest take of every character x scene type by stage
-- (the stages sum to `takes`), every take made, minutes generated / approved / delivered,
-- and the GPU seconds every attempt cost per approved minute. Every figure is the one
-- `production_figures` (views.sql) defines, so the dashboards and notebooks agree.
SELECT level, project, scene_type, takes, in_flight, awaiting_review, approved, delivered,
       rejected, failed, takes_made,
       round(generated_min, 3) AS generated_min,
       round(approved_min, 3) AS approved_min,
       round(delivered_min, 3) AS delivered_min,
       segment_attempts,
       round(gpu_s, 3) AS gpu_s,
       round(gpu_s_per_approved_min, 3) AS gpu_s_per_approved_min
  FROM production_figures
 ORDER BY project NULLS LAST, scene_type NULLS LAST;
