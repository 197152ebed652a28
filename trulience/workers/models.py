"""Models and LoRAs (PRD-104): registered in the catalog with their kind (a ComfyUI model
folder), sha256, size and source, kept in our storage, and installed on a worker host by
`sync_models` into ComfyUI's folders (DIR/models/<kind>/<name>), every copy proved by its
checksum before it takes the file's name.

Policy lives here; trulience/catalog/models.py runs the statements. Which worker has which
file is what its health check lists (trulience/workers/health.py); the pool routes on it.
"""

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from trulience.catalog import models as catalog
from trulience.catalog.errors import AlreadyExists, InvalidValue
from trulience.catalog.models import Model
from trulience.catalog.workflows import get_workflow, workflow_models
from trulience.errors import InvalidStorageKey, StorageError, TrulienceError
from trulience.generation.comfyui.models import MODEL_EXTENSIONS
from trulience.generation.scene_config import resolve
from trulience.library import file_sha256
from trulience.local_files import NotARegularFile
from trulience.storage import Storage, check_key, storage_key

_CHUNK = 1 << 20
# ComfyUI lists a folder's files only when their extension is the folder's
# (folder_paths.folder_names_and_paths): configs hold YAML, every other kind model weights
# (its supported_pt_extensions, with GGUF and ONNX that common custom loaders list).
# classifiers hold files without an extension.
_EXTENSIONS = {"configs": (".yaml",), "classifiers": ("",)}
_PARTIAL = ".partial-"  # an unfinished download: no model extension, so ComfyUI lists none


class SameContent(AlreadyExists):
    """The file's very bytes are registered already, under another name or kind."""

    def __init__(self, sha256: str, registered_as: str):
        super().__init__("model", "sha256", sha256)
        self.registered_as = registered_as
        self.args = (f"model content (sha256 {sha256}) is registered already, as {registered_as}",)


class ModelInUse(TrulienceError):
    """A model that a registered workflow version still loads cannot be removed."""


@dataclass(frozen=True)
class Synced:
    """What sync did with one model on this host: installed, present (a correct copy was
    there already), replaced (the copy there was corrupt) or refused (our stored object is
    missing or corrupt: nothing is installed under its name)."""

    model: Model
    outcome: str
    path: Path
    detail: str = ""

    def describe(self) -> str:
        text = f"{self.model.ref}: {self.outcome}"
        return text + (f" - {self.detail}" if self.detail else "")


def resolve_kind(conn: psycopg.Connection, kind: str) -> str:
    """The ComfyUI folder a kind names ("loras"; "lora" is taken as "loras"), or an error
    naming the kind and the folders there are."""
    kinds = catalog.model_kinds(conn)
    if kind in kinds:
        return kind
    if f"{kind}s" in kinds:
        return f"{kind}s"
    raise InvalidValue(
        "model", "kind", kind, "is not a ComfyUI model folder; one of: " + ", ".join(kinds)
    )


def check_name(kind: str, name: str) -> str:
    """A model's file name inside its folder: relative (subfolders allowed), with an
    extension ComfyUI lists for that kind."""
    try:
        check_key(name)
    except InvalidStorageKey as exc:
        reason = f"must be a file in models/{kind}: {exc}"
        raise InvalidValue("model", "name", name, reason) from exc
    extensions = _EXTENSIONS.get(kind, MODEL_EXTENSIONS)
    if os.path.splitext(name)[1].lower() not in extensions:
        endings = ", ".join(e or "no extension" for e in extensions)
        raise InvalidValue(
            "model",
            "name",
            name,
            f"is no model file ComfyUI lists in models/{kind}; the name ends with {endings}",
        )
    return name


def parse_ref(conn: psycopg.Connection, ref: str) -> tuple[str, str]:
    """'kind/name' (as `models list` shows it) -> (kind, name)."""
    kind, sep, name = ref.partition("/")
    if not sep or not name:
        raise InvalidValue("model", "reference", ref, "must be KIND/NAME, e.g. loras/x.safetensors")
    return resolve_kind(conn, kind), name


def add_model(
    conn: psycopg.Connection,
    storage: Storage,
    path: str | os.PathLike,
    kind: str,
    *,
    source: str = "",
    name: str | None = None,
) -> Model:
    """Store a model file (hashed while it streams to storage) and register it; a name or
    content already registered is refused, and nothing is left stored or written then."""
    kind = resolve_kind(conn, kind)
    name = check_name(kind, name if name is not None else Path(path).name)
    if catalog.find_model(conn, kind, name) is not None:
        raise AlreadyExists("model", "kind/name", f"{kind}/{name}")
    # A key of its own per upload: refusing this one (or losing a race with another add of
    # the same name) deletes only what this call stored.
    key = storage_key("models", kind, uuid.uuid4().hex, *name.split("/"))
    stored = storage.put_file(key, path)
    try:
        if stored.size == 0:
            raise InvalidValue("model", "file", str(path), "is empty; an empty file is no model")
        twin = catalog.model_with_sha256(conn, stored.sha256)
        if twin is not None:
            raise SameContent(stored.sha256, twin.ref)
        sha, size, uri = stored.sha256, stored.size, stored.uri
        return catalog.insert_model(conn, kind, name, sha, size, source, uri)
    except BaseException:
        storage.delete(key)
        raise


