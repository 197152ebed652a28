"""The onboarding wizard's state in plain Python (PRD-67): upload a CSV and a zip of its
images, read the dry-run report (created / refused with column and reason), confirm; nothing
is written before Confirm, a viewer may not onboard, oversized and unsafe uploads are refused."""

import io
import zipfile

import pytest

from apps.onboarding_state import MAX_CSV_BYTES, OnboardingSession
from tests.ingest_files import ASTRONAUT, TOM
from trulience.auth import users as accounts
from trulience.catalog import characters, projects, source_images
from trulience.catalog.audit import audit_trail
from trulience.config import Settings

PASSWORD = "s3cret-pass"
CSV = b"""slug,name,images,role,age
ada,Ada,pics/ada.png,pilot,30
Bad Slug,Bee,pics/tom.png,cook,40
tom,Tom,pics/tom.png,captain,old
cy,Cy,pics/tom.png,cook,50
"""


def images_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.write(ASTRONAUT, "pics/ada.png")
        zipped.write(TOM, "pics/tom.png")
    return out.getvalue()


@pytest.fixture
def settings(conn, db_url, tmp_path) -> Settings:
    projects.create_project(conn, "moonbase", "Moonbase")
    accounts.create_user(conn, "paul", "Paul", "producer", PASSWORD)
    accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    return Settings.from_env(
        {
            "DATABASE_URL": db_url,
            "TRULIENCE_HOME": str(tmp_path),
            "STORAGE_URL": (tmp_path / "storage").as_uri(),
        }
    )


def signed_in(settings: Settings, username: str) -> OnboardingSession:
    session = OnboardingSession(settings)
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    assert session.user is not None, session.login.notice.object
    return session


def test_upload_report_then_confirm_writes_only_the_valid_rows(conn, settings):
    session = signed_in(settings, "paul")
    assert session.may_onboard and session.project == "moonbase"
    session.upload_csv("cast.csv", CSV)
    session.upload_images("pics.zip", images_zip())
    session.check()
    assert session.stage == "report"
    outcomes = {(r.slug, r.outcome, r.field) for r in session.rows}
    assert ("ada", "created", "") in outcomes and ("cy", "created", "") in outcomes
    assert ("Bad Slug", "refused", "slug") in outcomes
    assert ("tom", "refused", "age") in outcomes
    assert session.summary == "2 row(s) valid, 2 refused; nothing written yet"
    assert characters.list_characters(conn) == []  # nothing before Confirm

    session.confirm()
    assert session.stage == "done" and session.notice[1] == "success"
    assert [c.slug for c in characters.list_characters(conn)] == ["ada", "cy"]
    assert len(source_images.list_source_images(conn, "ada")) == 1
    assert {e.actor for e in audit_trail(conn, table="characters")} == {"user:paul"}


def test_confirm_needs_a_report_and_a_viewer_may_not_onboard(conn, settings):
    session = signed_in(settings, "paul")
    session.confirm()
    assert session.notice == ("check the CSV first: Confirm applies its report", "warning")
    viewer = signed_in(settings, "vic")
    assert not viewer.may_onboard
    viewer.upload_csv("cast.csv", CSV)
    viewer.check()
    assert viewer.notice[1] == "danger" and viewer.notice[0].startswith("not allowed")
    assert viewer.rows == [] and characters.list_characters(conn) == []


def test_oversized_and_unsafe_uploads_are_refused_naming_the_file(settings, tmp_path):
    session = signed_in(settings, "paul")
    session.upload_csv("huge.csv", b"x" * (MAX_CSV_BYTES + 1))
    assert session.csv_name is None and "huge.csv" in session.notice[0]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        zipped.writestr("../escape.png", b"nope")
    session.upload_images("evil.zip", out.getvalue())
    assert "unsafe path '../escape.png'" in session.notice[0] and session.images_name is None
    session.upload_images("notzip.zip", b"plain text")
    assert "not a zip file" in session.notice[0]
    assert not (tmp_path.parent / "escape.png").exists()


def test_start_over_forgets_the_uploads_and_the_report(settings):
    session = signed_in(settings, "paul")
    session.upload_csv("cast.csv", CSV)
    session.check()
    session.start_over()
    assert session.rows == [] and session.csv_name is None and session.stage == "upload"
    session.check()
    assert session.notice == ("upload a CSV first", "warning")


def test_the_studio_opens_both_pages_for_a_producer_and_neither_for_a_viewer(settings):
    from apps.maintenance import MaintenanceApp
    from apps.onboarding import OnboardingApp
    from apps.studio_state import StudioSession

    studio = StudioSession(settings)
    studio.login.username.value_input, studio.login.password.value_input = "paul", PASSWORD
    studio.login.log_in()
    onboarding, maintenance = studio.open("onboarding"), studio.open("maintenance")
    assert isinstance(onboarding, OnboardingApp) and isinstance(maintenance, MaintenanceApp)
    assert onboarding.wizard.visible and onboarding.session.project == "moonbase"
    assert maintenance.page.visible and maintenance.forms.visible
    viewer = StudioSession(settings)
    viewer.login.username.value_input, viewer.login.password.value_input = "vic", PASSWORD
    viewer.login.log_in()
    assert viewer.open("onboarding") is None and "not allowed" in viewer.message[0]
