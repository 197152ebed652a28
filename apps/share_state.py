"""The share page's state, apart from its views (PRD-84): an outside reviewer's visit
through one share link, with no login.

Plain Python drives it as the page does (tests/test_share_state.py): make a `ShareVisit`
with the link's token, `open()` (with the password when `status` is "password"), then
`comment(name, body, frame)` when `allow_comments`. A link that is unknown, expired or
revoked leaves `status` "refused", a heading saying which, and no media URL at all.
"""

from datetime import UTC, datetime

import param

from apps.actions import ActionRunner
from apps.media_routes import media_url
from apps.notices import Says
from trulience.catalog.database import connect
from trulience.catalog.records import Note
from trulience.media.frame_times import FrameTimes, proxy_frames
from trulience.review.share import (
    ShareCommentsClosed,
    ShareError,
    ShareExpired,
    SharePasswordNeeded,
    ShareRevoked,
    ShareUnknown,
    ShareWrongPassword,
    comment_via_share,
    open_share,
)
from trulience.storage import Storage

# Media URLs handed to the page live this long at most (and never past the link's expiry);
# the link's revocation stops them at once whatever their time.
MEDIA_TTL_S = 4 * 3600
REFUSED_HEADINGS = {
    ShareUnknown: "This share link is not known",
    ShareExpired: "This share link has expired",
    ShareRevoked: "This share link was revoked",
}


class ShareVisit(Says):
    """One visit of the share page through the link whose token is `token`."""

    status = param.Selector(
        default="closed",
        objects=["closed", "password", "open", "refused"],
        doc="closed: not opened yet; password: the link asks for one; open: the take shown",
    )
    heading = param.String(default="", doc="What the page says at the top.")
    media_src = param.String(default="", doc="The signed media URL; empty unless open.")
    times = param.ClassSelector(class_=FrameTimes, default=None, allow_None=True)
    allow_comments = param.Boolean(default=False)

    def __init__(self, db_url: str, storage: Storage, token: str, remote: str = "", **params):
        super().__init__(**params)
        self.db_url, self.storage, self.token, self.remote = db_url, storage, token, remote
        self._password: str | None = None
        self.runner = ActionRunner(lambda _: None, self.say, expires=())
        self._answers = {
            SharePasswordNeeded: self._ask_password,
            ShareWrongPassword: self._ask_password,
            ShareError: self._refused,
        }

    def open(self, password: str | None = None) -> bool:
        """Open the link (recorded as a view); True when the take is shown."""
        self.hush()
        done = self.runner.run(lambda: self._open(password), answers=self._answers)
        return done is not None

    def _open(self, password: str | None) -> None:
        with connect(self.db_url) as conn:
            grant = open_share(conn, self.token, password, self.remote)
        key = self.storage.key_of(grant.proxy_uri)
        times = proxy_frames(self.storage, key)
        left = (grant.link.expires_at - datetime.now(UTC)).total_seconds()
        ttl = max(1, min(MEDIA_TTL_S, int(left)))
        self._password = password
        take = grant.take
        self.param.update(
            heading=f"Take {take.take}, revision {grant.link.revision}"
            + (f" · {grant.link.label}" if grant.link.label else ""),
            times=times,
            media_src=media_url(key, ttl_s=ttl, share=grant.link.id),
            allow_comments=grant.link.allow_comments,
            status="open",
        )

    def comment(self, name: str, body: str, frame: int | None) -> Note | None:
        """Send the outside reviewer's note (at `frame`); None when it was refused."""
        self.hush()

        def send() -> Note:
            with connect(self.db_url) as conn:
                return comment_via_share(
                    conn, self.token, name, body, frame, self._password, self.remote
                )

        answers = {ShareCommentsClosed: lambda e: self.say(str(e), "warning"), **self._answers}
        done = self.runner.run(send, answers=answers)
        if done is not None:
            self.say("Thank you: your note was sent to the studio.", "success")
            return done.value
        return None

    def _ask_password(self, error: ShareError) -> None:
        self.param.update(status="password", heading="This share link needs a password")
        if isinstance(error, ShareWrongPassword):
            self.say(str(error), "danger")

    def _refused(self, error: ShareError) -> None:
        heading = next(
            (text for kind, text in REFUSED_HEADINGS.items() if isinstance(error, kind)),
            "This share link cannot be used",
        )
        self.param.update(
            status="refused", heading=heading, media_src="", times=None, allow_comments=False
        )
        self.say(str(error), "warning")
