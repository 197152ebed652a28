"""The inbox folder studios drop characters into, as a Dagster resource."""

from pathlib import Path

from dagster import ConfigurableResource

from trulience.ingest.inbox import SETTLE_SECONDS


class InboxResource(ConfigurableResource):
    """`<path>/<project>/<character-slug>/` folders; refused ones go to `<path>/_rejected/`."""

    path: str
    settle_seconds: float = SETTLE_SECONDS

    def directory(self) -> Path:
        path = Path(self.path)
        path.mkdir(parents=True, exist_ok=True)
        return path
