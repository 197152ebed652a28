-- Views every report and notebook shares. The base views (one per lake dataset: projects,
-- characters, project_characters, scene_types, workers, scenes, segments, qa_gates,
-- reviews, dagster_runs, dagster_steps) are made by trulience.lake.reports from the files.

-- The newest take of each character x scene type in a project: what production counts.
-- (`latest` is decided in the catalog at export: a window over millions of takes here
-- costs ten times the rest of the production report.)
CREATE OR REPLACE VIEW latest_takes AS
SELECT * FROM scenes WHERE latest;

-- Where a take stands, in the words a producer uses.
CREATE OR REPLACE VIEW take_stages AS
SELECT *,
       CASE
           WHEN delivered_at IS NOT NULL THEN 'delivered'
           WHEN review_decision = 'approved' THEN 'approved'
           WHEN status IN ('pending', 'generating', 'paused') THEN 'in flight'
           WHEN status IN ('failed', 'qa_failed', 'cancelled') THEN 'failed'
           WHEN review_decision = 'rejected' THEN 'rejected'
           WHEN status = 'assembled' THEN 'awaiting review'
           ELSE 'generated'
       END AS stage
  FROM latest_takes;
