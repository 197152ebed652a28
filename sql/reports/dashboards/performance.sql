-- Generation performance (PRD-41) per workflow and per worker: segment attempts, how many
-- passed QA, p50 / p95 GPU seconds per attempt, and GPU seconds per second of video made.
-- $project: a project slug, or NULL for every project.
WITH attempts AS (
    SELECT workflow, coalesce(worker, '(unknown)') AS worker, qa_passed, compute_s, video_s
      FROM segments
     WHERE CAST($project AS VARCHAR) IS NULL OR project = $project
), by_workflow AS (
    SELECT 'workflow' AS dimension, workflow AS name,
           count(*) AS segments,
           count(*) FILTER (WHERE qa_passed) AS passed,
           quantile_cont(compute_s, 0.5) AS p50_gpu_s,
           quantile_cont(compute_s, 0.95) AS p95_gpu_s,
           sum(compute_s) AS gpu_s,
           sum(video_s) AS video_s,
           sum(compute_s) / nullif(sum(video_s), 0) AS gpu_s_per_video_s
      FROM attempts
     GROUP BY workflow
), by_worker AS (
    SELECT 'worker' AS dimension, worker AS name,
           count(*) AS segments,
           count(*) FILTER (WHERE qa_passed) AS passed,
           quantile_cont(compute_s, 0.5) AS p50_gpu_s,
           quantile_cont(compute_s, 0.95) AS p95_gpu_s,
           sum(compute_s) AS gpu_s,
           sum(video_s) AS video_s,
           sum(compute_s) / nullif(sum(video_s), 0) AS gpu_s_per_video_s
      FROM attempts
     GROUP BY worker
)
SELECT * FROM by_workflow
UNION ALL
SELECT * FROM by_worker
 ORDER BY dimension DESC, name;
