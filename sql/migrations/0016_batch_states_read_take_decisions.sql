-- A batch item's state reads the same decision as the review queue (issue 12): the one in
-- force on the take's newest revision (take_decisions, 0014), not the latest review of any
-- revision. An approval of revision 1 no longer shows a reassembled revision 2 as approved.
-- The rest of the view is 0011's, restated because a view is replaced whole.
CREATE OR REPLACE VIEW batch_item_states AS
SELECT i.id AS item_id,
       i.batch_id,
       i.project_id,
       i.character_id,
       i.scene_type_id,
       t.scene_id,
       s.take,
       s.status AS scene_status,
       s.failure AS scene_failure,
       r.decision,
       d.status AS deliverable_status,
       coalesce(g.gpu_seconds, 0) AS gpu_seconds,
       CASE
           WHEN t.scene_id IS NULL THEN
               CASE b.status WHEN 'queued' THEN 'queued' WHEN 'cancelled' THEN 'cancelled'
                             WHEN 'failed' THEN 'failed' ELSE 'pending' END
           WHEN d.status IN ('packaged', 'delivered') THEN 'delivered'
           WHEN d.status = 'failed' THEN 'failed'
           WHEN s.status IN ('failed', 'qa_failed', 'cancelled') THEN 'failed'
           WHEN s.status = 'generated' THEN 'generated'
           WHEN s.status = 'assembled' AND r.decision = 'approved' THEN 'approved'
           WHEN s.status = 'assembled' AND (r.decision IS NOT NULL OR EXISTS (
                    SELECT 1 FROM notes n WHERE n.scene_id = s.id)) THEN 'in_review'
           WHEN s.status = 'assembled' THEN 'assembled'
           ELSE 'generating'
       END AS state
  FROM batch_items i
  JOIN batches b ON b.id = i.batch_id
  CROSS JOIN LATERAL (
        SELECT coalesce(i.scene_id, (
               SELECT sc.id FROM scenes sc
                WHERE sc.project_id = i.project_id AND sc.character_id = i.character_id
                  AND sc.scene_type_id = i.scene_type_id AND sc.take > i.after_take
                ORDER BY sc.take LIMIT 1)) AS scene_id) AS t
  LEFT JOIN scenes s ON s.id = t.scene_id
  -- the decision in force on the take's newest revision, as the review queue reads it
  LEFT JOIN take_decisions r ON r.scene_id = t.scene_id
  LEFT JOIN LATERAL (
        SELECT dl.status FROM deliverables dl WHERE dl.scene_id = t.scene_id
         ORDER BY dl.id DESC LIMIT 1) AS d ON true
  LEFT JOIN LATERAL (
        SELECT sum((sg.provenance ->> 'compute_s')::numeric) AS gpu_seconds
          FROM segments sg
         WHERE sg.scene_id = t.scene_id
           AND jsonb_typeof(sg.provenance -> 'compute_s') = 'number') AS g ON true;
