"""Node schemas as a worker's /object_info declares them: each node class's inputs (type,
enum options, bounds, upload widgets) and outputs, and the server's rule for which output
type an input accepts."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Config flags of inputs that take an uploaded file: the server validates those itself
# (LoadImage accepts "sub/folder/name.png", which its enum never lists; PROTOCOL section 4).
_UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload", "upload")

PRIMITIVES = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")


@dataclass(frozen=True)
class InputSpec:
    """One declared input: its type ("INT", "IMAGE", "COMBO", ...), enum options if any,
    numeric bounds, and whether the server checks the value itself (upload widgets)."""

    name: str
    type: str
    options: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    upload: bool = False
    multiselect: bool = False

    @classmethod
    def parse(cls, name: str, config: Any) -> "InputSpec":
        """Read either dialect: `[[options...], {...}]` (older nodes) or
        `["COMBO", {"options": [...]}]` (newer node API), and `["INT", {min, max}]`."""
        if isinstance(config, str):
            config = [config]
        if not isinstance(config, list | tuple) or not config:
            return cls(name=name, type="*")
        head = config[0]
        extra = config[1] if len(config) > 1 and isinstance(config[1], dict) else {}
        upload = any(extra.get(flag) for flag in _UPLOAD_FLAGS)
        if isinstance(head, list | tuple):
            return cls(name=name, type="COMBO", options=tuple(head), upload=upload)
        kind = str(head)
        options = None
        if kind == "COMBO":
            options = tuple(extra.get("options") or ())
        return cls(
            name=name,
            type=kind,
            options=options,
            min=number_or_none(extra.get("min")),
            max=number_or_none(extra.get("max")),
            upload=upload,
            multiselect=bool(extra.get("multiselect")),
        )


@dataclass(frozen=True)
class NodeSchema:
    """A node class as /object_info describes it."""

    class_type: str
    required: dict[str, InputSpec]
    optional: dict[str, InputSpec]
    hidden: frozenset[str]
    outputs: tuple[Any, ...]
    output_node: bool

    @classmethod
    def parse(cls, class_type: str, info: Mapping[str, Any]) -> "NodeSchema":
        inputs = info.get("input") or {}

        def specs(section: str) -> dict[str, InputSpec]:
            declared = inputs.get(section) or {}
            return {name: InputSpec.parse(name, conf) for name, conf in declared.items()}

        return cls(
            class_type=class_type,
            required=specs("required"),
            optional=specs("optional"),
            hidden=frozenset(inputs.get("hidden") or {}),
            outputs=tuple(info.get("output") or ()),
            output_node=bool(info.get("output_node")),
        )

    def spec(self, name: str) -> InputSpec | None:
        return self.required.get(name) or self.optional.get(name)


def parse_schemas(object_info: Mapping[str, Any]) -> dict[str, NodeSchema]:
    """Each node class of `object_info` as a NodeSchema."""
    return {
        name: NodeSchema.parse(name, info)
        for name, info in object_info.items()
        if isinstance(info, Mapping)
    }


def types_match(received: Any, spec: InputSpec) -> bool:
    """The server's rule: equal types, "*" on either side, or comma-separated unions that
    share a type; an enum input takes only COMBO (or list) outputs."""
    if received == "*" or spec.type == "*":
        return True
    if spec.type == "COMBO":
        return isinstance(received, list | tuple) or received == "COMBO"
    if not isinstance(received, str):
        return False
    given = {t.strip() for t in received.split(",")}
    wanted = {t.strip() for t in spec.type.split(",")}
    return bool(given & wanted)


def type_name(output_type: Any) -> str:
    return "COMBO" if isinstance(output_type, list | tuple) else str(output_type)


def number_or_none(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
