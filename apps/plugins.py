"""Studio pages from installed packages (PRD-85): each entry point of the group
`trulience.studio_pages` names a `StudioPage` (apps/studio_pages.py), or a function of no
arguments returning one, and the Studio lists it after its own pages. The interface, and an
example package, are in docs/plugins.md and examples/trulience-hello-plugin/.

A plugin that fails (its module does not import, it names no StudioPage, or its page's name
is taken) is skipped and reported with its name and the error: the Studio always starts.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from apps.studio_pages import StudioPage

GROUP = "trulience.studio_pages"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokenPlugin:
    """A plugin skipped: its entry point's name (and value) and why."""

    name: str
    error: str

    def __str__(self) -> str:
        return f"the Studio plugin {self.name!r} was skipped: {self.error}"


def discover(
    pages: Mapping[str, StudioPage], found: Iterable[EntryPoint] | None = None
) -> tuple[dict[str, StudioPage], list[BrokenPlugin]]:
    """`pages` followed by the installed plugins' pages (`found`: the group's entry points
    by default), and the plugins skipped."""
    every = dict(pages)
    broken: list[BrokenPlugin] = []
    for point in entry_points(group=GROUP) if found is None else found:
        label = f"{point.name} ({point.value})"
        try:
            page = _page_of(point)
            if page.name in every:
                raise ValueError(f"a Studio page named {page.name!r} is already registered")
        except Exception as error:  # any plugin's failure is reported, never raised
            problem = BrokenPlugin(label, f"{type(error).__name__}: {error}")
            log.warning("%s", problem)
            broken.append(problem)
            continue
        every[page.name] = page
    return every, broken


def _page_of(point: EntryPoint) -> StudioPage:
    loaded = point.load()
    page = loaded if isinstance(loaded, StudioPage) else loaded() if callable(loaded) else None
    if not isinstance(page, StudioPage):
        raise TypeError(f"it gives {type(page).__name__}, not a StudioPage")
    return page
