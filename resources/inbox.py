"""The inbox folder studios drop characters into, as a Dagster resource."""

from pathlib import Path

from dagster import ConfigurableResource

from trulience.ingest.inbox import SETTLE_SECONDS

# Dagster gives a sensor evaluation 60 s by default; a tick that started importing folders
# after this long leaves the rest for the next tick rather than time out with them all.
TICK_BUDGET_SECONDS = 30.0


class InboxResource(ConfigurableResource):
    """`<path>/<project>/<character-slug>/` folders; refused ones go to `<path>/_rejected/`."""

    path: str
    settle_seconds: float = SETTLE_SECONDS
    tick_budget_seconds: float = TICK_BUDGET_SECONDS

    def directory(self) -> Path:
        path = Path(self.path)
        path.mkdir(parents=True, exist_ok=True)
        return path
