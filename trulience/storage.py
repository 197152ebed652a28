"""Media storage over fsspec: local files by default, S3 (s3fs) in production.

Keys are relative paths built from catalog slugs; a key can never escape the storage root.
"""

import hashlib
import os
import posixpath
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import fsspec

from trulience.config import mask_secrets
from trulience.errors import InvalidStorageKey, StorageError
from trulience.local_files import NotARegularFile, open_regular
from trulience.quoting import excerpt, quote_name

_CHUNK = 1 << 20
_MAX_KEY_LENGTH = 1024
# Local file systems limit one name to 255 bytes; object stores accept it too.
MAX_KEY_PART_BYTES = 255
# A partial upload is named apart from its target (not after it), so a target name at the
# length limit still leaves room; list() hides names holding this marker.
_PARTIAL = ".partial-"


def check_key_part(part: str, key: str | None = None) -> str:
    """Refuse a path component that is empty, '.', '..', holds a separator or a control
    character; return it unchanged otherwise."""
    where = f" in key {quote_name(key, 80)}" if key is not None else ""
    if part in ("", ".", ".."):
        raise InvalidStorageKey(
            f"storage key part {excerpt(part)}{where} is empty or a relative step"
        )
    if "/" in part or "\\" in part:
        raise InvalidStorageKey(f"storage key part {excerpt(part)}{where} holds a path separator")
    bad = [ch for ch in part if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
    if bad:
        raise InvalidStorageKey(
            f"storage key part {excerpt(part)}{where} holds control character {bad[0]!r}"
        )
    if part != part.strip():
        raise InvalidStorageKey(
            f"storage key part {excerpt(part)}{where} starts or ends with a space"
        )
    size = len(part.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_PART_BYTES:
        raise InvalidStorageKey(
            f"storage key part {quote_name(part, 40)}{where} is {size} bytes long; "
            f"at most {MAX_KEY_PART_BYTES}"
        )
    return part


def check_key(key: str) -> str:
    """Refuse absolute keys, traversal, control characters; return the key unchanged."""
    if not isinstance(key, str) or not key:
        raise InvalidStorageKey("storage key is empty")
    if len(key) > _MAX_KEY_LENGTH:
        raise InvalidStorageKey(f"storage key is longer than {_MAX_KEY_LENGTH} characters")
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise InvalidStorageKey(f"storage key {excerpt(key)} is absolute; keys are relative")
    if "://" in key:
        raise InvalidStorageKey(f"storage key {excerpt(key)} is a URL; keys are relative paths")
    for part in key.split("/"):
        check_key_part(part, key)
    return key


def storage_key(*parts: str) -> str:
    """Join checked parts into a key: storage_key('characters', slug, 'source', name)."""
    return check_key("/".join(check_key_part(str(p)) for p in parts))


@dataclass(frozen=True)
class StoredObject:
    key: str
    uri: str
    sha256: str
    size: int


class Storage:
    """A storage root (file://, s3://, memory://) with checked keys and sha256 on write."""

    def __init__(self, url: str, options: dict | None = None):
        self.url = url.rstrip("/")
        self.shown = mask_secrets(self.url)  # for messages: a URL may carry credentials
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(options or {}))
        self._local = "file" in _protocols(self.fs)
        if self._local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> str:
        """The filesystem path of a key (for fsspec calls)."""
        return posixpath.join(self.root, check_key(key))

    def uri(self, key: str) -> str:
        """The full URI of a key, as the catalog records it."""
        return f"{self.url}/{check_key(key)}"

    def key_of(self, uri: str) -> str:
        """The key of a URI under this root; refuse URIs from elsewhere."""
        prefix = self.url + "/"
        if not uri.startswith(prefix):
            raise InvalidStorageKey(f"{excerpt(uri)} is not under storage root {self.shown!r}")
        return check_key(uri[len(prefix) :])

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        """Store bytes under `key` (replacing it), complete or not at all."""
        with self._writer(key) as out:
            out.write(data)
        return StoredObject(key, self.uri(key), hashlib.sha256(data).hexdigest(), len(data))

    def put_file(self, key: str, local_path: str | os.PathLike) -> StoredObject:
        """Copy a local file to `key`, hashing it on the way."""
        digest, size = hashlib.sha256(), 0
        try:
            # A link, a pipe (which would block forever) or a device is never read.
            source = open_regular(local_path, quote_name(str(local_path)))
        except NotARegularFile as exc:
            raise StorageError(f"cannot read {exc}") from exc
        with source, self._writer(key) as out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        return StoredObject(key, self.uri(key), digest.hexdigest(), size)

    @contextmanager
    def _writer(self, key: str) -> Iterator[IO[bytes]]:
        path = self.path(key)
        if not self._local:  # an object store PUT is already all-or-nothing
            with self.fs.open(path, "wb") as out:
                yield out
            return
        # Locally: write beside the target, then rename, so readers never see half a file.
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        partial = posixpath.join(posixpath.dirname(path), f"{_PARTIAL}{uuid.uuid4().hex}")
        try:
            with open(partial, "wb") as out:
                yield out
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        """Open a stored object for reading."""
        path = self.path(key)
        try:
            handle = self.fs.open(path, "rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no object {excerpt(key)} in {self.shown}") from exc
        with handle:
            yield handle

    def local_file(self, key: str, directory: str | os.PathLike) -> Path:
        """A local path to read an object from: the file itself when storage is local (no
        copy), else a download into `directory` (reused if already there)."""
        if self._local:
            path = Path(self.path(key))
            if not path.is_file():
                raise StorageError(f"no object {excerpt(key)} in {self.shown}")
            return path
        copy = Path(directory) / _local_name(check_key(key))
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(self.read_bytes(key))
        return copy

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def delete(self, key: str) -> bool:
        """Remove an object; False if it was not there."""
        path = self.path(key)
        if not self.fs.exists(path):
            return False
        self.fs.rm(path)
        return True

    def list(self, prefix: str = "") -> list[str]:
        """Keys below `prefix` (a key or ''), sorted; partial uploads are not listed."""
        base = self.path(prefix) if prefix else self.root
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        root = self.root.rstrip("/") + "/"
        keys = [p[len(root) :] for p in found if p.startswith(root)]
        return sorted(k for k in keys if _PARTIAL not in k)

    def stored(self, key: str) -> StoredObject:
        """An object already stored, described as a write would describe it."""
        return StoredObject(key, self.uri(key), self.sha256(key), self.fs.size(self.path(key)))

    def sha256(self, key: str) -> str:
        """The sha256 of a stored object, streamed."""
        digest = hashlib.sha256()
        with self.open(key) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _local_name(key: str) -> str:
    """One file name for a key's local copy: the key flattened when it fits the file name
    limit, else a digest of the key keeping its extension (the same key, the same name)."""
    flat = key.replace("/", "_")
    if len(flat.encode("utf-8")) <= MAX_KEY_PART_BYTES:
        return flat
    suffix = posixpath.splitext(key)[1]
    suffix = suffix if len(suffix.encode("utf-8")) <= 16 else ""
    return hashlib.sha256(key.encode("utf-8")).hexdigest() + suffix


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