def list_models(conn: psycopg.Connection, kind: str | None = None) -> list[Model]:
    return catalog.list_models(conn, resolve_kind(conn, kind) if kind else None)


def where_models_are(conn: psycopg.Connection) -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> the workers that have the file, as their last health check found."""
    return catalog.workers_having(conn)


@dataclass(frozen=True)
class Need:
    """A model file a scene type's workflow loads: registered (so sync installs it) or not,
    and the workers that have it now."""

    kind: str
    name: str
    registered: Model | None
    workers: list[str]

    def describe(self) -> str:
        state = "registered" if self.registered else "NOT REGISTERED (`trulience models add`)"
        on = ", ".join(self.workers) or "no worker"
        return f"{self.kind}/{self.name}: {state}; on: {on}"


def needed_by_scene_type(conn: psycopg.Connection, slug: str) -> tuple[str, list[Need]]:
    """The workflow version a scene type generates with ('name vN') and the model files it
    loads, each with whether it is registered and where it is."""
    config = resolve(conn, slug)
    if not config.workflow:
        return "no workflow (the local preview backend)", []
    workflow = get_workflow(conn, config.workflow, config.workflow_version)
    where = catalog.workers_having(conn)
    needs = [
        Need(kind, name, catalog.find_model(conn, kind, name), where.get((kind, name), []))
        for kind, name in workflow_models(conn, workflow.id)
    ]
    return f"{workflow.name} v{workflow.version}", needs


def loaded_by(conn: psycopg.Connection, model: Model) -> list[str]:
    """The workflow versions ('name vN') whose loaders name this model."""
    return catalog.workflows_loading(conn, model.kind, model.name)


def remove_model(conn: psycopg.Connection, storage: Storage, ref: str) -> Model:
    """Forget a model and delete its stored object; refused while a workflow version
    loads it (the versions named)."""
    kind, name = parse_ref(conn, ref)
    model = catalog.get_model(conn, kind, name)
    users = loaded_by(conn, model)
    if users:
        raise ModelInUse(
            f"model {model.ref} is loaded by workflow {', '.join(users)}; "
            "it stays until no registered workflow version loads it"
        )
    catalog.delete_model(conn, model.id)
    # The row goes first: a stored object nobody names is harmless, a row naming a deleted
    # object is not.
    storage.delete(storage.key_of(model.uri))
    return model


def sync_models(
    conn: psycopg.Connection,
    storage: Storage,
    comfyui_root: str | os.PathLike,
    kinds: Iterable[str] = (),
) -> list[Synced]:
    """Install every registered model (of `kinds`, when given) into ComfyUI's model folders
    under `comfyui_root`, each one verified against its sha256."""
    models_dir = Path(comfyui_root) / "models"
    if not models_dir.is_dir():
        raise InvalidValue(
            "sync",
            "comfyui root",
            str(comfyui_root),
            "has no models/ folder; give the folder ComfyUI runs from",
        )
    wanted = {resolve_kind(conn, k) for k in kinds}
    return [
        sync_model(storage, model, models_dir)
        for model in catalog.list_models(conn)
        if not wanted or model.kind in wanted
    ]


def sync_model(storage: Storage, model: Model, models_dir: Path) -> Synced:
    """Make models_dir/<kind>/<name> a verified copy of the stored model."""
    target = models_dir / model.kind / model.name
    replaced = ""
    if target.exists() or target.is_symlink():
        try:
            found = file_sha256(target)
        except NotARegularFile as exc:  # a link or a folder there is someone's: left alone
            return Synced(model, "refused", target, f"{exc}; left alone")
        if found == model.sha256:
            return Synced(model, "present", target)
        replaced = f"the copy there had sha256 {found}, not {model.sha256}"
    try:
        _install(storage, model, target)
    except _CorruptObject as exc:
        detail = str(exc)
        if replaced:  # the wrong file must not stay under the model's name either
            target.unlink()
            detail += f"; {replaced} and was removed"
        return Synced(model, "refused", target, detail)
    return Synced(model, "replaced" if replaced else "installed", target, replaced)


class _CorruptObject(Exception):
    pass


def _install(storage: Storage, model: Model, target: Path) -> None:
    """Download to a partial file beside the target, verify, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f"{_PARTIAL}{uuid.uuid4().hex}"
    digest, size = hashlib.sha256(), 0
    try:
        try:
            with storage.open(storage.key_of(model.uri)) as source, open(partial, "wb") as out:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except StorageError as exc:
            raise _CorruptObject(f"stored object {model.uri} cannot be read: {exc}") from exc
        if digest.hexdigest() != model.sha256 or size != model.size:
            raise _CorruptObject(
                f"stored object {model.uri} is corrupt: sha256 {digest.hexdigest()} "
                f"({size} bytes), registered {model.sha256} ({model.size} bytes); not installed"
            )
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
