-- GPU seconds per approved minute over time (notebook chart): at the end of each day (UTC)
-- on which an attempt ran or a take was approved, every attempt's GPU seconds so far over
-- the minutes of the newest takes approved (or delivered) by then. The last day's value is
-- the studio's `gpu_s_per_approved_min` in `production_figures` (views.sql).
WITH spent AS (
    SELECT CAST(timezone('UTC', created_at) AS DATE) AS day, sum(compute_s) AS gpu_s
      FROM segments
     GROUP BY ALL
), approved AS (
    SELECT CAST(timezone('UTC', coalesce(reviewed_at, delivered_at, created_at)) AS DATE)
               AS day,
           sum(video_s) / 60 AS approved_min
      FROM take_stages
     WHERE stage IN ('approved', 'delivered')
     GROUP BY ALL
), days AS (
    SELECT day FROM spent UNION SELECT day FROM approved
), running AS (
    SELECT d.day,
           sum(coalesce(s.gpu_s, 0)) OVER (ORDER BY d.day) AS gpu_s,
           sum(coalesce(a.approved_min, 0)) OVER (ORDER BY d.day) AS approved_min
      FROM days d
      LEFT JOIN spent s USING (day)
      LEFT JOIN approved a USING (day)
)
SELECT day, gpu_s, approved_min, gpu_s / nullif(approved_min, 0) AS gpu_s_per_approved_min
  FROM running
 ORDER BY day;
