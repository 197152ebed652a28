-- Generation performance by day (PRD-41 trends): per worker and workflow, segment attempts,
-- median GPU seconds per attempt and GPU seconds per second of video, day by day (UTC).
-- $project: a project slug, or NULL for every project.
SELECT CAST(timezone('UTC', coalesce(started_at, created_at)) AS DATE) AS day,
       coalesce(worker, '(unknown)') AS worker,
       workflow,
       count(*) AS segments,
       count(*) FILTER (WHERE qa_passed) AS passed,
       quantile_cont(compute_s, 0.5) AS p50_gpu_s,
       sum(compute_s) AS gpu_s,
       sum(compute_s) / nullif(sum(video_s), 0) AS gpu_s_per_video_s
  FROM segments
 WHERE CAST($project AS VARCHAR) IS NULL OR project = $project
 GROUP BY ALL
 ORDER BY day, worker, workflow;
