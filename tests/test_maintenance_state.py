"""The maintenance page's state in plain Python (PRD-18): a replace previewed then confirmed
under the user's name, a repath refused while files are missing, a viewer refused."""

import shutil

import pytest

from apps.maintenance_state import MaintenanceSession
from tests.ingest_files import ASTRONAUT
from tests.test_onboarding_state import PASSWORD
from trulience.auth import users as accounts
from trulience.catalog import characters, projects, source_images
from trulience.catalog.audit import audit_trail
from trulience.config import Settings
from trulience.library import add_image_file
from trulience.storage import Storage


@pytest.fixture
def settings(conn, db_url, tmp_path) -> Settings:
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "ada", "Ada", {"role": "pilot"}, ["moonbase"])
    accounts.create_user(conn, "paul", "Paul", "producer", PASSWORD)
    accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    return Settings.from_env(
        {
            "DATABASE_URL": db_url,
            "TRULIENCE_HOME": str(tmp_path),
            "STORAGE_URL": (tmp_path / "storage").as_uri(),
        }
    )


def signed_in(settings: Settings, username: str) -> MaintenanceSession:
    session = MaintenanceSession(settings)
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    assert session.user is not None, session.login.notice.object
    return session


def test_replace_is_previewed_then_confirmed_under_the_users_name(conn, settings):
    session = signed_in(settings, "paul")
    session.confirm()
    assert session.notice[0].startswith("preview first")
    session.preview_replace("pilot", "captain", "role")
    assert session.pending == "replace"
    assert session.report[0] == "ada.role: 'pilot' → 'captain'"
    assert characters.get_character(conn, "ada").metadata == {"role": "pilot"}
    session.confirm()
    assert session.notice == ("replace applied", "success") and session.pending is None
    assert characters.get_character(conn, "ada").metadata == {"role": "captain"}
    assert audit_trail(conn, table="characters")[0].actor == "user:paul"
    session.confirm()  # applied once only
    assert session.notice[0].startswith("preview first")


def test_repath_preview_blocks_confirm_while_files_are_missing(conn, settings, tmp_path):
    old = Storage((tmp_path / "old").as_uri())
    add_image_file(conn, old, "ada", ASTRONAUT)
    (tmp_path / "new").mkdir()
    session = signed_in(settings, "paul")
    new = (tmp_path / "new").as_uri()
    session.preview_repath(old.url, new)
    assert session.blocked and session.notice[1] == "warning"
    assert any(line.startswith("missing: source_images.uri") for line in session.report)
    shutil.rmtree(tmp_path / "new")
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    session.preview_repath(old.url, new)
    assert not session.blocked
    session.confirm()
    assert source_images.list_source_images(conn, "ada")[0].uri.startswith(new + "/")


def test_a_viewer_may_not_preview(conn, settings):
    session = signed_in(settings, "vic")
    assert not session.may_maintain
    session.preview_replace("pilot", "captain")
    assert session.notice[0].startswith("not allowed") and session.pending is None


def test_the_page_shows_the_preview_and_enables_confirm_only_then(conn, settings):
    from apps.maintenance import MaintenanceApp

    app = MaintenanceApp(settings)
    assert app.login.form.visible and not app.page.visible
    app.login.username.value, app.login.password.value = "paul", PASSWORD
    app.login.log_in()
    assert app.page.visible and app.forms.visible and app.confirm.disabled
    app.session.preview_replace("pilot", "<b>ace</b>", "role")
    assert "&#x27;&lt;b&gt;ace&lt;/b&gt;&#x27;" in app.report.object  # escaped
    assert not app.confirm.disabled
    app.session.confirm()
    assert app.confirm.disabled
    assert characters.get_character(conn, "ada").metadata == {"role": "<b>ace</b>"}
