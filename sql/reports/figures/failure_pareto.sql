-- Failure Pareto (notebook chart): every QA gate check by gate, workflow and worker, with
-- how many it refused, most refusals first. The dashboards' failures_by_cause.sql counts
-- the same refusals but keeps only the cells that refused something; this keeps the gates
-- that refused nothing, so a clean run still shows what was checked.
SELECT gate, workflow, coalesce(worker, '(unknown)') AS worker,
       count(*) AS checks,
       count(*) FILTER (WHERE NOT passed) AS failures
  FROM qa_gates
 GROUP BY ALL
 ORDER BY failures DESC, gate, workflow, worker;
