"""The Studio's command palette and job tray in plain Python (apps/palette_state.py,
apps/tray_state.py): ranking over the catalog's one search, what Enter opens, a viewer's
palette without producer actions, bad input answered safely; the tray's jobs; the help
topics."""

import pytest

from apps.help import HelpApp, help_text, topics
from apps.palette_state import LONGEST, PaletteState, text_score
from apps.studio_state import StudioSession
from apps.tray_state import TrayState, progress_text
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.search import palette_search
from trulience.catalog.synthetic import fill_synthetic_characters
from trulience.config import Settings
from trulience.workers import segment_queue

PASSWORD = "s3cret-pass"


@pytest.fixture
def settings(db_url, conn, tmp_path) -> Settings:
    for name, role in [("vic", "viewer"), ("pat", "producer"), ("ada", "admin")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    make_project(conn)
    make_take(conn)
    fill_synthetic_characters(conn, 200)
    return Settings.from_env(
        {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": tmp_path.as_uri()}
    )


def signed_in(settings: Settings, username: str) -> StudioSession:
    studio = StudioSession(settings)
    studio.login.username.value_input, studio.login.password.value_input = username, PASSWORD
    studio.login.log_in()
    assert studio.user is not None
    return studio


def test_scores_rank_the_whole_title_then_its_start_then_words_then_letters_in_order():
    assert text_score("Ada Lovelace", ["ada", "lovelace"], "ada lovelace") == 100
    assert text_score("Ada Lovelace", ["ada"], "ada") == 80
    assert text_score("Ada Lovelace", ["love"], "love") == 60
    assert text_score("Switch to the dark theme", ["swdk"], "swdk") == 20
    assert text_score("Log out", ["zebra"], "zebra") is None


def test_one_query_finds_characters_by_name_slug_and_tag_and_takes_by_two_words(conn, settings):
    names = [hit.title for hit in palette_search(conn, "cleo patra 58") if hit.kind == "character"]
    assert names[0] == "Cleo Patra 58"  # the exact name first
    by_slug = palette_search(conn, "c-00042")
    assert ("character", "c-00042") in [(hit.kind, hit.key) for hit in by_slug]
    tagged = [hit for hit in palette_search(conn, "villain") if hit.kind == "character"]
    assert tagged and all(hit.detail == "tag villain" for hit in tagged)
    takes = [hit for hit in palette_search(conn, "ada walk") if hit.kind == "take"]
    assert takes and all("Ada" in hit.title and "Walk" in hit.title for hit in takes)
    scene_types = [hit.key for hit in palette_search(conn, "walk") if hit.kind == "scene type"]
    assert sorted(scene_types) == ["walk", "walk-cycle"]
    assert len(palette_search(conn, "a", limit=5)) <= 5 * 5


def test_typing_a_name_and_enter_opens_the_character(settings):
    studio = signed_in(settings, "pat")
    palette = PaletteState(studio)
    palette.show()
    assert palette.showing and palette.choices  # the actions, before any typing
    palette.type("Esme Weatherwax 4")
    first = palette.choices[0]
    assert (first.kind, first.title) == ("character", "Esme Weatherwax 4")
    chosen = palette.choose()
    assert chosen == first and not palette.showing
    # the character page opens on that character
    assert studio.page == "character"
    assert studio.built["character"].session.title == "Esme Weatherwax 4"


def test_a_take_opens_in_review_and_up_down_wrap(settings):
    studio = signed_in(settings, "pat")
    palette = PaletteState(studio)
    palette.type("ada walk")
    kinds = [choice.kind for choice in palette.choices]
    assert "take" in kinds
    palette.move(-1)
    assert palette.selected == len(palette.choices) - 1
    palette.move(+1)
    assert palette.selected == 0
    take = next(c for c in palette.choices if c.kind == "take")
    palette.choose(palette.choices.index(take))
    assert studio.page == "review"


def test_actions_run_and_a_viewer_has_no_producer_actions(settings):
    producer = PaletteState(signed_in(settings, "pat"))
    keys = {choice.key for choice in producer.actions()}
    assert {"task:reorder", "task:assign", "open:queue", "logout", "theme"} <= keys
    assert "task:drain" not in keys  # operators' only
    viewer_studio = signed_in(settings, "vic")
    viewer = PaletteState(viewer_studio)
    keys = {choice.key for choice in viewer.actions()}
    assert not {k for k in keys if k.startswith("task:")}
    assert "open:review" in keys
    viewer.type("dark")
    assert viewer.choices[0].key == "theme"
    viewer.choose()
    assert viewer_studio.theme == "dark"
    viewer.type("log out")
    viewer.choose()
    assert viewer_studio.user is None
    assert viewer.search("ada") == []  # signed out: neither the catalog nor an action


@pytest.mark.parametrize("text", ["%", "_", "'; DROP TABLE characters; --", "a:* & !", "é" * 500])
def test_bad_input_is_answered_safely(settings, text):
    palette = PaletteState(signed_in(settings, "pat"))
    palette.type(text + "x" * 500)
    assert len(palette.query) == LONGEST
    assert all(
        choice.kind in {"action", "character", "take", "scene type", "project", "workflow"}
        for choice in palette.choices
    )
    palette.type("%")
    assert all(choice.kind == "action" for choice in palette.choices)
    assert palette.choose(99) is None


def test_the_tray_lists_a_waiting_segment_and_takes_being_made(conn, settings):
    studio = signed_in(settings, "vic")
    tray = TrayState(studio)
    take_id = conn.execute("SELECT id FROM scenes WHERE status = 'generating' LIMIT 1").fetchone()[
        0
    ]
    segment_queue.request_slot(conn, "gpu", "loop", take_id=take_id, segment=2)
    tray.read()
    waiting = [job for job in tray.jobs if job.kind == "waiting"]
    assert [(job.title, job.take) for job in waiting] == [(f"take #{take_id} segment 2", take_id)]
    assert progress_text(waiting[0]) == "#1 in line"
    making = [job for job in tray.jobs if job.kind == "take"]
    assert making and all(job.total == 4 for job in making)
    assert progress_text(making[0]) == "0 of 4"
    assert "no instance" in tray.note  # no dagster.yaml here: the catalog's view, said
    studio.login.log_out()
    assert tray.jobs == []


def test_help_topics_and_a_missing_one(settings):
    assert {"studio", "review", "compare", "dashboards", "queue"} <= set(topics())
    found, text = help_text("review")
    assert found and text.startswith("# Review")
    found, text = help_text("../../etc/passwd")
    assert not found and "no help" in text
    app = HelpApp(settings)
    assert app.show("nowhere") is False and app.missing.visible
    assert app.show("queue") and not app.missing.visible and "# Queue" in app.text.object


def test_the_shell_header_wires_the_palette_the_tray_and_help(settings):
    """The header's widgets over their states (the journey in a browser:
    test_studio_palette.py): the browser's messages in, the rows it draws out."""
    from apps.studio import StudioApp

    app = StudioApp(settings)
    assert not app.palette.widget.visible and not app.tray.widget.visible
    app.session.login.username.value_input = "pat"
    app.session.login.password.value_input = PASSWORD
    app.session.login.log_in()
    assert app.palette.widget.visible and app.help_button.visible
    assert app.tray.widget.rows and app.tray.widget.note  # read at login; no Dagster here
    app.palette._heard({"show": True})
    assert app.palette.widget.showing and app.palette.widget.rows[0]["kind"] == "action"
    # Enter before the answer to the last keystroke came back: the typed text is searched
    app.palette._heard({"choose": 3, "query": "Greta Garbo 6"})
    assert not app.palette.widget.showing and app.session.page == "character"
    assert app.session.built["character"].session.title == "Greta Garbo 6"
    app.help_button.clicks += 1
    assert app.session.page == "help" and app.views["help"].visible
    assert "# Character" in app.session.built["help"].text.object
