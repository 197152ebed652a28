"""The workflows page's session state, apart from its views (PRD-33): the registered
workflows, the one opened (name and version) drawn as a node graph with our slots, its
models and its problems on their nodes; "Check on a worker" validates it against an online
worker's /object_info and model lists (without one, the slots and registration warnings
are still checked).

Plain Python drives it as the page does (tests/test_authoring_state.py): sign in through
`login`, `open(name, version)`, `check(object_info, models)` or `check_on_worker()`.
The page only reads: a viewer sees what a producer sees.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import param
import psycopg

from apps.actions import ActionRunner
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience.auth import users as accounts
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User, Workflow
from trulience.catalog.workers import list_workers
from trulience.catalog.workflows import get_workflow, list_workflows, workflow_warnings
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.workflow_graph import WorkflowGraph, build_graph, graph_problems

T = TypeVar("T")


class WorkflowsSession(Says):
    """One browser session of the workflows page; reads nothing until a login with view."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    names = param.Dict(default={}, doc="Workflow name -> its version numbers, oldest first.")
    workflow = param.ClassSelector(class_=Workflow, default=None, allow_None=True)
    graph = param.ClassSelector(class_=WorkflowGraph, default=None, allow_None=True)
    warnings = param.List(default=[], doc="What registering the version warned about.")
    checked_on = param.String(default=None, allow_None=True, doc="The worker checked against.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.login = Login(
            self.url, "workflows", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.runner = ActionRunner(self.login.expired, self.say)

    def _signed_in(self, signed_in: SignedIn) -> None:
        self.user = signed_in.user
        self.read()

    def _signed_out(self) -> None:
        self.param.update(user=None, workflow=None, graph=None, names={}, warnings=[])

    def _viewing(self, read: Callable[[psycopg.Connection], T]) -> T | None:
        """`read` while this session may view; None once refused (the refusal is said)."""
        token = self.login.token
        if token is None:
            return None

        def checked() -> T:
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                return read(conn)

        done = self.runner.run(checked)
        return None if done is None else done.value

    def read(self) -> None:
        """Re-read the registered workflows (the opened one stays as drawn)."""
        found = self._viewing(list_workflows)
        if found is None:
            return
        names: dict[str, list[int]] = {}
        for w in found:
            names.setdefault(w.name, []).append(w.version)
        self.names = names

    def open(self, name: str, version: int | None = None) -> None:
        """Draw workflow `name` (its `version`, or the newest) with its slots and the
        problems found without a worker."""
        found = self._viewing(
            lambda conn: (
                (w := get_workflow(conn, name, version)),
                workflow_warnings(conn, w.id),
            )
        )
        if found is None:
            return
        workflow, warnings = found
        self.param.update(workflow=workflow, warnings=warnings, checked_on=None)
        self.check()

    def check(
        self,
        object_info: Mapping[str, Any] | None = None,
        models: Mapping[str, Iterable[str]] | None = None,
        worker: str | None = None,
    ) -> None:
        """Redraw the opened workflow with its problems: validation against `object_info`
        (and `models`) when given, its slots and registration warnings always."""
        workflow = self.workflow
        if workflow is None:
            return
        problems = graph_problems(workflow.graph, workflow.slots, object_info, models)
        self.param.update(
            graph=build_graph(workflow.graph, workflow.slots, problems), checked_on=worker
        )
        errors = sum(p.severity == "error" for p in problems)
        if worker is not None:
            kind = "danger" if errors else "success"
            self.say(
                f"checked on {worker}: {errors} error(s), {len(problems) - errors} warning(s)", kind
            )

    def check_on_worker(self) -> None:
        """Validate the opened workflow against the first online worker's catalogue."""
        online = self._viewing(lambda conn: [w for w in list_workers(conn) if w.state == "online"])
        if online is None or self.workflow is None:
            return
        if not online:
            self.say("no worker is online to check the workflow against", "warning")
            return
        worker = online[0]
        try:
            with ComfyUIClient(worker.url) as client:
                object_info, models = client.object_info(), client.model_inventory()
        except (TrulienceError, OSError) as exc:
            self.say(f"worker {worker.name} did not answer: {exc}", "danger")
            return
        self.check(object_info, models, worker.name)
