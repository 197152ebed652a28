"""Models and LoRAs (PRD-104): registered with sha256, size, kind and source from real files,
installed on a worker host by sync with checksum verification (one corrupt byte is named
and refused), and refused for removal while a workflow version loads them."""

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.animatic import SLOTS, with_lora
from trulience.catalog.errors import AlreadyExists, InvalidValue, NotFound
from trulience.cli import main
from trulience.generation.workflow_registry import register_workflow
from trulience.workers import models
from trulience.workers.models import ModelInUse

# the animatic with a checkpoint and a LoRA loaded into it (API format)
LOADERS = with_lora("faces/eileen.safetensors")


def weights(tmp_path, name: str, size: int = 300_000, seed: int = 0):
    """A model file of random bytes (no two seeds alike)."""
    path = tmp_path / "downloads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(hashlib.sha256(str(seed).encode()).digest() * (size // 32))
    return path


def flip_a_byte(path, at: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def comfyui_root(tmp_path):
    root = tmp_path / "ComfyUI"
    (root / "models" / "loras").mkdir(parents=True)
    return root


def test_a_model_is_stored_and_registered_with_its_sha256_size_kind_and_source(
    conn, storage, tmp_path
):
    path = weights(tmp_path, "eileen.safetensors")
    model = models.add_model(
        conn,
        storage,
        path,
        "lora",
        source="https://example.org/eileen",
        name="faces/eileen.safetensors",
    )
    assert model.kind == "loras"  # the ComfyUI folder; "lora" names it
    assert model.ref == "loras/faces/eileen.safetensors"
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.size == path.stat().st_size
    assert model.source == "https://example.org/eileen"
    assert storage.read_bytes(storage.key_of(model.uri)) == path.read_bytes()
    assert models.list_models(conn) == [model]
    assert models.list_models(conn, "loras") == [model]
    assert models.list_models(conn, "checkpoints") == []
    (audited,) = conn.execute(
        "SELECT actor, action FROM audit_log WHERE table_name = 'models'"
    ).fetchall()
    assert audited == ("tester", "INSERT")


def test_a_duplicate_name_or_content_is_refused_and_leaves_nothing_stored(conn, storage, tmp_path):
    first = models.add_model(conn, storage, weights(tmp_path, "a.safetensors"), "loras")
    stored = storage.list("models")
    with pytest.raises(AlreadyExists) as same_name:
        models.add_model(conn, storage, weights(tmp_path, "a.safetensors", seed=1), "loras")
    assert "loras/a.safetensors" in str(same_name.value)
    twin = weights(tmp_path, "b.safetensors")  # a's very bytes under another name
    with pytest.raises(AlreadyExists) as same_bytes:
        models.add_model(conn, storage, twin, "loras")
    assert first.sha256 in str(same_bytes.value) and "loras/a.safetensors" in str(same_bytes.value)
    assert storage.list("models") == stored
    assert [m.ref for m in models.list_models(conn)] == ["loras/a.safetensors"]
    # the same name in another folder is another model
    other = models.add_model(
        conn, storage, weights(tmp_path, "a.safetensors", seed=2), "checkpoints"
    )
    assert other.ref == "checkpoints/a.safetensors"


@pytest.mark.parametrize(
    "kind, name, field, words",
    [
        ("lorra", "a.safetensors", "kind", ["'lorra'", "not a ComfyUI model folder", "loras"]),
        ("custom_nodes", "a.safetensors", "kind", ["'custom_nodes'", "checkpoints"]),
        ("loras", "notes.txt", "name", ["'notes.txt'", ".safetensors", "models/loras"]),
        ("configs", "a.safetensors", "name", ["'a.safetensors'", ".yaml"]),
        ("classifiers", "a.safetensors", "name", ["models/classifiers", "no extension"]),
        ("loras", "../escape.safetensors", "name", ["'../escape.safetensors'", "relative"]),
        ("loras", "/abs.safetensors", "name", ["absolute"]),
    ],
)
def test_a_bad_kind_or_name_is_refused_naming_it(conn, storage, tmp_path, kind, name, field, words):
    path = weights(tmp_path, "x.safetensors")
    with pytest.raises(InvalidValue) as err:
        models.add_model(conn, storage, path, kind, name=name)
    assert err.value.field == field
    for word in words:
        assert word in str(err.value)
    assert storage.list() == [] and models.list_models(conn) == []


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["loras", "checkpoints", "configs"]),
    stem=st.text(st.sampled_from("ab/.\\ \x00é~-_"), max_size=24),
    suffix=st.sampled_from([".safetensors", ".yaml", ".txt", ""]),
)
def test_an_accepted_name_never_leads_out_of_its_folder(kind, stem, suffix):
    name = stem + suffix
    try:
        models.check_name(kind, name)
    except InvalidValue as refused:
        assert refused.field == "name" and refused.value == name
        return
    folder = Path("/srv/ComfyUI/models") / kind
    target = (folder / name).resolve()
    assert target.is_relative_to(folder) and target != folder
    assert "\x00" not in name and "\\" not in name


