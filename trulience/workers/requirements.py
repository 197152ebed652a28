"""What a segment needs of a worker: the node classes of its workflow and the model files
its loaders name, and what a worker lacks of them (from its own health check)."""

from dataclasses import dataclass, field

from trulience.generation.comfyui.models import extract_models, looks_like_model, normalise


@dataclass(frozen=True)
class Requirements:
    """What a workflow needs of a worker: node classes, and model files per folder."""

    node_classes: frozenset[str] = frozenset()
    models: dict[str, frozenset[str]] = field(default_factory=dict)

    def to_data(self) -> dict:
        """As stored with a queued request."""
        return {
            "node_classes": sorted(self.node_classes),
            "models": {folder: sorted(files) for folder, files in sorted(self.models.items())},
        }

    @classmethod
    def from_data(cls, data: dict) -> "Requirements":
        return cls(
            frozenset(data.get("node_classes", [])),
            {folder: frozenset(files) for folder, files in data.get("models", {}).items()},
        )

    @classmethod
    def of_workflow(cls, graph: dict | None) -> "Requirements":
        """What running `graph` needs: its node classes, and the model files its loaders
        name (by folder). A file of unknown folder, or a value that is no file (VAELoader's
        "pixel_space", "taesd"), is left to the worker's own validation."""
        nodes = (graph or {}).values()
        models: dict[str, set[str]] = {}
        for ref in extract_models(graph or {}, {}):
            if ref.folder and looks_like_model(ref.filename):
                models.setdefault(ref.folder, set()).add(ref.filename)
        return cls(
            frozenset(
                n["class_type"] for n in nodes if isinstance(n, dict) and n.get("class_type")
            ),
            {folder: frozenset(files) for folder, files in models.items()},
        )

    def met_by(self, capabilities: dict) -> list[str]:
        """What the worker lacks (empty when it can run the workflow)."""
        missing = sorted(self.node_classes - set(capabilities.get("node_classes", [])))
        lacks = [f"node {name}" for name in missing]
        for folder, files in self.models.items():
            have = {normalise(f) for f in capabilities.get("models", {}).get(folder, [])}
            lacks += [f"model {folder}/{f}" for f in sorted(files - have)]
        return lacks
