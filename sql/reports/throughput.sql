-- Generation throughput per day, worker and workflow (PRD-41): attempts, what passed QA,
-- seconds of video made, GPU seconds spent, and how many GPU seconds one second of video
-- cost (the realtime factor); p50 / p95 GPU seconds per segment attempt.
SELECT CAST(created_at AS DATE) AS day,
       worker,
       workflow,
       count(*) AS attempts,
       count(*) FILTER (WHERE qa_passed) AS passed,
       count(*) FILTER (WHERE NOT qa_passed) AS failed_qa,
       round(sum(video_s), 3) AS video_s,
       round(sum(compute_s), 3) AS gpu_s,
       round(sum(compute_s) / nullif(sum(video_s), 0), 4) AS gpu_s_per_video_s,
       round(quantile_cont(compute_s, 0.5), 4) AS p50_segment_gpu_s,
       round(quantile_cont(compute_s, 0.95), 4) AS p95_segment_gpu_s
  FROM segments
 GROUP BY ALL
 ORDER BY day, worker, workflow;
