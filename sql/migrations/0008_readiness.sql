-- Readiness counts a primary image only when it passed QA: a primary chosen by hand that
-- later failed QA (stricter thresholds, a re-check) does not make a character ready.
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
       (SELECT count(*) FROM scenes sc
         WHERE sc.character_id = c.id
           AND (SELECT r.decision FROM reviews r WHERE r.scene_id = sc.id
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 1) = 'approved') AS scenes_approved,
       (SELECT count(*) FROM deliverables dl JOIN scenes sc ON sc.id = dl.scene_id
         WHERE sc.character_id = c.id AND dl.status = 'delivered') AS scenes_delivered
  FROM characters c;
