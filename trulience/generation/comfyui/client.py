"""HTTP client for one ComfyUI worker, speaking the protocol as recorded in PROTOCOL.md.

Every failure becomes a domain error: an unreachable or overloaded worker is transient
(WorkerUnavailable), a refused workflow is permanent (WorkflowRejected, with each problem
the server named), and a 200 answer that still lists node errors is a refusal too. Its
answers are the records of answers.py; a refusal's problems are read in refusals.py.
"""

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from trulience.config import mask_secrets
from trulience.generation.comfyui.answers import (
    QueueEntry,
    QueueState,
    Submitted,
)
from trulience.generation.comfyui.api_format import check_api_format
from trulience.generation.comfyui.errors import (
    ComfyUIError,
    OutputMissing,
    RequestRefused,
    WorkerUnavailable,
    WorkflowRejected,
)
from trulience.generation.comfyui.refusals import node_problems, rejection

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class ComfyUIClient:
    """A ComfyUI worker's HTTP API. Sends no Origin header (a loopback server answers 403
    to a foreign Origin)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"a ComfyUI worker URL is http(s)://host:port, got {mask_secrets(base_url)!r}"
            )
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        # what messages, logs and the catalog's last_error show: a worker behind an
        # authenticating proxy has a password in its URL
        self.shown = mask_secrets(self.base_url)
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers.pop("Origin", None)

    def __repr__(self) -> str:
        return f"ComfyUIClient({self.shown!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ComfyUIClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def ws_url(self, client_id: str) -> str:
        """The WebSocket address that streams the runs of prompts posted with `client_id`."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, f"{parts.path}/ws", f"clientId={client_id}", ""))

    # -- plain reads ----------------------------------------------------------------------

    def system_stats(self) -> dict[str, Any]:
        """Versions, RAM and devices (the only place the server states its version)."""
        return self._json("GET", "/system_stats")

    def object_info(self, node_class: str | None = None) -> dict[str, Any]:
        """Node schemas: all, or one class (an unknown class gives `{}`)."""
        path = "/object_info" if node_class is None else f"/object_info/{node_class}"
        return self._json("GET", path)

    def models(self, folder: str | None = None) -> list[str]:
        """The model folder kinds, or the files in one folder."""
        return self._json("GET", "/models" if folder is None else f"/models/{folder}")

    def model_inventory(self, folders: Iterable[str] | None = None) -> dict[str, list[str]]:
        """Folder -> files for every (or the given) model folder, for workflow validation."""
        return {folder: self.models(folder) for folder in folders or self.models()}

    def queue(self) -> QueueState:
        """Running and pending prompts, pending sorted by number (front:true is negative)."""
        raw = self._json("GET", "/queue")
        running = [QueueEntry.parse(e) for e in raw.get("queue_running") or ()]
        pending = [QueueEntry.parse(e) for e in raw.get("queue_pending") or ()]
        return QueueState(tuple(running), tuple(sorted(pending, key=lambda e: e.number)))

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The history entry of a prompt, or None while it has none (not finished, deleted,
        or the server restarted: an unknown id answers 200 `{}`)."""
        raw = self._json("GET", f"/history/{prompt_id}")
        entry = raw.get(prompt_id) if isinstance(raw, dict) else None
        return entry if isinstance(entry, dict) else None

    def view(self, filename: str, subfolder: str = "", type: str = "output") -> bytes:
        """The bytes of a file a node wrote (or an uploaded input)."""
        response = self._request(
            "GET", "/view", params={"filename": filename, "subfolder": subfolder, "type": type}
        )
        return response.content

    def download(self, filename: str, subfolder: str, type: str, destination: str | Path) -> Path:
        """Stream a file from /view to `destination` (videos can be large)."""
        destination = Path(destination)
        response = self._request(
            "GET",
            "/view",
            params={"filename": filename, "subfolder": subfolder, "type": type},
            stream=True,
        )
        try:
            with destination.open("wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    out.write(chunk)
        except requests.RequestException as error:
            raise self._unavailable("GET /view", error) from error
        finally:
            response.close()
        return destination

    # -- writes ---------------------------------------------------------------------------

    def upload_image(
        self,
        data: bytes,
        name: str,
        *,
        subfolder: str = "",
        overwrite: bool = False,
        type: str = "input",
    ) -> str:
        """Upload an image into the worker's input folder and return the name the server
        chose: a clash with different bytes is renamed ("x (1).png"), so always use it."""
        form = {"type": type, "overwrite": "true" if overwrite else "false"}
        if subfolder:
            form["subfolder"] = subfolder
        answer = self._json(
            "POST", "/upload/image", data=form, files={"image": (name, data, "image/png")}
        )
        if not isinstance(answer, dict) or not answer.get("name"):
            raise WorkerUnavailable(
                f"{self.shown}: POST /upload/image answered without a file name: {answer!r}"
            )
        return str(answer["name"])

    def submit(
        self,
        graph: Mapping[str, Any],
        *,
        client_id: str,
        prompt_id: str | None = None,
        extra_data: Mapping[str, Any] | None = None,
        front: bool = False,
    ) -> Submitted:
        """Queue an API-format graph. Raises WorkflowRejected for a 400, and also for a 200
        that lists node errors (the valid part would run alone): that part is cancelled."""
        check_api_format(graph)
        body: dict[str, Any] = {"prompt": dict(graph), "client_id": client_id}
        if prompt_id is not None:
            body["prompt_id"] = prompt_id
        if extra_data:
            body["extra_data"] = dict(extra_data)
        if front:
            body["front"] = True
        response = self._request("POST", "/prompt", json=body, accept=(200, 400))
        answer = _json_body(response)
        if response.status_code == 400:
            raise rejection(answer, response.status_code, graph)
        if not isinstance(answer, dict):
            raise _worker(
                WorkerUnavailable(
                    f"{self.shown}: POST /prompt answered 200 with something that is not "
                    f"a prompt: {response.text[:200]!r}"
                ),
                self.base_url,
            )
        node_errors = answer.get("node_errors") or {}
        accepted_id = str(answer.get("prompt_id") or prompt_id or "")
        if node_errors:
            self._cancel(accepted_id)
            raise WorkflowRejected(
                f"the worker accepted only part of the workflow (prompt {accepted_id}); "
                "that part was cancelled",
                node_problems(node_errors, graph),
                error_type="partial_acceptance",
                prompt_id=accepted_id,
                status=response.status_code,
            )
        if not accepted_id:
            raise WorkerUnavailable(f"{self.shown}: POST /prompt answered without a prompt_id")
        return Submitted(accepted_id, int(answer.get("number") or 0), {})

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt the running prompt (only if it is `prompt_id`, when given); it stops at
        the next node boundary."""
        self._request("POST", "/interrupt", json={"prompt_id": prompt_id} if prompt_id else {})

    def delete_from_queue(self, ids: Iterable[str]) -> None:
        """Remove pending prompts (the running one is left alone: interrupt it)."""
        self._request("POST", "/queue", json={"delete": list(ids)})

    def free(self, unload_models: bool = False, free_memory: bool = False) -> None:
        """Ask the worker to unload models and/or free memory after the current prompt."""
        self._request(
            "POST", "/free", json={"unload_models": unload_models, "free_memory": free_memory}
        )

    def cancel(self, prompt_id: str) -> None:
        """Make sure a prompt will not run to the end: delete it if pending, interrupt it if
        running (in that order, so that it cannot start in between)."""
        self.delete_from_queue([prompt_id])
        self.interrupt(prompt_id)

    def _cancel(self, prompt_id: str) -> None:
        try:
            self.cancel(prompt_id)
        except ComfyUIError as error:
            log.warning("could not cancel prompt %s on %s: %s", prompt_id, self.shown, error)

    # -- plumbing -------------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        answer = _json_body(response)
        if answer is _NOT_JSON:
            raise WorkerUnavailable(
                f"{self.shown}: {method} {path} answered {response.status_code} with "
                f"something that is not JSON: {response.text[:200]!r}"
            )
        return answer

    def _request(
        self,
        method: str,
        path: str,
        *,
        accept: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> requests.Response:
        where = f"{method} {path}"
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout_s, **kwargs
            )
        except requests.RequestException as error:
            raise self._unavailable(where, error) from error
        status = response.status_code
        if status in accept:
            return response
        text = response.text.strip()[:500] if not kwargs.get("stream") else ""
        response.close()
        if status >= 500:
            raise _worker(
                WorkerUnavailable(
                    f"{self.shown}: {where} failed with {status} {response.reason}"
                    + (f": {text}" if text else "")
                ),
                self.base_url,
            )
        if status == 404 and path == "/view":
            params = kwargs.get("params") or {}
            raise _worker(
                OutputMissing(
                    f"{self.shown}: {params.get('type')} file {params.get('filename')!r} "
                    f"in subfolder {params.get('subfolder')!r} is not on the worker (404)"
                ),
                self.base_url,
            )
        reason = _REFUSALS.get(status, "")
        raise _worker(
            RequestRefused(
                f"{self.shown}: {where} was refused with {status} {response.reason}"
                + (f": {text}" if text else "")
                + (f" ({reason})" if reason else ""),
                status=status,
            ),
            self.base_url,
        )

    def _unavailable(self, where: str, error: Exception) -> WorkerUnavailable:
        if isinstance(error, requests.Timeout):
            why = f"no answer within {self.timeout_s:g} s"
        elif isinstance(error, requests.ConnectionError):
            why = "cannot connect (is the worker running?)"
        else:
            why = type(error).__name__
        return _worker(WorkerUnavailable(f"{self.shown}: {where}: {why} ({error})"), self.base_url)


_REFUSALS = {
    400: "the server gives no reason for this one; e.g. an upload subfolder outside input/, "
    "a form without an image, a path with '..' or an unknown type",
    403: "a loopback server refuses requests whose Origin header names another host",
    404: "no such route or file",
}

_NOT_JSON = object()


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _worker(error: ComfyUIError, base_url: str) -> Any:
    error.worker = base_url
    return error
