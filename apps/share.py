"""The share page (PRD-84): an outside reviewer opens `/share?link=TOKEN`, with no login,
watches the take the link grants and, when it allows, sends a note.

Serve with `panel serve apps/share.py --plugins apps.media_routes` (the media URLs it hands
out are served by that plugin). A link that is unknown, expired or revoked shows a page
saying which and no media URL; its earlier media URLs are refused too. The state is
`apps/share_state.py`, the views `apps/share_views.py`.
"""

import panel as pn

from apps import theme
from apps.share_state import ShareVisit
from apps.share_views import ShareView
from trulience.catalog.database import database_url
from trulience.config import Settings
from trulience.storage import Storage


def share_page(settings: Settings, token: str, remote: str) -> pn.Column:
    """The page for one visit through the link `token`, opened at once."""
    storage = Storage(settings.storage_url, settings.storage_options)
    visit = ShareVisit(database_url(settings), storage, token, remote)
    visit.open()
    return theme.page("Shared take", ShareView(visit=visit))


def _request_link() -> tuple[str, str]:
    """The `?link=` token and the visitor's address of this session's request."""
    raw = (pn.state.session_args.get("link") or [b""])[0]
    token = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    request = pn.state.curdoc.session_context.request if pn.state.curdoc else None
    remote = getattr(request, "remote_ip", "") if request is not None else ""
    return token.strip(), remote or ""


if __name__.startswith("bokeh"):
    theme.setup()
    share_page(Settings.from_env(), *_request_link()).servable(title="Trulience · Shared take")
