"""Share links for outside reviewers (PRD-84): watch one take, and comment when allowed,
without an account. A link is a random bearer token shown once (only its sha256 is kept),
expires, can be revoked and can ask for a password; every use, refused ones too, is
recorded in share_link_uses. Media URLs a link's page hands out are signed with the link's
id (trulience/auth/signed.py) and refused as soon as `link_refusal` says so.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from trulience.auth.errors import PermissionDenied
from trulience.auth.passwords import hash_password, verify_password
from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user, token_digest
from trulience.catalog import notes as catalog_notes
from trulience.catalog import scenes as scene_repo
from trulience.catalog import share_links
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.catalog.records import Note, Take, User
from trulience.catalog.reviews import newest_revision
from trulience.catalog.share_links import ShareLink, ShareUse
from trulience.catalog.tags import Subject
from trulience.errors import TrulienceError
from trulience.notify.notifications import default_recipients, notify

Actor = User | str  # a User, or the token of a session
MAX_EXPIRES = timedelta(days=90)
MAX_NAME = 80
# Roles that may revoke anyone's link; a reviewer revokes the links they made.
_REVOKE_ANY = frozenset({"producer", "admin"})


class ShareError(TrulienceError):
    """A share link that cannot be used as asked; the message is safe to show outside."""


class ShareUnknown(ShareError):
    def __init__(self) -> None:
        super().__init__("this share link is not known (mistyped, or never made)")


class ShareExpired(ShareError):
    def __init__(self, link: ShareLink) -> None:
        self.link = link
        super().__init__(f"this share link expired on {link.expires_at:%Y-%m-%d %H:%M} UTC")


class ShareRevoked(ShareError):
    def __init__(self, link: ShareLink) -> None:
        self.link = link
        super().__init__("this share link was revoked by the studio")


class SharePasswordNeeded(ShareError):
    def __init__(self) -> None:
        super().__init__("this share link needs a password")


class ShareWrongPassword(ShareError):
    def __init__(self) -> None:
        super().__init__("the password is not right for this share link")


class ShareCommentsClosed(ShareError):
    def __init__(self) -> None:
        super().__init__("this share link lets you watch, not comment")


class NotShareable(TrulienceError):
    """A take that has no assembled video to show yet."""


@dataclass(frozen=True)
class ShareGrant:
    """What an opened link shows: the take, the revision shared, and its proxy's URI."""

    link: ShareLink
    take: Take
    proxy_uri: str


def proxy_uri_of(take_uri: str) -> str:
    """The URI of a take's browser proxy, stored beside its video."""
    return take_uri.rsplit("/", 1)[0] + "/proxy.mp4"


def create_share(
    conn: psycopg.Connection,
    actor: Actor,
    scene_id: int,
    *,
    expires_in: timedelta,
    password: str | None = None,
    allow_comments: bool = False,
    label: str = "",
) -> tuple[ShareLink, str]:
    """A new link to the take's newest revision, and its token (shown here once, never
    stored). Reviewers and producers only."""
    user = acting_user(conn, actor)
    require(user, Permission.REVIEW)
    if not isinstance(expires_in, timedelta) or not timedelta(0) < expires_in <= MAX_EXPIRES:
        raise InvalidValue(
            "share link", "expires_in", str(expires_in), f"must be between 0 and {MAX_EXPIRES}"
        )
    if len(label) > 200:
        raise InvalidValue("share link", "label", label[:40], "is longer than 200 characters")
    take = scene_repo.get_take(conn, scene_id)
    revision = newest_revision(conn, scene_id)
    if revision == 0 or take.uri is None:
        raise NotShareable(
            f"take {take.take} (scene {scene_id}) is {take.status}: assemble it before sharing"
        )
    password_hash = hash_password(password) if password else None
    token = secrets.token_urlsafe(32)
    with acting_as(conn, f"user:{user.username}"):
        link = share_links.create_link(
            conn,
            token_digest(token),
            scene_id,
            revision,
            user.id,
            expires_in,
            password_hash,
            allow_comments,
            label.strip(),
        )
    return link, token


def _refuse(conn: psycopg.Connection, link_id: int | None, error: ShareError, remote: str):
    with acting_as(conn, f"share:{link_id or 'unknown'}"):
        share_links.record_use(conn, link_id, "refused", str(error), remote)
    return error


