-- Views every report, dashboard and notebook shares: each production figure is defined
-- once, here, and every reader selects it from `production_figures` (never restates it).
-- The base views (one per lake dataset: projects, characters, project_characters,
-- scene_types, workers, scenes, segments, qa_gates, reviews, batches, budgets,
-- dagster_runs, dagster_steps) are made by trulience.lake.reports from the files.

-- The newest take of each character x scene type in a project: what production counts.
-- (`latest` is decided in the catalog at export: a window over millions of takes here
-- costs ten times the rest of the production report.)
CREATE OR REPLACE VIEW latest_takes AS
SELECT * FROM scenes WHERE latest;

-- Where a newest take stands, in the words a producer uses. Every take is in exactly one
-- of six stages, so the stage counts add up to the takes: a take whose segments are all
-- made but not yet assembled ('generated') is still in flight, a flagged one still awaits
-- review, and a delivered take is counted as delivered, not also as approved.
CREATE OR REPLACE VIEW take_stages AS
SELECT *,
       CASE
           WHEN delivered_at IS NOT NULL THEN 'delivered'
           WHEN review_decision = 'approved' THEN 'approved'
           WHEN status IN ('pending', 'generating', 'paused', 'generated') THEN 'in flight'
           WHEN status IN ('failed', 'qa_failed', 'cancelled') THEN 'failed'
           WHEN review_decision = 'rejected' THEN 'rejected'
           ELSE 'awaiting review'
       END AS stage
  FROM latest_takes;

-- The production figures per project x scene type, per project, and for the whole lake
-- (`level`: 'scene type', 'project', 'studio'; the coarser rows have NULL scene_type, and
-- project too for the studio row). Their definitions:
--   takes            newest takes (one per character x scene type that has any)
--   in_flight ... failed   those takes by stage (take_stages): they sum to `takes`
--   takes_made       every take ever made, older ones included
--   generated_min    minutes of every assembled take, older takes included: what the studio
--                    has generated. A new take adds to it once assembled and never takes
--                    anything away (the take it replaces keeps its minutes).
--   approved_min     minutes of the newest takes approved or delivered (a delivered take
--                    was approved)
--   delivered_min    minutes of the newest takes delivered
--   segment_attempts, gpu_s   every segment attempt of every take (QA-refused attempts,
--                    retakes and older takes included): all the GPU time spent, the same
--                    seconds a project's budget counts as used
--   gpu_s_per_approved_min    gpu_s / approved_min at the row's own level (NULL before
--                    anything is approved): what each approved minute cost in all
CREATE OR REPLACE VIEW production_figures AS
WITH newest AS (
    SELECT project, scene_type,
           count(*) AS takes,
           count(*) FILTER (WHERE stage = 'in flight') AS in_flight,
           count(*) FILTER (WHERE stage = 'awaiting review') AS awaiting_review,
           count(*) FILTER (WHERE stage = 'approved') AS approved,
           count(*) FILTER (WHERE stage = 'delivered') AS delivered,
           count(*) FILTER (WHERE stage = 'rejected') AS rejected,
           count(*) FILTER (WHERE stage = 'failed') AS failed,
           coalesce(sum(video_s) FILTER (WHERE stage IN ('approved', 'delivered')), 0) / 60
               AS approved_min,
           coalesce(sum(video_s) FILTER (WHERE stage = 'delivered'), 0) / 60 AS delivered_min
      FROM take_stages
     GROUP BY ALL
), made AS (
    SELECT project, scene_type,
           count(*) AS takes_made,
           coalesce(sum(video_s) FILTER (WHERE status = 'assembled'), 0) / 60 AS generated_min
      FROM scenes
     GROUP BY ALL
), spent AS (
    SELECT project, scene_type,
           count(*) AS segment_attempts,
           coalesce(sum(compute_s), 0) AS gpu_s
      FROM segments
     GROUP BY ALL
), cells AS (  -- every cell with a take or an attempt, from the aggregates: no third scan
    SELECT project, scene_type FROM made
     UNION
    SELECT project, scene_type FROM spent
), per_cell AS (
    SELECT c.project, c.scene_type,
           coalesce(n.takes, 0) AS takes,
           coalesce(n.in_flight, 0) AS in_flight,
           coalesce(n.awaiting_review, 0) AS awaiting_review,
           coalesce(n.approved, 0) AS approved,
           coalesce(n.delivered, 0) AS delivered,
           coalesce(n.rejected, 0) AS rejected,
           coalesce(n.failed, 0) AS failed,
           coalesce(m.takes_made, 0) AS takes_made,
           coalesce(m.generated_min, 0) AS generated_min,
           coalesce(n.approved_min, 0) AS approved_min,
           coalesce(n.delivered_min, 0) AS delivered_min,
           coalesce(s.segment_attempts, 0) AS segment_attempts,
           coalesce(s.gpu_s, 0) AS gpu_s
      FROM cells c
      LEFT JOIN newest n USING (project, scene_type)
      LEFT JOIN made m USING (project, scene_type)
      LEFT JOIN spent s USING (project, scene_type)
)
SELECT CASE grouping(project, scene_type)
           WHEN 0 THEN 'scene type' WHEN 1 THEN 'project' ELSE 'studio' END AS level,
       project, scene_type,
       coalesce(sum(takes), 0)::BIGINT AS takes,
       coalesce(sum(in_flight), 0)::BIGINT AS in_flight,
       coalesce(sum(awaiting_review), 0)::BIGINT AS awaiting_review,
       coalesce(sum(approved), 0)::BIGINT AS approved,
       coalesce(sum(delivered), 0)::BIGINT AS delivered,
       coalesce(sum(rejected), 0)::BIGINT AS rejected,
       coalesce(sum(failed), 0)::BIGINT AS failed,
       coalesce(sum(takes_made), 0)::BIGINT AS takes_made,
       coalesce(sum(generated_min), 0) AS generated_min,
       coalesce(sum(approved_min), 0) AS approved_min,
       coalesce(sum(delivered_min), 0) AS delivered_min,
       coalesce(sum(segment_attempts), 0)::BIGINT AS segment_attempts,
       coalesce(sum(gpu_s), 0) AS gpu_s,
       sum(gpu_s) / nullif(sum(approved_min), 0) AS gpu_s_per_approved_min
  FROM per_cell
 GROUP BY GROUPING SETS ((project, scene_type), (project), ());
