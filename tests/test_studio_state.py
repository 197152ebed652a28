"""The Studio's session in plain Python (apps/studio_state.py): one login for every page,
the pages a role may open, a logout or a refused session ending it for all, the theme kept
per user."""

import pytest

from apps.compare import CompareApp
from apps.dashboards import DashboardsApp
from apps.review import ReviewApp
from apps.studio_pages import PAGES, StudioPage, adopting, pages_for
from apps.studio_state import LOGIN, StudioSession
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.auth.permissions import Permission
from trulience.catalog.themes import theme_of
from trulience.catalog.users import get_user
from trulience.config import Settings

PASSWORD = "s3cret-pass"


@pytest.fixture
def settings(db_url, conn, tmp_path) -> Settings:
    for name, role in [("vic", "viewer"), ("rita", "reviewer"), ("ada", "admin")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    make_project(conn)
    make_take(conn)
    return Settings.from_env(
        {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": tmp_path.as_uri()}
    )


def signed_in(settings: Settings, username: str, pages=None) -> StudioSession:
    studio = StudioSession(settings, pages)
    studio.login.username.value_input, studio.login.password.value_input = username, PASSWORD
    studio.login.log_in()
    return studio


def test_the_registry_holds_the_four_apps_and_each_role_sees_what_it_may_open(conn, settings):
    assert [page.name for page in PAGES.values()][:4] == [
        "review",
        "compare",
        "dashboards",
        "queue",
    ]
    # a page needing more than viewing: the users' admin's, say
    admin_only = StudioPage(
        "people", "People", "group", Permission.MANAGE_USERS, adopting(DashboardsApp)
    )
    pages = {**PAGES, "people": admin_only}
    vic, ada = get_user(conn, "vic"), get_user(conn, "ada")
    assert "people" not in [page.name for page in pages_for(vic, pages)]
    assert [page.name for page in pages_for(ada, pages)][-1] == "people"

    viewer = signed_in(settings, "vic", pages)
    assert "people" not in viewer.allowed and viewer.page == "review"
    assert viewer.open("people") is None and viewer.page == "review"
    assert "not allowed" in viewer.message[0] and "people" not in viewer.built
    assert viewer.open("nowhere") is None and "no Studio page 'nowhere'" in viewer.message[0]
    assert isinstance(signed_in(settings, "ada", pages).open("people"), DashboardsApp)


def test_one_login_opens_every_page_with_the_same_session(conn, settings):
    studio = StudioSession(settings)
    studio.open("compare")  # a linked URL before login: opened once signed in
    assert studio.page == LOGIN and studio.built == {}
    studio.login.username.value_input, studio.login.password.value_input = "rita", PASSWORD
    studio.login.log_in()
    assert studio.page == "compare" and studio.user.username == "rita"
    review, dashboards = studio.open("review"), studio.open("dashboards")
    compare = studio.built["compare"]
    assert isinstance(review, ReviewApp) and isinstance(compare, CompareApp)
    tokens = {app.login.token for app in (review, compare, dashboards)}
    assert tokens == {studio.token} and len(accounts.sessions_of(conn, "rita", True)) == 1
    # each page is signed in on its own terms: the queue read, the views for a user shown
    assert review.session.screen == "queue" and len(review.session.takes) == 1
    assert dashboards.dashboard_view.visible and not dashboards.login_view.visible
    assert studio.open("review") is review  # built once, then kept


def test_a_linked_take_opens_in_the_review_player_once_signed_in(conn, settings):
    [scene_id] = conn.execute("SELECT id FROM scenes").fetchone()
    studio = StudioSession(settings)
    studio.open("review", {"take": str(scene_id)})  # /studio?page=review&take=ID
    studio.login.username.value_input, studio.login.password.value_input = "rita", PASSWORD
    studio.login.log_in()
    review = studio.built["review"]
    assert review.session.screen == "player" and review.session.take.scene_id == scene_id
    studio.open("review", {"take": "999999"})
    message, kind = review.session.queue_notice
    assert "take 999999 is not in the queue" in message and kind == "warning"


def test_a_logout_on_any_page_ends_the_session_for_every_page(conn, settings):
    studio = signed_in(settings, "rita")
    review, compare = studio.open("review"), studio.open("compare")
    review.login.log_out()  # the review page's own button
    assert studio.page == LOGIN and studio.user is None and studio.token is None
    assert review.session.screen == "login" and compare.session.user is None
    assert accounts.sessions_of(conn, "rita", True) == []
    # the next login (anyone's) is adopted by the pages already built
    studio.login.username.value_input, studio.login.password.value_input = "vic", PASSWORD
    studio.login.log_in()
    assert studio.open("review") is review and review.session.user.username == "vic"
    studio.login.log_out()
    assert review.login.token is None and accounts.sessions_of(conn, "vic", True) == []


def test_a_revoked_session_returns_to_login_with_the_reason(conn, settings):
    studio = signed_in(settings, "rita")
    dashboards = studio.open("dashboards")
    accounts.revoke_session(conn, accounts.sessions_of(conn, "rita")[0].id)
    assert studio.open("compare") is None
    assert studio.page == LOGIN and studio.login.notice.visible
    assert "was revoked" in studio.login.notice.object
    assert dashboards.session.user is None and "compare" not in studio.built

    # a page that hears the refusal first ends the Studio's session too
    studio.login.username.value_input, studio.login.password.value_input = "rita", PASSWORD
    studio.login.log_in()
    review = studio.open("review")
    accounts.revoke_session(conn, accounts.sessions_of(conn, "rita", True)[0].id)
    review.session.show_queue()
    assert (
        studio.page == LOGIN and studio.user is None and "was revoked" in studio.login.notice.object
    )


def test_a_reload_resumes_the_cookies_session_and_a_bad_one_is_refused(conn, settings):
    first = signed_in(settings, "rita")
    first.open("dashboards")
    reloaded = StudioSession(settings)
    reloaded.open("dashboards")  # the URL's ?page=
    assert reloaded.resume(first.token)
    assert reloaded.page == "dashboards" and reloaded.token == first.token

    stranger = StudioSession(settings)
    assert not stranger.resume("not-a-session-token")
    assert (
        stranger.page == LOGIN and "unknown session: log in again" in stranger.login.notice.object
    )
    first.login.log_out()
    assert not StudioSession(settings).resume(first.token)  # logged out: refused on reload


def test_the_theme_is_kept_per_user_and_restored_at_login(conn, settings):
    studio = signed_in(settings, "rita")
    assert studio.theme == "light"
    studio.choose_theme("dark")
    rita = get_user(conn, "rita")
    assert studio.theme == "dark" and theme_of(conn, rita.id) == "dark"
    studio.choose_theme("sepia")  # refused by the catalog, naming the field and value
    assert studio.theme == "dark" and "theme" in studio.message[0] and "sepia" in studio.message[0]
    studio.login.log_out()
    assert studio.theme == "light"  # the login form is in the default theme
    assert signed_in(settings, "rita").theme == "dark"
    assert signed_in(settings, "vic").theme == "light"


def test_the_shell_shows_the_form_then_the_open_page_and_the_navigation_of_the_role(settings):
    """The shell's widgets over the session (the journey in a browser: test_studio_app.py)."""
    from apps.studio import StudioApp

    app = StudioApp(settings)
    assert app.login_view.visible and app.navigation.items == [] and app.pages.objects == []
    app.session.login.username.value_input = "vic"
    app.session.login.password.value_input = PASSWORD
    app.session.login.log_in()
    assert [item["page"] for item in app.navigation.items][:8] == [
        "review",
        "compare",
        "dashboards",
        "queue",
        "library",
        "character",
        "scene-types",
        "workflows",
    ]
    assert not app.login_view.visible and app.address.page == "review"
    from apps.cookie_routes import redeem

    # the browser gets a one-time nonce; the cookie route sets the token HttpOnly for it
    nonce = app.address.nonce
    assert nonce and redeem(nonce) == app.session.token and redeem(nonce) is None
    app.navigation.value = app.navigation.items[2]  # a click in the navigation
    assert app.session.page == "dashboards" and app.views["dashboards"].visible
    assert not app.views["review"].visible
    app.address.page = "review"  # the browser's back button
    assert app.views["review"].visible and not app.views["dashboards"].visible
    app.shell.dark_theme = True  # the header's toggle
    assert app.session.theme == "dark"
    app.session.login.log_out()
    assert app.login_view.visible and app.address.nonce != nonce and not app.shell.dark_theme
    assert redeem(app.address.nonce) == ""  # the logout's nonce clears the cookie
