"""`trulience`: the command line for operators and producers.

One module per noun, each with its COMMANDS (name -> click command or group); this group is
built from them, as Dagster's own CLI is. A command parses, calls one core function (or the
Dagster shell, through pipeline.py only) and prints. What commands share (settings, actor,
catalog connection, take arguments, error mapping) is in common.py."""

import click

from trulience.cli import (
    batches,
    chains,
    characters,
    db,
    dev,
    edits,
    hooks,
    imports,
    lake,
    library,
    models,
    notebooks,
    notes,
    projects,
    queue,
    scene_types,
    shares,
    storage,
    takes,
    users,
    workers,
    workflows,
)
from trulience.cli.common import Commands

NOUNS = {
    "db": db,
    "projects": projects,
    "characters": characters,
    "scene_types": scene_types,
    "workflows": workflows,
    "workers": workers,
    "queue": queue,
    "models": models,
    "users": users,
    "takes": takes,
    "shares": shares,
    "imports": imports,
    "library": library,
    "lake": lake,
    "storage": storage,
    "batches": batches,
    "dev": dev,
    "notebooks": notebooks,
    "notes": notes,
    "hooks": hooks,
    "chains": chains,
    "edits": edits,
}


def _commands() -> dict[str, click.Command]:
    commands: dict[str, click.Command] = {}
    for noun, module in NOUNS.items():
        for name, command in module.COMMANDS.items():
            if name in commands:
                raise RuntimeError(f"the command {name!r} of {noun} is already taken")
            commands[name] = command
    return commands


@click.group(cls=Commands, commands=_commands())
def main() -> None:
    """Trulience Studio: character library, scene generation, review and delivery."""
