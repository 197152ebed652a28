"""Possible duplicate characters (PRD-79) as onboarding flags them: one row per pair and
model, whichever of the two was flagged first. Reading and resolving them is
trulience.catalog.readiness's."""

from collections.abc import Iterable

import psycopg

from trulience.catalog.errors import writing


def flag_duplicates(
    conn: psycopg.Connection, character_id: int, model: str, matches: Iterable[tuple[str, float]]
) -> None:
    """Record (or rescore) each (other character's slug, score) as a possible duplicate of
    `character_id`, in one transaction; a pair already flagged the other way round stays
    as it is."""
    with writing(conn):
        for other, score in matches:
            conn.execute(
                """INSERT INTO duplicate_candidates (character_id, other_character_id, model, score)
                   SELECT %(me)s, c.id, %(model)s, %(score)s FROM characters c
                    WHERE c.slug = %(other)s
                      AND NOT EXISTS (  -- already flagged the other way round
                          SELECT 1 FROM duplicate_candidates d
                           WHERE d.character_id = c.id AND d.other_character_id = %(me)s
                             AND d.model = %(model)s)
                   ON CONFLICT (character_id, other_character_id, model) DO UPDATE
                      SET score = EXCLUDED.score""",
                {"me": character_id, "model": model, "score": min(score, 1.0), "other": other},
            )
