"""The data maintenance page's session state, apart from its views (PRD-18): search/replace
in character metadata and repathing storage URIs in bulk. Each is a dry run first (the report
shown: before → after per character and field; rows per table and missing files), then
Confirm applies exactly what was previewed, in one transaction audited under the user.

Plain Python drives it as the page does (tests/test_maintenance_state.py; the services are
tested in tests/test_data_maintenance.py): `preview_replace(...)` or `preview_repath(...)`,
then `confirm()`. A new preview replaces the last one; Confirm applies only the last.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

import param

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience.auth.acting import actor_name
from trulience.auth.permissions import Permission, allows
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.config import Settings
from trulience.maintenance.repath import repath
from trulience.maintenance.replace import replace_in_metadata


class MaintenanceSession(Says):
    """One browser session of the maintenance page: preview, then confirm."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    may_maintain = param.Boolean(default=False, doc="Whether the user may edit the library.")
    pending = param.Selector(objects=[None, "replace", "repath"], default=None, allow_None=True)
    report = param.List(default=[], item_type=str, doc="The last dry run's (or apply's) lines.")
    blocked = param.Boolean(default=False, doc="The previewed repath misses files.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.storage_options = settings.storage_options
        self._apply: Callable[[], Any] | None = None
        self.login = Login(
            self.url, "maintenance", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.runner = ActionRunner(self.login.expired, self.say)

    def _signed_in(self, signed_in: SignedIn) -> None:
        user = signed_in.user
        self.param.update(user=user, may_maintain=allows(user, Permission.MANAGE_CHARACTERS))

    def _signed_out(self) -> None:
        self.forget()
        self.param.update(user=None, may_maintain=False)

    def forget(self) -> None:
        """Drop the preview (the form changed, or the user left)."""
        self._apply = None
        self.param.update(pending=None, report=[], blocked=False)

    def _as_user(self, action: Callable[..., Any]) -> Any:
        """`action(conn, actor)` on a connection as the signed-in user, who must be allowed
        to edit the library; None once refused (the refusal is said)."""
        token = self.login.token
        if token is None:
            return None

        def run() -> Any:
            with connect(self.url) as conn:
                actor = actor_name(conn, token, Permission.MANAGE_CHARACTERS)
            with connect(self.url, actor=actor) as conn:
                return action(conn, actor)

        done = self.runner.run(run)
        return None if done is None else done.value

    # -- search / replace ------------------------------------------------------------------

    def preview_replace(
        self,
        find: str,
        replace: str,
        field: str = "",
        regex: bool = False,
        project: str = "",
    ) -> None:
        """The dry run of replacing `find` by `replace` (in `field`, or every field)."""
        self.forget()
        chosen = {
            "find": find,
            "replace": replace,
            "field_name": field.strip() or None,
            "regex": regex,
            "project": project.strip() or None,
        }
        report = self._as_user(
            lambda conn, actor: replace_in_metadata(conn, actor=actor, dry_run=True, **chosen)
        )
        if report is None:
            return
        self._apply = partial(
            self._as_user, lambda conn, actor: replace_in_metadata(conn, actor=actor, **chosen)
        )
        self.param.update(pending="replace", report=report.lines())
        self.hush()

    # -- repath ---------------------------------------------------------------------------

    def preview_repath(self, old: str, new: str, allow_missing: bool = False) -> None:
        """The dry run of rewriting URIs under `old` to `new`: rows per table, missing files."""
        self.forget()
        options = self.storage_options
        report = self._as_user(
            lambda conn, actor: repath(conn, old, new, actor, True, storage_options=options)
        )
        if report is None:
            return
        self._apply = partial(
            self._as_user,
            lambda conn, actor: repath(conn, old, new, actor, False, allow_missing, options),
        )
        self.param.update(
            pending="repath",
            report=report.lines(),
            blocked=bool(report.missing) and not allow_missing,
        )
        if self.blocked:
            self.say(
                f"{len(report.missing)} file(s) missing at the new place: Confirm is refused "
                "unless 'allow missing' is ticked",
                "warning",
            )
        else:
            self.hush()

    # -- confirm --------------------------------------------------------------------------

    def confirm(self) -> None:
        """Apply what was previewed, once."""
        if self._apply is None:
            self.say("preview first: Confirm applies the dry run shown", "warning")
            return
        apply, kind = self._apply, self.pending
        report = apply()
        if report is None:
            return
        self._apply = None
        self.param.update(pending=None, report=report.lines(), blocked=False)
        self.say(f"{kind} applied", "success")
