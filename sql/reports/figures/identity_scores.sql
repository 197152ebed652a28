-- Identity score distribution per character (notebook chart): every measured identity
-- gate, one row per segment attempt, with the gate's threshold; an attempt under it is an
-- outlier the box plot shows on its own.
SELECT character, scene_type, scene_id, index, attempt, value AS similarity, threshold,
       passed
  FROM qa_gates
 WHERE gate = 'identity' AND value IS NOT NULL
 ORDER BY character, scene_type, scene_id, index, attempt;
