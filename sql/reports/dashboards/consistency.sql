-- A character's identity across its takes (PRD-94): one row per take with identity
-- scores, outliers flagged. The rule (median and MAD over all the character's takes, the
-- cut at z -3.5, the calibrated band) is the catalog's view take_consistency
-- (sql/migrations/0029_take_consistency.sql), exported as the lake dataset `consistency`.
-- $project: a project slug, or NULL for every project.
-- $character: a character slug, or NULL for every character.
SELECT character, scene_type, project, take, revision, segments, median_identity,
       min_identity, threshold, z_score, outlier, reason
  FROM consistency
 WHERE (CAST($project AS VARCHAR) IS NULL OR project = $project)
   AND (CAST($character AS VARCHAR) IS NULL OR character = $character)
 ORDER BY character, scene_type, project, take;
