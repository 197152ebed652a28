"""Reading QA thresholds from settings: a section of a project's or scene type's settings
overrides some fields of a frozen dataclass of limits, and every key, type and value is
checked before it is used. Shared by the source image checks and the segment gates."""

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from trulience.errors import ConfigError


def overrides(
    config: Any,
    record: type,
    section: str,
    *,
    holds: str,
    label: str = "",
    unknown_as: str = "setting",
    integer_unit: str = "",
) -> dict[str, Any]:
    """The checked values of `config` (the `section` object) for the fields of `record`.

    Raises ConfigError naming the key for a section that is not an object, unknown keys
    and wrong types; messages read "<label><section>.<key> ...", "unknown <unknown_as>
    <section>.<key>", "<label><section> must be an object of <holds>"."""
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"{label}{section} must be an object of {holds}, got {type(config).__name__}"
        )
    known = {f.name: f.type for f in fields(record)}
    unknown = sorted(set(config) - set(known))
    if unknown:
        named = ", ".join(f"{section}.{key}" for key in unknown)
        raise ConfigError(f"unknown {unknown_as} {named}; known: {', '.join(known)}")
    return {
        key: _value(f"{label}{section}.{key}", value, known[key], integer_unit)
        for key, value in config.items()
    }


def _value(name: str, value: Any, expected: Any, integer_unit: str) -> bool | int | float | str:
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {type(value).__name__} {value!r}")
        return value
    if expected is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a name, got {type(value).__name__} {value!r}")
        return value
    # bool is an int to Python, but `true` for a pixel or frame count is a typo, not a
    # threshold.
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            unit = f" ({integer_unit})" if integer_unit else ""
            raise ConfigError(
                f"{name} must be an integer{unit}, got {type(value).__name__} {value!r}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)
