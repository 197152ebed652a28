-- Production funnel (notebook chart): the newest takes of each project by stage, in the
-- order a take moves through them, as `production_figures` (views.sql) counts them. The
-- stages are exclusive, so a project's bars add up to its takes.
SELECT f.project, s.position, s.stage, s.takes
  FROM production_figures f,
       LATERAL (VALUES (1, 'in flight', f.in_flight),
                       (2, 'awaiting review', f.awaiting_review),
                       (3, 'approved', f.approved),
                       (4, 'delivered', f.delivered),
                       (5, 'rejected', f.rejected),
                       (6, 'failed', f.failed)) AS s(position, stage, takes)
 WHERE f.level = 'project'
 ORDER BY f.project, s.position;