def _checked(conn: psycopg.Connection, token: str, password: str | None, remote: str) -> ShareLink:
    """The link a token opens, usable now with this password; each refusal recorded."""
    try:
        link, password_hash = share_links.link_of_token(conn, token_digest(token or ""))
    except NotFound:
        raise _refuse(conn, None, ShareUnknown(), remote) from None
    if link.revoked_at is not None:
        raise _refuse(conn, link.id, ShareRevoked(link), remote)
    if link.expired:
        raise _refuse(conn, link.id, ShareExpired(link), remote)
    if password_hash is not None and not password:
        raise _refuse(conn, link.id, SharePasswordNeeded(), remote)
    if password_hash is not None and not verify_password(password or "", password_hash):
        raise _refuse(conn, link.id, ShareWrongPassword(), remote)
    return link


def open_share(
    conn: psycopg.Connection, token: str, password: str | None = None, remote: str = ""
) -> ShareGrant:
    """The take a link shows, the use recorded as viewed; ShareUnknown / ShareRevoked /
    ShareExpired / SharePasswordNeeded / ShareWrongPassword (each recorded as refused)."""
    link = _checked(conn, token, password, remote)
    take = scene_repo.get_take(conn, link.scene_id)
    with acting_as(conn, f"share:{link.id}"):
        share_links.record_use(conn, link.id, "viewed", "", remote)
    return ShareGrant(link, take, proxy_uri_of(take.uri or ""))


def link_refusal(conn: psycopg.Connection, link_id: int) -> str | None:
    """Why media signed for this link must be refused now (unknown, revoked, expired), or
    None while the link stands. Read on every media request; records nothing itself."""
    try:
        link = share_links.get_link(conn, link_id)
    except NotFound:
        return "the share link is not known"
    if link.revoked_at is not None:
        return "the share link was revoked"
    if link.expired:
        return "the share link has expired"
    return None


def record_media_refusal(conn: psycopg.Connection, link_id: int, reason: str, remote: str):
    """Record a media request refused for a link's sake (the link exists)."""
    with acting_as(conn, f"share:{link_id}"):
        share_links.record_use(conn, link_id, "refused", f"media: {reason}", remote)


def comment_via_share(
    conn: psycopg.Connection,
    token: str,
    name: str,
    body: str,
    frame: int | None,
    password: str | None = None,
    remote: str = "",
) -> Note:
    """A note on the shared take from an outside reviewer: written in the name of the link's
    creator, its body saying who wrote it. Only when the link allows comments."""
    link = _checked(conn, token, password, remote)
    if not link.allow_comments:
        raise _refuse(conn, link.id, ShareCommentsClosed(), remote)
    name, body = (name or "").strip(), (body or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidValue("comment", "name", name[:40], f"must be 1 to {MAX_NAME} characters")
    if not body:
        raise InvalidValue("comment", "body", None, "must not be empty")
    take = scene_repo.get_take(conn, link.scene_id)
    if frame is not None and not (0 <= frame < (take.frames or 0)):
        raise InvalidValue(
            "comment", "frame", frame, f"is not a frame of the take (0..{take.frames})"
        )
    with acting_as(conn, f"share:{link.id}"):
        note = catalog_notes.add_note(
            conn,
            link.created_by,
            f"{name} (outside reviewer, share link {link.id}): {body}",
            Subject(scene_id=link.scene_id),
            frame,
        )
        share_links.record_use(conn, link.id, "commented", f"note {note.id} by {name}", remote)
        notify(
            conn,
            "note_added",
            {"scene_id": link.scene_id, "note_id": note.id, "frame": frame},
            f"{name} commented through share link {link.id} on scene {link.scene_id}",
            users=default_recipients(conn, "note_added"),
        )
    return note


def revoke_share(conn: psycopg.Connection, actor: Actor, link_id: int) -> ShareLink:
    """Revoke a link at once: its page and its media URLs are refused from now on. Its
    maker, or a producer, may."""
    user = acting_user(conn, actor)
    require(user, Permission.REVIEW)
    link = share_links.get_link(conn, link_id)
    if link.created_by != user.username and user.role not in _REVOKE_ANY:
        raise PermissionDenied(user.username, user.role, "revoke another reviewer's share link")
    with acting_as(conn, f"user:{user.username}"):
        return share_links.revoke_link(conn, link_id)


def list_shares(
    conn: psycopg.Connection, actor: Actor, scene_id: int | None = None
) -> list[ShareLink]:
    """The share links (of one take), newest first. Reviewers and producers only."""
    require(acting_user(conn, actor), Permission.REVIEW)
    return share_links.list_links(conn, scene_id)


def uses_of_share(conn: psycopg.Connection, actor: Actor, link_id: int) -> list[ShareUse]:
    """Every recorded use of a link, oldest first."""
    require(acting_user(conn, actor), Permission.REVIEW)
    return share_links.uses_of(conn, link_id)
