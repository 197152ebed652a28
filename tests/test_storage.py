"""Storage over fsspec: checked keys, atomic writes, sha256; local and S3 (moto server)."""

import hashlib
import os
from pathlib import Path

import boto3
import pytest

from tests.ingest_files import unblock_if_stuck
from trulience.errors import InvalidStorageKey, StorageError
from trulience.storage import Storage, storage_key


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../../b",
        "/etc/passwd",
        "a//b",
        "a/./b",
        "a/b/",
        "",
        "a\\b",
        "C:/windows",
        "bad\x00name",
        "line\nbreak",
        "tab\there",
        "s3://other/bucket",
        "a/\u200bzero-width",
        " padded",
    ],
)
def test_traversal_absolute_and_control_keys_are_refused(storage, key):
    with pytest.raises(InvalidStorageKey):
        storage.put_bytes(key, b"x")
    assert storage.list() == []


@pytest.mark.parametrize("part", ["..", "a/b", "x\x1b", ""])
def test_storage_key_refuses_bad_parts(part):
    with pytest.raises(InvalidStorageKey):
        storage_key("characters", part, "image.png")


def test_local_round_trip_with_sha256(storage, tmp_path):
    key = storage_key("characters", "ava", "source", "ava portrait.png")
    stored = storage.put_bytes(key, b"pixels")
    assert stored.sha256 == hashlib.sha256(b"pixels").hexdigest()
    assert stored.uri == storage.url + "/characters/ava/source/ava portrait.png"
    assert storage.key_of(stored.uri) == key
    assert storage.read_bytes(key) == b"pixels"
    assert storage.sha256(key) == stored.sha256
    assert storage.exists(key)
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 10_000)
    big = storage.put_file("characters/ava/big.bin", source)
    assert big.size == 2_560_000
    assert big.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert storage.list("characters/ava") == ["characters/ava/big.bin", key]
    assert storage.delete(key) and not storage.delete(key)
    with pytest.raises(StorageError, match="no object"):
        storage.read_bytes(key)


def test_failed_write_leaves_the_previous_object_untouched(storage):
    storage.put_bytes("a/obj.bin", b"old")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), storage._writer("a/obj.bin") as out:
        out.write(b"half of the new")
        raise Boom
    assert storage.read_bytes("a/obj.bin") == b"old"
    assert storage.list() == ["a/obj.bin"]


def test_key_of_refuses_uris_outside_the_root(storage):
    with pytest.raises(InvalidStorageKey, match="not under storage root"):
        storage.key_of("file:///elsewhere/x.png")


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_round_trip_against_moto_server(s3_endpoint, tmp_path):
    options = {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="studio-media")
    storage = Storage("s3://studio-media/prod", options)
    stored = storage.put_bytes("characters/ava/source/ava.png", b"\x89PNG fake")
    assert stored.uri == "s3://studio-media/prod/characters/ava/source/ava.png"
    local = tmp_path / "clip.bin"
    local.write_bytes(b"0123456789" * 50_000)
    clip = storage.put_file("scenes/1/clip.bin", local)

    fresh = Storage("s3://studio-media/prod", options)  # a second process's view
    assert fresh.read_bytes("characters/ava/source/ava.png") == b"\x89PNG fake"
    assert fresh.sha256("scenes/1/clip.bin") == clip.sha256
    assert fresh.list() == ["characters/ava/source/ava.png", "scenes/1/clip.bin"]
    assert fresh.exists("scenes/1/clip.bin")
    assert fresh.delete("scenes/1/clip.bin")
    assert fresh.list("scenes") == []
    with pytest.raises(InvalidStorageKey):
        fresh.put_bytes("../escape", b"x")


def test_local_file_reads_in_place_or_downloads_once(storage, s3_endpoint, tmp_path):
    stored = storage.put_bytes("scenes/a/clip.mp4", b"frames")
    in_place = storage.local_file("scenes/a/clip.mp4", tmp_path / "cache")
    assert in_place == Path(storage.path("scenes/a/clip.mp4"))  # no copy of a local file
    assert not (tmp_path / "cache").exists()
    with pytest.raises(StorageError, match="no object"):
        storage.local_file("scenes/a/missing.mp4", tmp_path / "cache")
    options = {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="cache-test")
    remote = Storage("s3://cache-test/x", options)
    remote.put_bytes("scenes/a/clip.mp4", b"frames")
    copy = remote.local_file("scenes/a/clip.mp4", tmp_path / "cache")
    assert copy.read_bytes() == b"frames" and copy.parent == tmp_path / "cache"
    assert stored.sha256


def test_a_name_at_the_file_system_limit_is_written_whole(storage, tmp_path):
    name = "é" * 125 + "x.png"  # 255 bytes in UTF-8 (130 characters)
    key = storage_key("characters", "ava", "source", name)
    assert storage.put_bytes(key, b"pixels").size == 6
    source = tmp_path / ("p" * 251 + ".png")
    source.write_bytes(b"from a file")
    stored = storage.put_file(storage_key("characters", "ava", source.name), source)
    assert storage.read_bytes(stored.key) == b"from a file"
    assert storage.list() == sorted([key, stored.key])  # no partial upload left behind


def test_a_key_part_longer_than_a_file_name_may_be_is_refused(storage):
    with pytest.raises(InvalidStorageKey, match="is 256 bytes long; at most 255"):
        storage.put_bytes(storage_key("characters", "x" * 256), b"x")
    with pytest.raises(InvalidStorageKey, match="holds control character"):
        storage_key("characters", "bad\udcffname")  # an undecodable byte in a file name
    assert storage.list() == []


@pytest.mark.parametrize("kind", ["symbolic link", "named pipe"])
def test_put_file_reads_regular_files_only(storage, tmp_path, kind):
    real = tmp_path / "real.bin"
    real.write_bytes(b"secret")
    path = tmp_path / "offered.bin"
    if kind == "symbolic link":
        path.symlink_to(real)
    else:
        os.mkfifo(path)  # opening it for reading would block forever

    def offer():
        with pytest.raises(StorageError, match=f"is a {kind}"):
            storage.put_file("a/offered.bin", path)
        return True

    assert unblock_if_stuck(path, offer) if kind == "named pipe" else offer()
    assert storage.list() == []


def test_a_download_of_a_long_key_fits_the_file_name_limit(s3_endpoint, tmp_path):
    options = {
        "key": "test",
        "secret": "test",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="long-names")
    remote = Storage("s3://long-names/x", options)
    key = storage_key("characters", "ava", "source", "0123456789abcdef", "p" * 240 + ".png")
    remote.put_bytes(key, b"pixels")
    copy = remote.local_file(key, tmp_path / "cache")
    assert copy.read_bytes() == b"pixels" and copy.suffix == ".png"
    assert remote.local_file(key, tmp_path / "cache") == copy  # found again, not re-fetched


def test_a_password_in_the_storage_url_never_reaches_an_error():
    storage = Storage("memory://studio:hunter2@box/root")
    with pytest.raises(InvalidStorageKey) as outside:
        storage.key_of("memory://other/x")
    with pytest.raises(StorageError) as missing:
        storage.read_bytes("characters/nobody/a.png")
    for refused in (outside.value, missing.value):
        assert "hunter2" not in str(refused) and "studio:****@box" in str(refused)
