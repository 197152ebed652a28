"""Keyboard shortcuts of the review apps, per user (PRD-35, PRD-52).

A user works with a named preset (`default` is the studio's original table) and may rebind
single actions on top of it. The effective table, action → key, is validated as a whole
before anything is stored: every action known, every key one printable character, no key
bound twice, none of the keys the apps reserve. The same table drives every app.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg

from trulience.catalog.shortcuts import store_shortcuts, stored_shortcuts
from trulience.catalog.users import get_user
from trulience.errors import TrulienceError

# Actions the apps offer, and what each does (the words of the legend and the CLI).
ACTIONS: dict[str, str] = {
    "back": "one frame back",
    "forward": "one frame forward",
    "play": "play / pause",
    "approve": "approve the take",
    "reject": "reject the take",
    "flag": "flag the take",
}
DEFAULT_PRESET = "default"
# Preset → action → key. The names are the codes of the `shortcut_presets` lookup table.
PRESETS: dict[str, dict[str, str]] = {
    "default": {
        "back": ",",
        "forward": ".",
        "play": " ",
        "approve": "a",
        "reject": "r",
        "flag": "f",
    },
    # Everything under the left hand, leaving the right on the mouse or pen.
    "left_hand": {
        "back": "a",
        "forward": "d",
        "play": "s",
        "approve": "q",
        "reject": "z",
        "flag": "e",
    },
    # The number pad: step with 4 / 6, play with 0, decide with + - *.
    "numpad": {
        "back": "4",
        "forward": "6",
        "play": "0",
        "approve": "+",
        "reject": "-",
        "flag": "*",
    },
}
HELP_KEY = "?"
# Keys no action may take, and why.
RESERVED: dict[str, str] = {
    HELP_KEY: "it shows and hides the shortcut legend",
    "/": "it opens the browser's quick find",
}
# How a key is written where its character alone would not show, and read back.
KEY_NAMES = {" ": "Space"}
_KEYS_BY_NAME = {name.lower(): key for key, name in KEY_NAMES.items()}


class InvalidShortcuts(TrulienceError):
    """A shortcut table that cannot be used; lists each action or key and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("shortcuts not changed: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class Shortcuts:
    """A user's preset, the actions they rebound, and the resulting action → key table."""

    preset: str
    overrides: dict[str, str]
    table: dict[str, str]


def key_label(key: str) -> str:
    """A key as a person reads it (`Space` for the space bar)."""
    return KEY_NAMES.get(key, key)


def parse_key(text: str) -> str:
    """A key as typed on a command line: its character, or its name (`space`)."""
    return _KEYS_BY_NAME.get(text.strip().lower(), text)


def parse_assignment(text: str) -> tuple[str, str]:
    """`action=key` (the key may be `=` itself, or a name such as `space`)."""
    action, equals, key = text.partition("=")
    if not equals or not action.strip():
        raise InvalidShortcuts([f"{text!r} is not action=key (for example approve=k)"])
    return action.strip(), parse_key(key)


def _preset(name: str) -> dict[str, str]:
    if name not in PRESETS:
        raise InvalidShortcuts(
            [f"unknown preset {name!r}: choose one of {', '.join(sorted(PRESETS))}"]
        )
    return PRESETS[name]


def _key_problem(action: str, key: object) -> str | None:
    if not isinstance(key, str) or len(key) != 1 or not key.isprintable():
        return (
            f"{action}: key {key!r} is not a single printable key "
            f"(one character, or 'space' for the space bar)"
        )
    if key in RESERVED:
        return f"{action}: key {key!r} is reserved: {RESERVED[key]}"
    return None


def effective_table(preset: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """The preset's table with the overrides applied; InvalidShortcuts naming every problem."""
    table = dict(_preset(preset))
    problems = [
        f"unknown action {action!r}: the actions are {', '.join(ACTIONS)}"
        for action in overrides
        if action not in ACTIONS
    ]
    for action, key in overrides.items():
        if action in ACTIONS:
            problem = _key_problem(action, key)
            if problem:
                problems.append(problem)
            else:
                table[action] = key
    holders: dict[str, list[str]] = {}
    for action, key in table.items():
        holders.setdefault(key, []).append(action)
    for key, actions in holders.items():
        if len(actions) > 1:
            problems.append(
                f"key {key_label(key)!r} is bound to {' and '.join(actions)}: "
                f"one key, one action (rebind one of them too)"
            )
    if problems:
        raise InvalidShortcuts(problems)
    return table


def shortcuts_of(conn: psycopg.Connection, user_id: int) -> Shortcuts:
    """A user's stored shortcuts (the default preset if they never chose any)."""
    row = stored_shortcuts(conn, user_id)
    preset, overrides = row if row is not None else (DEFAULT_PRESET, {})
    return Shortcuts(preset, dict(overrides), effective_table(preset, overrides))


def set_shortcuts(
    conn: psycopg.Connection,
    username: str,
    preset: str | None = None,
    assignments: Mapping[str, str] | None = None,
    reset: bool = False,
) -> Shortcuts:
    """Change a user's shortcuts (a trusted operation, like the other account changes):
    `reset` first goes back to the default preset with no overrides, then `preset` is
    chosen (keeping earlier overrides), then `assignments` rebind actions. The whole
    result is validated before it is written; a refused change leaves the stored one."""
    user = get_user(conn, username)
    current = shortcuts_of(conn, user.id)
    chosen = DEFAULT_PRESET if reset else current.preset
    overrides = {} if reset else dict(current.overrides)
    if preset is not None:
        chosen = preset
    overrides.update(assignments or {})
    table = effective_table(chosen, overrides)
    # an override equal to the preset's own key is no override
    overrides = {a: k for a, k in overrides.items() if PRESETS[chosen][a] != k}
    store_shortcuts(conn, user.id, chosen, overrides)
    return Shortcuts(chosen, overrides, table)
