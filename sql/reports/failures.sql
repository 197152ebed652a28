-- Failure patterns (PRD-64): QA gates that refused segment attempts, by gate, scene type,
-- workflow and worker, with the share of attempts they refused; and failed runs by job.
WITH gate_attempts AS (
    SELECT gate, scene_type, workflow, worker,
           count(*) AS attempts,
           count(*) FILTER (WHERE NOT passed) AS failures
      FROM qa_gates
     GROUP BY ALL
), run_attempts AS (
    SELECT job, scene_type,
           count(*) AS attempts,
           count(*) FILTER (WHERE status = 'FAILURE') AS failures
      FROM dagster_runs
     WHERE status IN ('SUCCESS', 'FAILURE')
     GROUP BY ALL
)
SELECT 'qa gate' AS kind, gate AS cause, scene_type, workflow, worker, failures, attempts,
       round(failures / attempts, 4) AS failure_rate
  FROM gate_attempts
 WHERE failures > 0
UNION ALL
SELECT 'run', job, scene_type, NULL, NULL, failures, attempts,
       round(failures / attempts, 4)
  FROM run_attempts
 WHERE failures > 0
 ORDER BY failures DESC, kind, cause, scene_type, workflow, worker;
