-- One rule for "ready" (issue 12): the Python record and the lake export both read this
-- view's `ready` column instead of each writing the rule out; and a take counts as approved
-- by the decision in force on its newest revision (take_decisions, 0014), as the review
-- queue reads it. The rest is 0008's view, restated because a view is replaced whole
-- (a new column may only be added at the end).
CREATE OR REPLACE VIEW character_readiness AS
SELECT c.id AS character_id,
       c.slug,
       c.name,
       (SELECT count(*) FROM source_images s WHERE s.character_id = c.id) AS images,
       (SELECT count(*) FROM source_images s
         WHERE s.character_id = c.id AND s.qa_status = 'passed') AS images_passed,
       (SELECT count(*) FROM source_images s
         WHERE s.character_id = c.id AND s.qa_status = 'failed') AS images_failed,
       EXISTS (SELECT 1 FROM source_images s
                WHERE s.character_id = c.id AND s.is_primary
                  AND s.qa_status = 'passed') AS has_primary,
       (SELECT coalesce(array_agg(i.model ORDER BY i.model), '{}')
          FROM character_identities i WHERE i.character_id = c.id) AS identity_models,
       (SELECT count(*) FROM image_variants v JOIN source_images s ON s.id = v.source_image_id
         WHERE s.character_id = c.id) AS variants,
       (SELECT count(*) FROM duplicate_candidates d
         WHERE (d.character_id = c.id OR d.other_character_id = c.id)
           AND d.resolution = 'open') AS open_duplicates,
       (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (
            SELECT sc.status, count(*) AS n FROM scenes sc
             WHERE sc.character_id = c.id GROUP BY sc.status) AS by_status) AS scenes_by_status,
       (SELECT count(*) FROM scenes sc JOIN take_decisions td ON td.scene_id = sc.id
         WHERE sc.character_id = c.id AND td.decision = 'approved') AS scenes_approved,
       (SELECT count(*) FROM deliverables dl JOIN scenes sc ON sc.id = dl.scene_id
         WHERE sc.character_id = c.id AND dl.status = 'delivered') AS scenes_delivered,
       -- ready for generation: a passing primary image, an identity, variants, and no
       -- unresolved duplicate question
       (EXISTS (SELECT 1 FROM source_images s
                 WHERE s.character_id = c.id AND s.is_primary AND s.qa_status = 'passed')
        AND EXISTS (SELECT 1 FROM character_identities i WHERE i.character_id = c.id)
        AND EXISTS (SELECT 1 FROM image_variants v JOIN source_images s ON s.id = v.source_image_id
                     WHERE s.character_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM duplicate_candidates d
                         WHERE (d.character_id = c.id OR d.other_character_id = c.id)
                           AND d.resolution = 'open')) AS ready
  FROM characters c;
