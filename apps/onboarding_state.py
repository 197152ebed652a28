"""The onboarding wizard's session state, apart from its views (PRD-67): a CSV uploaded (and
an optional zip of the images it names), a dry-run report from the same service as
`trulience import characters` (each row would be created, is already in the library, or is
refused with its column and reason), then Confirm writes the valid rows. Nothing is written
before Confirm; one bad row never blocks the others (the service's rule).

Uploads are bounded: a CSV of at most MAX_CSV_BYTES, a zip of at most MAX_ZIP_BYTES (the
browser sends a file whole over the page's websocket); larger onboarding goes through the
CLI. Plain Python drives it as the page does (tests/test_onboarding_state.py).
"""

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import param

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience.auth.acting import actor_name
from trulience.auth.permissions import Permission, allows
from trulience.catalog import projects
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.ingest.csv_import import ImportReport, import_characters
from trulience.storage import Storage

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_ZIP_BYTES = 10 * 1024 * 1024
MAX_ZIP_FILES = 2000
# A row's outcome as the wizard says it (the service's status -> the page's word).
OUTCOMES = {"ok": "created", "exists": "unchanged", "invalid": "refused", "written": "created"}


class UploadRefused(TrulienceError):
    """An upload the wizard will not take (too large, not a zip, an unsafe name)."""


@dataclass(frozen=True)
class ReportRow:
    """One CSV row in the report: its line, slug, outcome and (when refused) field and why."""

    line: int
    slug: str
    outcome: str  # created | unchanged | refused
    field: str = ""
    reason: str = ""
    images: int = 0


def report_rows(report: ImportReport) -> list[ReportRow]:
    """The service's report as rows of the wizard's table (one per problem when refused)."""
    rows = []
    for plan in report.rows:
        outcome = OUTCOMES[plan.status]
        if not plan.problems:
            rows.append(ReportRow(plan.line, plan.slug, outcome, images=len(plan.images)))
        for problem in plan.problems:
            rows.append(ReportRow(plan.line, plan.slug, outcome, problem.field, problem.message))
    return rows


