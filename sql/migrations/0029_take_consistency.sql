-- The consistency of a character's identity across all its takes (issue 15: PRD-94). One
-- row per take with identity scores: the median and the lowest similarity of its committed
-- (current) segments to the character, as video QA measured them against the character's
-- calibrated identity band, and whether the take is an outlier of the character.
--
-- A take's `median_identity` is the median of its current segments' medians (QA's metric
-- `identity_median`, else the identity gate's value, which is that median); `min_identity`
-- the lowest of their sampled frames (`identity_min`, else the median). `threshold` is the
-- band threshold the gates held the take to (the character's calibrated band).
--
-- A take is an outlier when
--   * its median is below the character's band threshold ('below band'), or
--   * its robust z-score is -3.5 or lower ('low against the character'): z = 0.6745 x
--     (median_identity - the character's median) / MAD, over every measured take of the
--     character (all projects, all scene types); MAD is the median absolute deviation,
--     floored at 0.01 similarity so takes that agree to the hundredth are not flagged for a
--     thousandth. The cut of 3.5 is Iglewicz and Hoaglin's for the modified z-score. Only
--     the low side is flagged: a face nearer the character is no defect. z is NULL while a
--     character has fewer than 3 measured takes (too few to have a distribution).
CREATE VIEW take_consistency AS
WITH measured AS (
    SELECT g.scene_id,
           coalesce((g.qa #>> '{metrics,identity_median}')::float8, gate.value) AS median,
           coalesce((g.qa #>> '{metrics,identity_min}')::float8,
                    (g.qa #>> '{metrics,identity_median}')::float8, gate.value) AS lowest,
           gate.threshold
      FROM segments g
      LEFT JOIN LATERAL (
           SELECT CASE WHEN jsonb_typeof(x -> 'value') = 'number'
                       THEN (x ->> 'value')::float8 END AS value,
                  CASE WHEN jsonb_typeof(x -> 'threshold') = 'number'
                       THEN (x ->> 'threshold')::float8 END AS threshold
             FROM jsonb_array_elements(coalesce(g.qa -> 'gates', '[]')) x
            WHERE x ->> 'name' = 'identity' LIMIT 1) gate ON true
     WHERE g.current
), takes AS (
    SELECT s.id AS scene_id, s.project_id, s.character_id, s.scene_type_id, s.take,
           count(*) AS segments,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY m.median) AS median_identity,
           min(m.lowest) AS min_identity,
           max(m.threshold) AS threshold
      FROM measured m JOIN scenes s ON s.id = m.scene_id
     WHERE m.median IS NOT NULL
     GROUP BY s.id
), centre AS (
    SELECT character_id, count(*) AS takes,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY median_identity) AS character_median
      FROM takes GROUP BY character_id
), spread AS (
    SELECT t.character_id,
           greatest(percentile_cont(0.5) WITHIN GROUP (
                        ORDER BY abs(t.median_identity - c.character_median)), 0.01) AS mad
      FROM takes t JOIN centre c USING (character_id)
     GROUP BY t.character_id
), scored AS (
    SELECT t.*, c.takes AS character_takes, c.character_median, d.mad,
           CASE WHEN c.takes >= 3
                THEN 0.6745 * (t.median_identity - c.character_median) / d.mad END AS z_score
      FROM takes t JOIN centre c USING (character_id) JOIN spread d USING (character_id)
)
SELECT s.scene_id, s.project_id, s.character_id, s.scene_type_id, s.take,
       (SELECT max(r.revision) FROM scene_revisions r WHERE r.scene_id = s.scene_id)
           AS revision,
       s.segments, s.median_identity, s.min_identity, s.threshold,
       s.character_takes, s.character_median, s.mad, s.z_score,
       coalesce(s.median_identity < s.threshold, false) OR coalesce(s.z_score <= -3.5, false)
           AS outlier,
       nullif(concat_ws('; ',
           CASE WHEN s.median_identity < s.threshold
                THEN format('below band: median %s under the character''s threshold %s',
                            round(s.median_identity::numeric, 3),
                            round(s.threshold::numeric, 3)) END,
           CASE WHEN s.z_score <= -3.5
                THEN format('low against the character: z %s (median %s, the character''s %s)',
                            round(s.z_score::numeric, 1), round(s.median_identity::numeric, 3),
                            round(s.character_median::numeric, 3)) END), '') AS reason
  FROM scored s;
