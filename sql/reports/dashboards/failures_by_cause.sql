-- Failure patterns (PRD-64): the QA gates that refused segment attempts, counted by gate,
-- workflow and worker, with the share of that gate's checks they refused there.
-- $project: a project slug, or NULL for every project.
SELECT gate AS cause,
       workflow,
       coalesce(worker, '(unknown)') AS worker,
       count(*) FILTER (WHERE NOT passed) AS failures,
       count(*) AS checks,
       count(*) FILTER (WHERE NOT passed) / count(*) AS failure_rate,
       count(DISTINCT scene_id) FILTER (WHERE NOT passed) AS takes
  FROM qa_gates
 WHERE CAST($project AS VARCHAR) IS NULL OR project = $project
 GROUP BY ALL
HAVING count(*) FILTER (WHERE NOT passed) > 0
 ORDER BY failures DESC, cause, workflow, worker;
