"""Full-text search over characters and notes (PRD-20, text part)."""

import re

import psycopg

from trulience.catalog.fetch import many
from trulience.catalog.records import SearchHit

_OPERATORS = re.compile(r'"|(^|\s)-\S|\sor\s', re.IGNORECASE)


def search(conn: psycopg.Connection, text: str, limit: int = 20) -> list[SearchHit]:
    """Characters and notes matching `text`, best first.

    Plain words match as prefixes ('astro' finds 'astronaut'), as a search box should
    while typing; with web-search syntax ("a phrase", -word, or) the words match exactly.
    """
    terms = [f"{word}:*" for word in re.findall(r"[^\W_]+", text.lower())]
    if not terms:
        return []
    if _OPERATORS.search(text):
        character_q = "websearch_to_tsquery('simple', %(text)s)"
    else:
        character_q = "to_tsquery('simple', %(prefix)s)"
    return many(
        conn,
        SearchHit,
        f"""WITH q AS (SELECT {character_q} AS character_q,
                              websearch_to_tsquery('english', %(text)s) AS note_q)
            SELECT 'character' AS kind, c.slug AS key, c.name AS title,
                   ts_headline('simple', c.name || ' ' || c.metadata::text, q.character_q)
                       AS snippet,
                   ts_rank(c.search, q.character_q)::float AS rank
              FROM characters c, q
             WHERE c.search @@ q.character_q
            UNION ALL
            SELECT 'note', n.id::text, left(n.body, 80),
                   ts_headline('english', n.body, q.note_q),
                   ts_rank(n.search, q.note_q)::float
              FROM notes n, q
             WHERE n.search @@ q.note_q
            ORDER BY rank DESC, key
            LIMIT %(limit)s""",
        {"text": text, "prefix": " & ".join(terms), "limit": limit},
    )
