"""Checks of a literal input value against its declared input: numbers and their bounds,
enum options, and model files against the worker's inventory."""

import math
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.errors import Problem
from trulience.generation.comfyui.models import looks_like_model, model_folder, normalise
from trulience.generation.comfyui.schemas import PRIMITIVES, InputSpec


@dataclass(frozen=True)
class ValueCheck:
    """One literal value given to a declared input of a node."""

    node_id: str
    class_type: str
    spec: InputSpec
    value: Any

    def problems(self, inventory: dict[str, set[str]], have_inventory: bool) -> list[Problem]:
        """What the worker would refuse (or silently change) in this value; `inventory` maps
        a model folder to the worker's files, when `have_inventory`."""
        kind = self.spec.type
        if kind in ("INT", "FLOAT"):
            return self.number_problems()
        if kind == "COMBO":
            return self.combo_problems(inventory, have_inventory)
        if kind in ("STRING", "BOOLEAN") or kind in PRIMITIVES:
            return []
        return self.problem(
            "link_required",
            f"{kind} comes from another node: link it as [node_id, output_index], "
            f"got the literal {self.value!r}",
        )

    def problem(self, kind: str, message: str, severity: str = "error") -> list[Problem]:
        return [
            Problem(
                self.node_id,
                self.class_type,
                self.spec.name,
                kind,
                message,
                severity=severity,
                details={"received_value": self.value},
            )
        ]

    def number_problems(self) -> list[Problem]:
        """An INT or FLOAT: a number (or numeric text), whole for INT, within its bounds."""
        spec, value = self.spec, self.value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return self.problem(
                "invalid_input_type", f"expects {spec.type}, got {type(value).__name__} {value!r}"
            )
        try:
            number = int(value) if spec.type == "INT" else float(value)
        except (TypeError, ValueError):
            return self.problem("invalid_input_type", f"expects {spec.type}, got {value!r}")
        found = []
        if spec.type == "INT" and isinstance(value, float) and value != number:
            found += self.problem(
                "int_given_float",
                f"expects INT, got {value!r}; the worker truncates it to {number}",
                severity="warning",
            )
        if spec.type == "FLOAT" and not math.isfinite(number):
            return self.problem("invalid_input_type", f"expects a finite number, got {value!r}")
        if spec.min is not None and number < spec.min:
            found += self.problem(
                "value_smaller_than_min", f"value {value!r} is below the minimum {spec.min:g}"
            )
        if spec.max is not None and number > spec.max:
            found += self.problem(
                "value_bigger_than_max", f"value {value!r} is above the maximum {spec.max:g}"
            )
        return found

    def combo_problems(self, inventory: dict[str, set[str]], have_inventory: bool) -> list[Problem]:
        """An enum: one of its options, or (a model input) a file the worker has."""
        spec, value = self.spec, self.value
        if spec.upload:
            return []  # the server resolves uploaded-file names itself (subfolders, [input])
        folder = model_folder(spec, self.class_type, value)
        if folder is not None or (isinstance(value, str) and looks_like_model(value)):
            if have_inventory:
                return self.model_problems(folder, inventory)
            if spec.options is not None and value not in spec.options:
                return self.problem(
                    "missing_model",
                    f"model file {value!r} is not on the worker; it has {_some(spec.options)}",
                )
            return []
        if spec.options is not None and value not in spec.options:
            return self.problem(
                "value_not_in_list", f"{value!r} is not one of {_some(spec.options)}"
            )
        return []

    def model_problems(self, folder: str | None, inventory: dict[str, set[str]]) -> list[Problem]:
        """A model file: in its folder of the worker's inventory (any folder if unknown)."""
        # a folder the caller did not list, or none known: search them all
        files = inventory[folder] if folder in inventory else set().union(*inventory.values())
        if normalise(self.value) not in files:
            where = f"models/{folder}" if folder else "any model folder"
            return self.problem(
                "missing_model",
                f"model file {self.value!r} is not on the worker (not in {where})",
            )
        return []


def _some(options: tuple[Any, ...], limit: int = 8) -> str:
    if not options:
        return "no options at all"
    shown = ", ".join(repr(o) for o in options[:limit])
    more = f" and {len(options) - limit} more" if len(options) > limit else ""
    return f"[{shown}{more}]"
