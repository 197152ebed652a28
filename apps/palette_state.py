"""The Studio's command palette, apart from its view (PRD-31): what the user typed, what it
finds (characters, takes, scene types, workflows, projects from the catalog's one search,
`trulience.catalog.search.palette_search`, and the actions the user's role may run), ranked
best first, the one highlighted, and what Enter does with it.

Plain Python drives it as the browser does (tests/test_palette_state.py): `type(text)`,
`move(+1 / -1)`, `choose()`. A character opens the character page
(`?page=character&character=SLUG`) when one is registered, else the review queue filtered to
that character (said); a take opens in review (`?page=review&take=ID`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import param

from apps.studio_state import StudioSession
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, allows, require
from trulience.catalog.database import connect
from trulience.catalog.search import PaletteHit, palette_search, palette_words
from trulience.errors import TrulienceError

# At most this many choices are shown; the catalog is asked for this many of each kind.
SHOWN, PER_KIND = 12, 8
# A query longer than this is cut (a paste of a page of text is still safe).
LONGEST = 200
# Ties in the ranking go to the kind one opens most.
KIND_WEIGHT = {"character": 5, "action": 4, "take": 3, "scene type": 2, "project": 1}
# The page each kind opens when it is registered, and the argument naming the thing.
PAGE_OF = {
    "character": ("character", "character"),
    "scene type": ("scene-types", "scene_type"),
    "workflow": ("workflows", "workflow"),
    "project": ("projects", "project"),
}


@dataclass(frozen=True, slots=True)
class Choice:
    """One line of the palette: its kind, key, title, a line about it and its score."""

    kind: str
    key: str
    title: str
    detail: str
    score: float
    run: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def as_row(self) -> dict[str, str]:
        """What the browser shows of it."""
        return {"kind": self.kind, "key": self.key, "title": self.title, "detail": self.detail}


def text_score(title: str, words: list[str], phrase: str) -> float | None:
    """How well `title` answers the query (None: not at all): the whole title, its start,
    every word a prefix of one of its words, or the letters in order (fuzzy)."""
    low = title.lower()
    if not phrase:
        return 10.0
    if low == phrase:
        return 100.0
    if low.startswith(phrase):
        return 80.0
    title_words = low.replace("-", " ").replace("·", " ").split()
    if words and all(any(t.startswith(w) for t in title_words) for w in words):
        return 60.0
    letters = iter(low)
    if all(ch in letters for ch in phrase.replace(" ", "")):
        return 20.0
    return None


class PaletteState(param.Parameterized):
    """The palette of one Studio session (see the module docstring)."""

    showing = param.Boolean(False, doc="Whether the palette is open.")
    query = param.String("", doc="What the user typed (cut to LONGEST characters).")
    choices = param.List([], item_type=Choice)
    selected = param.Integer(0, doc="The highlighted choice's index.")

    def __init__(self, studio: StudioSession, **params):
        super().__init__(**params)
        self.studio = studio

    # -- what there is ------------------------------------------------------------------

    def actions(self) -> list[Choice]:
        """What the signed-in user may run from the palette: open each page their role may
        open, the producer's and operator's tasks (by the page doing them), the help, the
        theme, log out."""
        studio = self.studio
        user = studio.user
        if user is None:
            return []
        found: list[Choice] = []

        def add(key: str, title: str, detail: str, run: Callable[[], None]) -> None:
            found.append(Choice("action", key, title, detail, 0.0, run))

        for name in studio.allowed:
            page = studio.registry[name]
            add(f"open:{name}", f"Open {page.title}", "page", lambda n=name: studio.open(n))
        tasks = [
            ("reorder", "Reorder the segment queue", "queue", Permission.REQUEST_REGENERATION),
            ("pause", "Pause or resume a take", "queue", Permission.REQUEST_REGENERATION),
            ("assign", "Assign reviews", "review", Permission.ASSIGN_REVIEWS),
            ("drain", "Drain or interrupt a worker", "queue", Permission.OPERATE_WORKERS),
        ]
        for key, title, page, permission in tasks:
            if allows(user, permission) and page in studio.allowed:
                add(f"task:{key}", title, f"on the {page} page", lambda p=page: studio.open(p))
        if "help" in studio.allowed:
            here = studio.page
            add(
                "help:page",
                "Help on this page",
                here,
                lambda: studio.open("help", {"topic": here}),
            )
            add("help:studio", "Help on the Studio", "studio", lambda: studio.open("help"))
        other = "light" if studio.theme == "dark" else "dark"
        add("theme", f"Switch to the {other} theme", "theme", lambda: studio.choose_theme(other))
        add("logout", "Log out", user.username, studio.login.log_out)
        return found

    def search(self, text: str) -> list[Choice]:
        """The choices answering `text`, best first (the catalog's one query, and actions)."""
        text = text[:LONGEST]
        words = palette_words(text)
        phrase = " ".join(text.lower().split())
        hits = self._hits(text) if words else []
        ranked: list[Choice] = []
        for action in self.actions():
            score = text_score(action.title, words, phrase)
            if score is not None:
                ranked.append(action_scored(action, score + KIND_WEIGHT["action"]))
        seen: set[tuple[str, str]] = set()
        for hit in hits:
            if (hit.kind, hit.key) in seen:
                continue
            seen.add((hit.kind, hit.key))
            by_title = text_score(hit.title, words, phrase)
            score = (40.0 if by_title is None else by_title) + KIND_WEIGHT.get(hit.kind, 0)
            ranked.append(Choice(hit.kind, hit.key, hit.title, hit.detail, score + hit.rank))
        ranked.sort(key=lambda c: (-c.score, c.title.lower(), c.key))
        return ranked[:SHOWN]

    def _hits(self, text: str) -> list[PaletteHit]:
        token = self.studio.token
        if token is None:
            return []
        try:
            with connect(self.studio.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                return palette_search(conn, text, PER_KIND)
        except AuthError as refused:
            self.studio.login.expired(refused)
        except TrulienceError as error:
            self.studio.say(str(error), "danger")
        return []

    # -- what the browser does -------------------------------------------------------------

    def show(self) -> None:
        """Ctrl/Cmd+K: open the palette, empty, listing the actions."""
        self.param.update(showing=True, query="")
        self.type("")

    def hide(self) -> None:
        """Esc: close it."""
        self.showing = False

    def type(self, text: str) -> None:
        """The user typed: search again, highlight the first."""
        text = text[:LONGEST]
        self.param.update(query=text, choices=self.search(text), selected=0)

    def move(self, delta: int) -> None:
        """Up / down: highlight the previous / next choice (wrapping round)."""
        if self.choices:
            self.selected = (self.selected + delta) % len(self.choices)

    def choose(self, index: int | None = None) -> Choice | None:
        """Enter (or a click on choice `index`): open or run it, close the palette."""
        at = self.selected if index is None else index
        if not 0 <= at < len(self.choices):
            return None
        choice = self.choices[at]
        self.showing = False
        if choice.run is not None:
            choice.run()
        else:
            self._open(choice)
        return choice

    def _open(self, choice: Choice) -> None:
        studio = self.studio
        if choice.kind == "take":
            studio.open("review", {"take": choice.key})
            return
        page, argument = PAGE_OF.get(choice.kind, ("", ""))
        if page in studio.allowed:
            studio.open(page, {argument: choice.key})
        elif choice.kind in ("character", "project") and "review" in studio.allowed:
            self._review_filtered(choice)
        else:
            studio.say(f"no Studio page shows a {choice.kind} yet ({choice.title})", "info")

    def _review_filtered(self, choice: Choice) -> None:
        """No character (project) page yet: the review queue filtered to it, said so."""
        app = self.studio.open("review")
        session = getattr(app, "session", None)
        if session is None:
            return
        name = "character" if choice.kind == "character" else "project"
        known = session.characters if name == "character" else session.projects
        if choice.key in known:
            setattr(session, name, choice.key)
            said = f"the review queue of {choice.kind} {choice.title} (no {name} page yet)"
            self.studio.say(said, "info")
        else:
            self.studio.say(f"{choice.title}: no take of this {choice.kind} to review", "info")


def action_scored(action: Choice, score: float) -> Choice:
    """`action` with its score for this query."""
    return Choice(action.kind, action.key, action.title, action.detail, score, action.run)
