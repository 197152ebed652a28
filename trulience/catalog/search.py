"""Full-text search over characters and notes (PRD-20, text part), and the Studio command
palette's search over what it may open (PRD-31)."""

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class PaletteHit:
    """One thing the Studio's command palette may open: its kind (character, take, scene
    type, workflow, project), key (a slug, a take's id, a workflow's name), what it is
    called, a line about it, and how well it matched (higher first)."""

    kind: str
    key: str
    title: str
    detail: str
    rank: float


# What the palette's search reads of a query: this many words of up to this many characters.
PALETTE_WORDS, PALETTE_WORD_CHARS = 6, 40


def palette_words(text: str) -> list[str]:
    """The words of a palette query, lowercased and bounded (punctuation, '%', '_' dropped)."""
    words = re.findall(r"[^\W_]+", text.lower())[:PALETTE_WORDS]
    return [word[:PALETTE_WORD_CHARS] for word in words]


# Every word a prefix (ALL), or any of them (ANY): constants, so the characters' index is used.
ALL, ANY = "to_tsquery('simple', %(all)s)", "to_tsquery('simple', %(any)s)"


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def palette_search(conn: psycopg.Connection, text: str, limit: int = 8) -> list[PaletteHit]:
    """Characters (slug, name, metadata, tags), takes (character, scene type, take n: two
    words or more), scene types, workflows and projects matching every word of `text` as a
    prefix, at most `limit` of each kind, in ONE query; best of each kind first."""
    words = palette_words(text)
    if not words:
        return []
    phrase = " ".join(words)

    def vector(*columns: str) -> str:
        parts = " || ' ' || ".join(f"coalesce({c}::text, '')" for c in columns)
        return f"to_tsvector('simple', {parts})"

    def boost(*columns: str) -> str:
        exact = " OR ".join(f"lower({c}) = %(phrase)s" for c in columns)
        starts = " OR ".join(f"lower({c}) LIKE %(starts)s" for c in columns)
        return f"CASE WHEN {exact} THEN 2 WHEN {starts} THEN 1 ELSE 0 END"

    takes = (
        f"""UNION ALL (
            SELECT 'take', s.id::text,
                   c.name || ' · ' || t.name || ' · take ' || s.take,
                   p.slug || ' · ' || s.status || CASE WHEN s.branch <> 'main'
                       THEN ' · branch ' || s.branch ELSE '' END,
                   1 + ts_rank(c.search, {ALL})::float
              FROM characters c
              JOIN scenes s ON s.character_id = c.id
              JOIN scene_types t ON t.id = s.scene_type_id
              JOIN projects p ON p.id = s.project_id
             WHERE c.search @@ {ANY}
               AND {
            vector(
                "c.slug",
                "replace(c.slug, '-', ' ')",
                "c.name",
                "t.slug",
                "replace(t.slug, '-', ' ')",
                "t.name",
                "'take'",
                "s.take",
                "s.id",
            )
        } @@ {ALL}
             ORDER BY 5 DESC, s.updated_at DESC LIMIT %(limit)s)"""
        if len(words) > 1
        else ""
    )
    return many(
        conn,
        PaletteHit,
        f"""(SELECT 'character' AS kind, c.slug AS key, c.name AS title, c.slug AS detail,
                    ({boost("c.name", "c.slug")} + ts_rank(c.search, {ALL}))::float AS rank
               FROM characters c
              WHERE c.search @@ {ALL}
              ORDER BY rank DESC, c.slug LIMIT %(limit)s)
            UNION ALL (
             SELECT DISTINCT ON (c.slug) 'character', c.slug, c.name, 'tag ' || g.name,
                    ({boost("g.name")} * 0.5)::float
               FROM (SELECT e.character_id, g.name FROM tags g
                       JOIN entity_tags e ON e.tag_id = g.id
                      WHERE g.name LIKE %(starts)s OFFSET 0) g  -- the few tags first
               JOIN characters c ON c.id = g.character_id
              ORDER BY c.slug LIMIT %(limit)s)
            {takes}
            UNION ALL (
             SELECT 'scene type', t.slug, t.name, t.slug, ({boost("t.name", "t.slug")})::float
               FROM scene_types t
              WHERE {vector("t.slug", "replace(t.slug, '-', ' ')", "t.name")} @@ {ALL}
              ORDER BY 5 DESC, t.slug LIMIT %(limit)s)
            UNION ALL (
             SELECT 'workflow', w.name, w.name, 'version ' || max(w.version),
                    ({boost("w.name")})::float
               FROM workflows w
              WHERE {vector("w.name", "replace(w.name, '-', ' ')", "w.description")} @@ {ALL}
              GROUP BY w.name ORDER BY 5 DESC, w.name LIMIT %(limit)s)
            UNION ALL (
             SELECT 'project', p.slug, p.name, p.status, ({boost("p.name", "p.slug")})::float
               FROM projects p
              WHERE {vector("p.slug", "replace(p.slug, '-', ' ')", "p.name")} @@ {ALL}
              ORDER BY 5 DESC, p.slug LIMIT %(limit)s)""",
        {
            "all": " & ".join(f"{word}:*" for word in words),
            "any": " | ".join(f"{word}:*" for word in words),
            "phrase": phrase,
            "starts": _like_prefix(phrase),
            "limit": limit,
        },
    )
