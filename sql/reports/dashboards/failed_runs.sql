-- Failed orchestrator runs (PRD-64): each run that ended in FAILURE, newest first. Runs
-- belong to a project through their character; with a project chosen, runs of no character
-- (the lake job, say) are left out.
-- $project: a project slug, or NULL for every project.
SELECT r.job, r.partition, r.character, r.scene_type, r.started_at, r.ended_at, r.duration_s,
       r.launched_by, r.run_id
  FROM dagster_runs r
 WHERE r.status = 'FAILURE'
   AND (CAST($project AS VARCHAR) IS NULL
        OR EXISTS (SELECT 1 FROM project_characters pc
                    WHERE pc.project = $project AND pc.character = r.character))
 ORDER BY coalesce(r.ended_at, r.started_at, r.created_at) DESC, r.run_id;