class OnboardingSession(Says):
    """One browser session of the onboarding wizard: upload → report → confirm."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    may_onboard = param.Boolean(default=False, doc="Whether the user may add characters.")
    projects = param.List(default=[], doc="Project slugs the characters may join.")
    project = param.String(default=None, allow_None=True)
    csv_name = param.String(default=None, allow_None=True, doc="The uploaded CSV's name.")
    images_name = param.String(default=None, allow_None=True, doc="The uploaded zip's name.")
    stage = param.Selector(objects=["upload", "report", "done"], default="upload")
    rows = param.List(default=[], item_type=ReportRow, doc="The report (dry run, then result).")
    summary = param.String(default="")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self._work: tempfile.TemporaryDirectory | None = None
        self.login = Login(
            self.url, "onboarding", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.runner = ActionRunner(self.login.expired, self.say)

    def _signed_in(self, signed_in: SignedIn) -> None:
        user = signed_in.user
        with connect(self.url) as conn:
            slugs = [p.slug for p in projects.list_projects(conn, "active")]
        self.param.update(
            user=user,
            may_onboard=allows(user, Permission.MANAGE_CHARACTERS),
            projects=slugs,
            project=slugs[0] if slugs else None,
        )

    def _signed_out(self) -> None:
        self.start_over()
        self.param.update(user=None, may_onboard=False)

    @property
    def folder(self) -> Path:
        """The session's private folder holding the uploads (made on first upload)."""
        if self._work is None:
            self._work = tempfile.TemporaryDirectory(prefix="trulience-onboarding-")
        return Path(self._work.name)

    def start_over(self) -> None:
        """Forget the uploads and the report."""
        if self._work is not None:
            self._work.cleanup()
            self._work = None
        self.param.update(csv_name=None, images_name=None, stage="upload", rows=[], summary="")

    # -- upload --------------------------------------------------------------------------

    def upload_csv(self, filename: str, data: bytes) -> None:
        """Take the CSV (bounded); the report waits for `check()`."""
        self.runner.run(lambda: self._upload_csv(filename, data))

    def _upload_csv(self, filename: str, data: bytes) -> None:
        if len(data) > MAX_CSV_BYTES:
            raise UploadRefused(
                f"{filename}: {len(data):,} bytes; the wizard takes a CSV of at most "
                f"{MAX_CSV_BYTES // 1024 // 1024} MiB (use `trulience import characters`)"
            )
        (self.folder / "characters.csv").write_bytes(data)
        self.param.update(csv_name=filename, stage="upload", rows=[], summary="")

    def upload_images(self, filename: str, data: bytes) -> None:
        """Take a zip of the images the CSV names (paths inside it as the CSV writes them)."""
        self.runner.run(lambda: self._upload_images(filename, data))

    def _upload_images(self, filename: str, data: bytes) -> None:
        if len(data) > MAX_ZIP_BYTES:
            raise UploadRefused(
                f"{filename}: {len(data):,} bytes; the wizard takes a zip of at most "
                f"{MAX_ZIP_BYTES // 1024 // 1024} MiB (use `trulience import characters`)"
            )
        archive = self.folder / "images.zip"
        archive.write_bytes(data)
        try:
            with zipfile.ZipFile(archive) as zipped:
                members = [m for m in zipped.infolist() if not m.is_dir()]
                if len(members) > MAX_ZIP_FILES:
                    raise UploadRefused(f"{filename}: more than {MAX_ZIP_FILES} files")
                if sum(m.file_size for m in members) > 8 * MAX_ZIP_BYTES:
                    raise UploadRefused(
                        f"{filename}: unpacks to more than {8 * MAX_ZIP_BYTES // 2**20} MiB"
                    )
                for member in members:
                    name = PurePosixPath(member.filename)
                    if name.is_absolute() or ".." in name.parts:
                        raise UploadRefused(f"{filename}: unsafe path {member.filename!r}")
                    target = self.folder / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zipped.read(member))
        except zipfile.BadZipFile as exc:
            raise UploadRefused(f"{filename}: not a zip file ({exc})") from exc
        finally:
            archive.unlink(missing_ok=True)
        self.param.update(images_name=filename, stage="upload", rows=[], summary="")

    # -- dry run and confirm ---------------------------------------------------------------

    def _run(self, dry_run: bool) -> ImportReport | None:
        token, project = self.login.token, self.project
        if token is None or self.csv_name is None:
            self.say("upload a CSV first", "warning")
            return None
        if project is None:
            self.say("choose the project the characters join", "warning")
            return None

        def imported() -> ImportReport:
            with connect(self.url) as conn:
                actor = actor_name(conn, token, Permission.MANAGE_CHARACTERS)
            with connect(self.url, actor=actor) as conn:
                return import_characters(
                    conn, self.storage, self.folder / "characters.csv", project, dry_run
                )

        done = self.runner.run(imported)
        return None if done is None else done.value

    def check(self) -> None:
        """The dry run: every row's outcome, nothing written."""
        report = self._run(dry_run=True)
        if report is None:
            return
        rows = report_rows(report)
        refused = len(report.invalid)
        self.param.update(
            rows=rows,
            stage="report",
            summary=f"{len(report.rows) - refused} row(s) valid, {refused} refused; "
            "nothing written yet",
        )
        self.hush()

    def confirm(self) -> None:
        """Write the valid rows (each whole, or not at all); the refused ones stay out."""
        if self.stage != "report":
            self.say("check the CSV first: Confirm applies its report", "warning")
            return
        report = self._run(dry_run=False)
        if report is None:
            return
        self.param.update(
            rows=report_rows(report),
            stage="done",
            summary=f"{report.written} character(s) created, {len(report.invalid)} refused",
        )
        self.say(self.summary, "success")
