"""The first-run guide's state (PRD-53), apart from its views: on an empty install, the
steps from nothing to the first character and the first take, each ticked off as the
catalog fills. Plain Python drives it (tests/test_studio_prefs_state.py): sign in through
`login`, `check()` re-reads the catalog.
"""

from dataclasses import dataclass

import param

from apps.login import Login, SignedIn
from trulience.auth.permissions import Permission
from trulience.catalog.database import connect, database_url
from trulience.catalog.first_run import Progress, install_progress
from trulience.config import Settings


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the guide: its title, how to do it (Markdown) and whether it is done."""

    key: str
    title: str
    how: str
    done: bool


def steps_for(progress: Progress, settings: Settings) -> list[Step]:
    """The guide's steps for how far the install has come."""
    inbox = settings.inbox_dir
    return [
        Step(
            "character",
            "Add your first character",
            f"Drop a folder of images into the inbox, `{inbox}/<project>/<character>/` "
            "(with an optional `metadata.json`): the inbox sensor imports it. Or from a "
            'shell: `trulience characters add ada "Ada" --project demo --image ada.png`. '
            "`make demo` does both steps with demo characters.",
            progress.characters > 0,
        ),
        Step(
            "take",
            "Make your first take",
            "Run `make demo` (a demo project, characters and their first takes with the "
            "preview backend), or `make dev` and materialize a character's segments in "
            "Dagster. The take then waits in the Review page's queue.",
            progress.takes > 0,
        ),
    ]


def install_is_new(url: str) -> bool:
    """Whether the install holds no character yet (the Studio opens the guide first)."""
    with connect(url) as conn:
        return install_progress(conn).characters == 0


def guide_needed(url: str) -> bool:
    """Whether the guide still has a step to tick (it leaves the navigation after)."""
    with connect(url) as conn:
        progress = install_progress(conn)
    return progress.characters == 0 or progress.takes == 0


class GuideSession(param.Parameterized):
    """One browser session of the guide: the steps, read again on `check()`."""

    user = param.Parameter(None, doc="The signed-in user (None: signed out).")
    steps = param.List([], item_type=Step, doc="The steps, in order, each done or not.")
    finished = param.Boolean(False, doc="Every step is done.")

    def __init__(self, settings: Settings):
        super().__init__()
        self.settings, self.url = settings, database_url(settings)
        self.login = Login(self.url, "guide", Permission.VIEW, self._signed_in, self._signed_out)

    def _signed_in(self, signed_in: SignedIn) -> None:
        self.user = signed_in.user
        self.check()

    def _signed_out(self) -> None:
        self.param.update(user=None, steps=[], finished=False)

    def check(self) -> None:
        """Read how far the install has come and tick the steps done."""
        with connect(self.url) as conn:
            steps = steps_for(install_progress(conn), self.settings)
        self.param.update(steps=steps, finished=all(step.done for step in steps))
