"""Full-text search over characters and notes (PRD-20, text part)."""

import psycopg

from trulience.catalog.fetch import many
from trulience.catalog.records import SearchHit


def search(conn: psycopg.Connection, text: str, limit: int = 20) -> list[SearchHit]:
    """Characters and notes matching `text` (web-search syntax: words, "phrases", -not),
    best first. Each word also matches as a prefix, so 'astro' finds 'astronaut'."""
    words = [w for w in text.replace(":", " ").split() if w]
    if not words:
        return []
    return many(
        conn, SearchHit,
        """WITH q AS (
               SELECT websearch_to_tsquery('simple', %(text)s) AS simple_q,
                      to_tsquery('simple', %(prefix)s) AS prefix_q,
                      websearch_to_tsquery('english', %(text)s) AS english_q)
           SELECT 'character' AS kind, c.slug AS key, c.name AS title,
                  ts_headline('simple', c.name || ' ' || c.metadata::text, q.simple_q) AS snippet,
                  ts_rank(c.search, q.simple_q || q.prefix_q)::float AS rank
             FROM characters c, q
            WHERE c.search @@ q.simple_q OR c.search @@ q.prefix_q
           UNION ALL
           SELECT 'note', n.id::text, left(n.body, 80),
                  ts_headline('english', n.body, q.english_q),
                  ts_rank(n.search, q.english_q)::float
             FROM notes n, q
            WHERE n.search @@ q.english_q
           ORDER BY rank DESC, key
           LIMIT %(limit)s""",
        {"text": text, "prefix": " & ".join(_prefix_term(w) for w in words), "limit": limit},
    )


def _prefix_term(word: str) -> str:
    """A to_tsquery prefix term for one word, with tsquery operators quoted away."""
    cleaned = "".join(ch for ch in word.lower() if ch.isalnum() or ch in "-_")
    return f"'{cleaned}':*" if cleaned else "''"
