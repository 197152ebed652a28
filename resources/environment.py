"""Settings from the environment, handed to Dagster so that its UI never shows a secret."""

import os

from dagster import EnvVar


def resolved(value: str | None) -> str | None:
    """A resource field's value: an `EnvVar` read now when the resource is used outside a
    run (the CLI's launches, sensors evaluated by hand), where Dagster has not resolved it."""
    return value.get_value() if isinstance(value, EnvVar) else value


def from_environment(name: str, value: str | None) -> str | EnvVar | None:
    """A setting taken from the environment variable `name`, handed to Dagster as that
    variable: Dagster resolves it when a run starts and shows only its name in the UI, so a
    password in DATABASE_URL or STORAGE_URL never appears there."""
    if value is not None and os.environ.get(name) == value:
        return EnvVar(name)
    return value
