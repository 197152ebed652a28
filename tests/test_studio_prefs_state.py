"""What the Studio keeps per user, in plain Python: the page left open and each page's
filters across a logout and login (apps/prefs.py), the dashboards' widgets and their order,
plugin pages found through entry points (a broken one skipped, said), the first-run guide
on an empty install, the one-time nonce behind the HttpOnly cookie, and the take in the URL."""

from importlib.metadata import EntryPoint

import pytest

from apps.cookie_routes import hand_over, redeem
from apps.plugins import GROUP, discover
from apps.studio_pages import PAGES
from apps.studio_state import GUIDE, StudioSession
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.layouts import layout_of, save_layout
from trulience.catalog.users import get_user
from trulience.config import Settings

PASSWORD = "s3cret-pass"


@pytest.fixture
def settings(db_url, conn, tmp_path) -> Settings:
    """An install with two users and no character yet."""
    for name, role in [("vic", "viewer"), ("rita", "reviewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    return Settings.from_env(
        {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": tmp_path.as_uri()}
    )


def signed_in(settings: Settings, username: str, pages=None, problems=None) -> StudioSession:
    studio = StudioSession(settings, pages, problems)
    studio.login.username.value_input, studio.login.password.value_input = username, PASSWORD
    studio.login.log_in()
    return studio


def test_the_page_and_its_filters_survive_a_logout_and_login(conn, settings):
    make_project(conn)
    make_take(conn)
    studio = signed_in(settings, "rita")
    review = studio.open("review").session
    review.param.update(review_status="approved", sort="character", overdue=True)
    review.player.more = True  # the player's visual aids, behind "More", left open
    library = studio.open("library").session
    library.param.update(text="ada", sort=library.param.sort.objects[-1])
    dashboards = studio.open("dashboards").session
    dashboards.window = "30 days"
    studio.login.log_out()

    again = signed_in(settings, "rita")  # another browser, the next day
    assert again.page == "dashboards" and again.built["dashboards"].session.window == "30 days"
    kept = again.open("library").session
    assert (kept.text, kept.sort) == ("ada", kept.param.sort.objects[-1])
    restored = again.open("review").session
    assert (restored.review_status, restored.sort, restored.overdue) == (
        "approved",
        "character",
        True,
    )
    assert restored.player.more
    saved = layout_of(conn, get_user(conn, "rita").id)
    assert saved["studio.page"] == "review" and saved["review.review_status"] == "approved"

    # each user's own: vic finds the defaults, on the same document after rita left
    again.login.log_out()
    again.login.username.value_input, again.login.password.value_input = "vic", PASSWORD
    again.login.log_in()
    assert again.page == "review" and again.built["review"].session.review_status == "awaiting"
    assert again.open("dashboards").session.window == "7 days"  # given vic's as it opens


def test_the_dashboards_widgets_chosen_and_ordered_are_kept(conn, settings):
    make_project(conn)
    make_take(conn)
    studio = signed_in(settings, "rita")
    app = studio.open("dashboards")
    assert app.tabs.tabs._names == [
        "Studio pulse",
        "Performance",
        "Render timeline",
        "Failures",
        "Consistency",
    ]
    assert not app.controls.widgets.visible  # behind "More"
    app.controls.more.value = True
    app.controls.widgets.value = ["Failures", "Studio pulse"]
    assert app.tabs.tabs._names == ["Failures", "Studio pulse"]
    studio.login.log_out()

    again = signed_in(settings, "rita").open("dashboards")
    assert again.session.widgets == ["Failures", "Studio pulse"] and again.controls.widgets.visible
    assert again.tabs.tabs._names == ["Failures", "Studio pulse"]


def test_a_saved_choice_no_longer_offered_is_left_at_the_default(conn, settings):
    make_project(conn)
    rita = get_user(conn, "rita")
    save_layout(conn, rita.id, {"dashboards.window": "2 days", "studio.page": "gone"})
    studio = signed_in(settings, "rita")
    assert studio.page == "review" and studio.open("dashboards").session.window == "7 days"
    assert layout_of(conn, rita.id)["dashboards.window"] == "2 days"  # untouched, not refused


def test_an_installed_plugin_adds_a_page_and_a_broken_one_is_skipped_and_said(conn, settings):
    make_project(conn)
    pages, broken = discover(PAGES)  # the venv's: examples/trulience-hello-plugin
    assert broken == [] and list(pages)[-1] == "hello" and list(pages)[: len(PAGES)] == list(PAGES)
    points = [
        EntryPoint("hello", "trulience_hello_plugin:PAGE", GROUP),
        EntryPoint("missing", "trulience_no_such_plugin:PAGE", GROUP),
        EntryPoint("not-a-page", "json:JSONDecoder", GROUP),
        EntryPoint("twice", "trulience_hello_plugin:PAGE", GROUP),
    ]
    pages, broken = discover(PAGES, points)
    assert "hello" in pages and [problem.name.split()[0] for problem in broken] == [
        "missing",
        "not-a-page",
        "twice",
    ]
    assert (
        "ModuleNotFoundError" in broken[0].error and "trulience_no_such_plugin" in broken[0].error
    )
    assert "not a StudioPage" in broken[1].error and "already registered" in broken[2].error

    studio = signed_in(settings, "vic", pages, broken)
    assert "hello" in studio.allowed and studio.message[1] == "warning"
    assert "'missing (trulience_no_such_plugin:PAGE)' was skipped" in studio.message[0]
    hello = studio.open("hello")
    assert hello.login.token == studio.token and "**vic**" in hello.greeting.object
    assert "1 character(s)" in hello.greeting.object


def test_the_shell_lists_a_plugin_page_in_its_navigation(settings):
    from apps.studio import StudioApp

    app = StudioApp(settings, *discover(PAGES))
    app.session.login.username.value_input = "vic"
    app.session.login.password.value_input = PASSWORD
    app.session.login.log_in()
    assert {"label": "Hello", "icon": "waving_hand", "page": "hello"} in app.navigation.items


def test_an_empty_install_opens_the_guide_which_ticks_its_steps_as_the_catalog_fills(
    conn, settings
):
    studio = signed_in(settings, "rita")
    assert studio.page == GUIDE and GUIDE in studio.allowed
    guide = studio.built[GUIDE]
    assert [(step.key, step.done) for step in guide.session.steps] == [
        ("character", False),
        ("take", False),
    ]
    assert str(settings.inbox_dir) in guide.session.steps[0].how
    assert "trulience characters add" in guide.session.steps[0].how
    make_project(conn)  # the first character
    guide.session.check()
    assert [step.done for step in guide.session.steps] == [True, False]
    assert "guide-done" in guide.steps.objects[0].css_classes
    assert not guide.finished.visible
    studio.login.log_out()
    assert signed_in(settings, "rita").page == GUIDE  # the page left open, a step to go
    assert signed_in(settings, "vic").page == "review"  # a character: the guide not first
    make_take(conn)
    guide.session.check()
    assert guide.session.finished and guide.finished.visible
    done = signed_in(settings, "rita")
    assert GUIDE not in done.allowed and done.page == "review"  # out of the navigation


def test_the_cookies_nonce_works_once(conn, settings):
    nonce = hand_over("a-session-token")
    assert redeem(nonce) == "a-session-token" and redeem(nonce) is None
    assert redeem("never-made") is None and redeem(hand_over(None)) == ""


def test_the_take_in_the_player_is_written_into_the_url(conn, settings):
    from apps.studio import StudioApp

    make_project(conn)
    scene_id = make_take(conn)
    app = StudioApp(settings)
    app.session.login.username.value_input = "rita"
    app.session.login.password.value_input = PASSWORD
    app.session.login.log_in()
    review = app.session.built["review"].session
    assert app.address.page == "review" and app.address.query == ""
    review.open_take(review.takes[0])
    assert app.address.query == f"take={scene_id}"
    app.session.open("queue")
    assert app.address.page == "queue" and app.address.query == ""
    app.session.open("review")  # still in the player
    assert app.address.query == f"take={scene_id}"
    review.show_queue()
    assert app.address.query == ""
