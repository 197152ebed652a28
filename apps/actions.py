"""Running an app's action and turning its refusal into what the user sees, in one place.

Every button or key of an app calls the services, which refuse with a `TrulienceError`. An
`ActionRunner` runs the action and maps the refusal once: a session the service no longer
accepts goes back to the login form (`expired`), a missing permission says "not allowed",
any other refusal is said as the error's own message; an app adds the refusals it answers
itself (such as open notes, which ask before deciding) as `answers`.

The runner knows no widgets: it says things through a `Say` sink, `(message, kind)`, where
`kind` is a Bootstrap alert type. An app hands it `functools.partial(theme.show, box)`;
a plain test hands it a list's append.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from trulience.auth.errors import AuthError, PermissionDenied, SessionRefused
from trulience.errors import TrulienceError

T = TypeVar("T")

Say = Callable[[str, str], None]
"""Where an action's outcome is said: `(message, kind)`, kind a Bootstrap alert type."""

Answer = Callable[[TrulienceError], None]


def refusal(error: TrulienceError) -> str:
    """The text a user sees for a refused action: the domain error's own message."""
    return str(error)


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """An action that ran: what it returned."""

    value: T


class ActionRunner:
    """Runs an app's actions and maps their refusals once (see the module docstring).

    `expired` is told of a session the service refused (`expires`: which refusals mean
    that); `say` is where refusals are said unless a run names its own sink; a refused
    permission is said after `denied`.
    """

    def __init__(
        self,
        expired: Callable[[AuthError], None],
        say: Say,
        *,
        expires: tuple[type[AuthError], ...] = (SessionRefused,),
        denied: str = "not allowed: ",
    ):
        self.expired, self.say = expired, say
        self.expires, self.denied = expires, denied

    def run(
        self,
        action: Callable[[], T],
        say: Say | None = None,
        answers: Mapping[type[TrulienceError], Answer] | None = None,
    ) -> Done[T] | None:
        """Run `action`; `Done(its value)`, or None once its refusal has been dealt with."""
        try:
            return Done(action())
        except TrulienceError as error:
            self.refused(error, say or self.say, answers or {})
            return None

    def refused(
        self, error: TrulienceError, say: Say, answers: Mapping[type[TrulienceError], Answer]
    ) -> None:
        """Deal with one refusal: the app's own answer first, then the studio's rule."""
        for kind, answer in answers.items():
            if isinstance(error, kind):
                answer(error)
                return
        if isinstance(error, self.expires):
            self.expired(error)
        elif isinstance(error, PermissionDenied):
            say(f"{self.denied}{refusal(error)}", "danger")
        else:
            say(refusal(error), "danger")
