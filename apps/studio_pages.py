"""The Studio's pages: what each is called, its icon, the permission it needs and how it is
built for a signed-in session. Other pages plug in with one registration.

A page is any app with a `login` (an `apps.login.Login`) and a `view()` (its root layout),
as the standalone apps are: `adopting(AppClass)` builds one with `AppClass(settings)` and
hands its form the Studio's login (`Login.adopt`), so the page shows no form of its own and
its logout ends the Studio's session. Registering the Queue page (apps/queue.py) is one line
here, below the others:

    register(StudioPage("queue", "Queue", "queue", Permission.VIEW, adopting(QueueApp)))

The navigation lists, in registration order, the pages the user's role may open.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from apps.login import Login, SignedIn
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, allows
from trulience.catalog.records import User
from trulience.config import Settings
from trulience.errors import TrulienceError


class PageApp(Protocol):
    """What the Studio needs of a page: its login form (to adopt the session) and its view."""

    login: Login

    def view(self) -> Any:
        """The page's root layout."""


Ended = Callable[[AuthError | None], None]
Factory = Callable[[SignedIn, Settings, Ended], PageApp]
Link = Callable[[PageApp, Mapping[str, str]], None]
"""What a page does with the rest of its URL's query (`?page=review&take=12`)."""


@dataclass(frozen=True, slots=True)
class StudioPage:
    """One page of the Studio: `name` (its URL's `?page=`), title, Material icon name, the
    permission a role needs to open it, its factory, and what it does with a linked URL's
    other arguments (`link`, optional)."""

    name: str
    title: str
    icon: str
    permission: Permission
    build: Factory
    link: Link | None = None


class UnknownPage(TrulienceError):
    """A `?page=` (or a navigation request) naming no registered page."""

    def __init__(self, name: str, known: list[str]):
        super().__init__(f"there is no Studio page {name!r} (pages: {', '.join(known)})")


PAGES: dict[str, StudioPage] = {}


def register(page: StudioPage) -> StudioPage:
    """Add `page` to the Studio's navigation (a page of the same name is replaced)."""
    PAGES[page.name] = page
    return page


def adopting(app_class: Callable[[Settings], PageApp]) -> Factory:
    """A factory building a standalone app (`app_class(settings)`) into the Studio's session."""

    def build(signed_in: SignedIn, settings: Settings, ended: Ended) -> PageApp:
        app = app_class(settings)
        app.login.adopt(signed_in, ended)
        return app

    return build


def pages_for(user: User, pages: dict[str, StudioPage] | None = None) -> list[StudioPage]:
    """The registered pages `user`'s role may open, in registration order."""
    return [
        page
        for page in (PAGES if pages is None else pages).values()
        if allows(user, page.permission)
    ]


def _review(settings: Settings) -> PageApp:
    from apps.review import ReviewApp

    return ReviewApp(settings)


def _review_link(app: Any, args: Mapping[str, str]) -> None:
    """`?page=review&take=SCENE_ID`: that take in the player, if the queue holds it."""
    wanted = args.get("take", "").strip()
    if not wanted:
        return
    session = app.session
    take = next((t for t in session.takes if str(t.scene_id) == wanted), None)
    if take is None:
        session.say_over_queue(f"take {wanted} is not in the queue as filtered", "warning")
    else:
        session.open_take(take)


def _compare(settings: Settings) -> PageApp:
    from apps.compare import CompareApp

    return CompareApp(settings)


def _queue(settings: Settings) -> PageApp:
    from apps.queue import QueueApp

    return QueueApp(settings)


def _dashboards(settings: Settings) -> PageApp:
    from apps.dashboards import DashboardsApp

    return DashboardsApp(settings)


# The apps are imported when a page is first built: the Studio starts without loading them.
register(
    StudioPage("review", "Review", "rate_review", Permission.VIEW, adopting(_review), _review_link)
)
register(StudioPage("compare", "Compare", "compare", Permission.VIEW, adopting(_compare)))
register(StudioPage("dashboards", "Dashboards", "insights", Permission.VIEW, adopting(_dashboards)))
register(StudioPage("queue", "Queue", "queue", Permission.VIEW, adopting(_queue)))


def _library(settings: Settings) -> PageApp:
    from apps.library import LibraryApp

    return LibraryApp(settings)


register(StudioPage("library", "Library", "people", Permission.VIEW, adopting(_library)))


def _character(settings: Settings) -> PageApp:
    from apps.character import CharacterApp

    return CharacterApp(settings)


def _character_link(app: Any, args: Mapping[str, str]) -> None:
    """`?page=character&character=SLUG`: that character's page."""
    wanted = args.get("character", "").strip()
    if wanted:
        app.session.open(wanted)


register(
    StudioPage(
        "character", "Character", "person", Permission.VIEW, adopting(_character), _character_link
    )
)


def _onboarding(settings: Settings) -> PageApp:
    from apps.onboarding import OnboardingApp

    return OnboardingApp(settings)


register(
    StudioPage(
        "onboarding",
        "Onboarding",
        "upload_file",
        Permission.MANAGE_CHARACTERS,
        adopting(_onboarding),
    )
)


def _maintenance(settings: Settings) -> PageApp:
    from apps.maintenance import MaintenanceApp

    return MaintenanceApp(settings)


register(
    StudioPage(
        "maintenance", "Maintenance", "build", Permission.MANAGE_CHARACTERS, adopting(_maintenance)
    )
)


def _scene_types(settings: Settings) -> PageApp:
    from apps.scene_types import SceneTypesApp

    return SceneTypesApp(settings)


def _workflows(settings: Settings) -> PageApp:
    from apps.workflows import WorkflowsApp

    return WorkflowsApp(settings)


register(StudioPage("scene-types", "Scene types", "tune", Permission.VIEW, adopting(_scene_types)))
register(
    StudioPage("workflows", "Workflows", "account_tree", Permission.VIEW, adopting(_workflows))
)


def _guide(settings: Settings) -> PageApp:
    from apps.guide import GuideApp

    return GuideApp(settings)


register(StudioPage("guide", "Getting started", "flag", Permission.VIEW, adopting(_guide)))


def _help(settings: Settings) -> PageApp:
    from apps.help import HelpApp

    return HelpApp(settings)


def _help_link(app: Any, args: Mapping[str, str]) -> None:
    """`?page=help&topic=review`: that page's help (a missing topic says so)."""
    app.show(args.get("topic", "studio"))


register(StudioPage("help", "Help", "help", Permission.VIEW, adopting(_help), _help_link))