def test_an_empty_file_is_no_model_and_nothing_is_stored(conn, storage, tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(InvalidValue, match="empty"):
        models.add_model(conn, storage, empty, "loras")
    assert storage.list() == [] and models.list_models(conn) == []


def test_workflows_declare_the_models_their_loaders_name(conn):
    registered = register_workflow(conn, "lora-still", LOADERS, SLOTS)
    assert registered.models == [
        ("checkpoints", "base.safetensors"),
        ("loras", "faces/eileen.safetensors"),
    ]


def test_a_model_a_workflow_loads_cannot_be_removed(conn, storage, tmp_path):
    lora = models.add_model(
        conn,
        storage,
        weights(tmp_path, "eileen.safetensors"),
        "loras",
        name="faces/eileen.safetensors",
    )
    spare = models.add_model(conn, storage, weights(tmp_path, "spare.safetensors", seed=3), "loras")
    register_workflow(conn, "lora-still", LOADERS, SLOTS)
    with pytest.raises(ModelInUse) as err:
        models.remove_model(conn, storage, lora.ref)
    assert "loras/faces/eileen.safetensors" in str(err.value) and "lora-still v1" in str(err.value)
    assert storage.exists(storage.key_of(lora.uri))
    assert models.remove_model(conn, storage, "loras/spare.safetensors") == spare
    assert not storage.exists(storage.key_of(spare.uri))
    assert [m.ref for m in models.list_models(conn)] == [lora.ref]
    with pytest.raises(NotFound):
        models.remove_model(conn, storage, "loras/spare.safetensors")
    with pytest.raises(InvalidValue, match="KIND/NAME"):
        models.remove_model(conn, storage, "spare.safetensors")


def test_sync_installs_verifies_and_skips_a_correct_copy(conn, storage, tmp_path, comfyui_root):
    lora = models.add_model(
        conn,
        storage,
        weights(tmp_path, "eileen.safetensors"),
        "loras",
        name="faces/eileen.safetensors",
    )
    base = models.add_model(
        conn, storage, weights(tmp_path, "base.safetensors", seed=4), "checkpoints"
    )
    first = models.sync_models(conn, storage, comfyui_root)
    assert [(s.model.ref, s.outcome) for s in first] == [
        (base.ref, "installed"),
        (lora.ref, "installed"),
    ]
    installed = comfyui_root / "models" / "loras" / "faces" / "eileen.safetensors"
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == lora.sha256
    assert (comfyui_root / "models" / "checkpoints" / "base.safetensors").is_file()
    stamp = installed.stat().st_mtime_ns
    again = models.sync_models(conn, storage, comfyui_root)
    assert {s.outcome for s in again} == {"present"}
    assert installed.stat().st_mtime_ns == stamp  # not rewritten
    only = models.sync_models(conn, storage, comfyui_root, ["lora"])
    assert [s.model.ref for s in only] == [lora.ref]


def test_sync_replaces_a_corrupt_copy_and_says_so(conn, storage, tmp_path, comfyui_root):
    lora = models.add_model(conn, storage, weights(tmp_path, "eileen.safetensors"), "loras")
    models.sync_models(conn, storage, comfyui_root)
    installed = comfyui_root / "models" / "loras" / "eileen.safetensors"
    flip_a_byte(installed)
    bad = hashlib.sha256(installed.read_bytes()).hexdigest()
    (synced,) = models.sync_models(conn, storage, comfyui_root)
    assert synced.outcome == "replaced"
    assert bad in synced.describe() and lora.sha256 in synced.describe()
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == lora.sha256


def test_a_corrupt_stored_object_is_refused_and_nothing_is_installed(
    conn, storage, tmp_path, comfyui_root
):
    lora = models.add_model(conn, storage, weights(tmp_path, "eileen.safetensors"), "loras")
    good = models.add_model(conn, storage, weights(tmp_path, "good.safetensors", seed=5), "loras")
    flip_a_byte(storage.local_file(storage.key_of(lora.uri), tmp_path))
    synced = {s.model.ref: s for s in models.sync_models(conn, storage, comfyui_root)}
    refused = synced[lora.ref]
    assert refused.outcome == "refused"
    assert lora.uri in refused.detail and "corrupt" in refused.detail
    assert synced[good.ref].outcome == "installed"
    folder = comfyui_root / "models" / "loras"
    assert sorted(os.listdir(folder)) == ["good.safetensors"]  # no partial file left either


def test_a_corrupt_stored_object_does_not_leave_a_wrong_copy_under_its_name(
    conn, storage, tmp_path, comfyui_root
):
    lora = models.add_model(conn, storage, weights(tmp_path, "eileen.safetensors"), "loras")
    models.sync_models(conn, storage, comfyui_root)
    installed = comfyui_root / "models" / "loras" / "eileen.safetensors"
    flip_a_byte(installed)
    flip_a_byte(storage.local_file(storage.key_of(lora.uri), tmp_path), at=2000)
    (synced,) = models.sync_models(conn, storage, comfyui_root)
    assert synced.outcome == "refused" and "was removed" in synced.detail
    assert not installed.exists()


def test_sync_leaves_a_link_or_folder_in_its_place_alone(conn, storage, tmp_path, comfyui_root):
    models.add_model(conn, storage, weights(tmp_path, "eileen.safetensors"), "loras")
    elsewhere = weights(tmp_path, "mine.safetensors", seed=9)
    link = comfyui_root / "models" / "loras" / "eileen.safetensors"
    link.symlink_to(elsewhere)
    (synced,) = models.sync_models(conn, storage, comfyui_root)
    assert synced.outcome == "refused" and "symbolic link" in synced.detail
    assert link.is_symlink() and link.read_bytes() == elsewhere.read_bytes()


def test_sync_refuses_a_folder_that_is_no_comfyui_root(conn, storage, tmp_path):
    with pytest.raises(InvalidValue) as err:
        models.sync_models(conn, storage, tmp_path / "nowhere")
    assert "nowhere" in str(err.value) and "models/" in str(err.value)


def test_models_from_the_command_line(db_url, tmp_path, comfyui_root):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "STORAGE_URL": (tmp_path / "storage").as_uri(),
    }

    def cli(*args):
        return CliRunner().invoke(main, list(args), env=env)

    path = weights(tmp_path, "eileen.safetensors")
    added = cli("models", "add", str(path), "--kind", "lora", "--source", "https://example.org/e")
    assert added.exit_code == 0, added.output
    assert "loras/eileen.safetensors" in added.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() in added.output
    again = cli("models", "add", str(path), "--kind", "lora")
    assert again.exit_code == 1 and "already exists" in again.output
    wrong = cli("models", "add", str(path), "--kind", "lorra")
    assert wrong.exit_code == 1 and "'lorra'" in wrong.output and "Traceback" not in wrong.output
    listed = cli("models", "list")
    assert "loras/eileen.safetensors" in listed.output and "on: no worker" in listed.output
    synced = cli("models", "sync", "--comfyui-root", str(comfyui_root))
    assert synced.exit_code == 0, synced.output
    assert "loras/eileen.safetensors: installed" in synced.output
    (stored,) = (tmp_path / "storage" / "models" / "loras").glob("*/eileen.safetensors")
    flip_a_byte(stored)
    flip_a_byte(comfyui_root / "models" / "loras" / "eileen.safetensors")
    refused = cli("models", "sync", "--comfyui-root", str(comfyui_root))
    assert refused.exit_code == 1 and "corrupt" in refused.output
    assert "1 model(s) not installed: loras/eileen.safetensors" in refused.output
    removed = cli("models", "remove", "loras/eileen.safetensors")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert "eileen" not in cli("models", "list").output


def test_a_missing_stored_object_is_refused_by_name(conn, storage, tmp_path, comfyui_root):
    lora = models.add_model(conn, storage, weights(tmp_path, "eileen.safetensors"), "loras")
    storage.delete(storage.key_of(lora.uri))
    (synced,) = models.sync_models(conn, storage, comfyui_root)
    assert synced.outcome == "refused" and lora.uri in synced.detail
    assert os.listdir(comfyui_root / "models" / "loras") == []
