"""Share links as the catalog holds them (PRD-84): a token's sha256 (never the token), the
take and revision it shows, its terms, and every use. trulience/review/share.py decides who
may make one and when a use is refused; these functions run its statements."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one

_COLUMNS = """l.id, l.scene_id, l.revision, u.username AS created_by, l.created_at,
              l.expires_at, l.revoked_at, l.password_hash IS NOT NULL AS has_password,
              l.allow_comments, l.label, l.expires_at <= now() AS expired,
              (SELECT count(*) FROM share_link_uses s
                WHERE s.link_id = l.id AND s.outcome <> 'refused') AS uses"""


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A share link's terms and state; `uses` counts the uses that were let through."""

    id: int
    scene_id: int
    revision: int
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    has_password: bool
    allow_comments: bool
    label: str
    expired: bool
    uses: int


@dataclass(frozen=True, slots=True)
class ShareUse:
    id: int
    link_id: int | None
    at: datetime
    outcome: str
    reason: str
    remote: str


def create_link(
    conn: psycopg.Connection,
    token_sha256: str,
    scene_id: int,
    revision: int,
    created_by: int,
    expires_in: timedelta,
    password_hash: str | None,
    allow_comments: bool,
    label: str,
) -> ShareLink:
    """A new link for a token digest, expiring `expires_in` from now."""
    with writing(conn, {"label": label, "scene_id": scene_id}):
        row = conn.execute(
            """INSERT INTO share_links (token_sha256, scene_id, revision, created_by,
                                        expires_at, password_hash, allow_comments, label)
               VALUES (%s, %s, %s, %s, now() + %s, %s, %s, %s) RETURNING id""",
            (
                token_sha256,
                scene_id,
                revision,
                created_by,
                expires_in,
                password_hash,
                allow_comments,
                label,
            ),
        ).fetchone()
    return get_link(conn, row[0])


def get_link(conn: psycopg.Connection, link_id: int) -> ShareLink:
    """One link by id; NotFound otherwise."""
    return one(
        conn,
        ShareLink,
        f"SELECT {_COLUMNS} FROM share_links l JOIN users u ON u.id = l.created_by WHERE l.id = %s",
        (link_id,),
        "share link",
        link_id,
    )


def link_of_token(conn: psycopg.Connection, token_sha256: str) -> tuple[ShareLink, str | None]:
    """The link a token digest opens and its password hash; NotFound when none has it."""
    link = one(
        conn,
        ShareLink,
        f"SELECT {_COLUMNS} FROM share_links l JOIN users u ON u.id = l.created_by "
        "WHERE l.token_sha256 = %s",
        (token_sha256,),
        "share link",
        "(token)",
    )
    row = conn.execute("SELECT password_hash FROM share_links WHERE id = %s", (link.id,)).fetchone()
    return link, row[0]


def list_links(conn: psycopg.Connection, scene_id: int | None = None) -> list[ShareLink]:
    """Every link (of one take when given), newest first."""
    return many(
        conn,
        ShareLink,
        f"""SELECT {_COLUMNS} FROM share_links l JOIN users u ON u.id = l.created_by
             WHERE %(scene_id)s::bigint IS NULL OR l.scene_id = %(scene_id)s
             ORDER BY l.created_at DESC, l.id DESC""",
        {"scene_id": scene_id},
    )


def revoke_link(conn: psycopg.Connection, link_id: int) -> ShareLink:
    """Mark a link revoked now (a link already revoked keeps its first revocation)."""
    with writing(conn):
        conn.execute(
            "UPDATE share_links SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
            (link_id,),
        )
    return get_link(conn, link_id)


def record_use(
    conn: psycopg.Connection, link_id: int | None, outcome: str, reason: str, remote: str
) -> None:
    """Append one use of a link (refused ones too; link_id None: no link has the token)."""
    with writing(conn, {"reason": reason, "remote": remote}):
        conn.execute(
            "INSERT INTO share_link_uses (link_id, outcome, reason, remote) "
            "VALUES (%s, %s, %s, %s)",
            (link_id, outcome, reason[:500], remote[:200]),
        )


def uses_of(conn: psycopg.Connection, link_id: int | None) -> list[ShareUse]:
    """A link's uses, oldest first (None: the uses of tokens no link has)."""
    return many(
        conn,
        ShareUse,
        """SELECT id, link_id, at, outcome, reason, remote FROM share_link_uses
            WHERE link_id IS NOT DISTINCT FROM %s ORDER BY at, id""",
        (link_id,),
    )
