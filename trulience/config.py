"""Settings from the environment, with embedded defaults that need no set-up."""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from trulience.errors import ConfigError

SECRET_MASK = "****"


@dataclass(frozen=True)
class Settings:
    """Effective configuration; build it with `Settings.from_env()`."""

    home: Path
    database_url: str | None
    storage_url: str
    storage_options: dict = field(default_factory=dict)
    comfyui_workers: tuple[str, ...] = ()
    dagster_home: Path | None = None
    dagster_port: int = 3000
    face_pack_dir: Path | None = None
    lake_url: str | None = None  # None: the lake folder under home
    lake_options: dict = field(default_factory=dict)

    @property
    def embedded_database(self) -> bool:
        """True when the catalog runs on the embedded pgserver under `home`."""
        return self.database_url is None

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def effective_lake_url(self) -> str:
        return self.lake_url or self.lake_dir.as_uri()

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def effective_dagster_home(self) -> Path:
        return self.dagster_home or self.home / "dagster"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read settings from `env` (default: the process environment), validating each."""
        env = os.environ if env is None else env
        home = Path(env.get("TRULIENCE_HOME") or ".trulience").expanduser().resolve()

        database_url = env.get("DATABASE_URL") or None
        if database_url is not None and urlsplit(database_url).scheme not in (
            "postgresql",
            "postgres",
        ):
            raise ConfigError(
                f"DATABASE_URL must start with postgresql:// (got {mask_url(database_url)!r})"
            )

        storage_url = env.get("STORAGE_URL") or (home / "storage").as_uri()
        scheme = urlsplit(storage_url).scheme
        if scheme not in ("file", "s3", "memory"):
            raise ConfigError(
                f"STORAGE_URL must be file://, s3:// or memory:// (got {storage_url!r})"
            )
        storage_options = _json_object(env, "STORAGE_OPTIONS")
        if scheme == "s3" and env.get("S3_ENDPOINT_URL"):
            storage_options.setdefault("client_kwargs", {})["endpoint_url"] = env["S3_ENDPOINT_URL"]

        lake_url = env.get("LAKE_URL") or None
        lake_scheme = urlsplit(lake_url).scheme if lake_url else "file"
        if lake_scheme not in ("file", "s3", "memory"):
            raise ConfigError(f"LAKE_URL must be file://, s3:// or memory:// (got {lake_url!r})")
        lake_options = _json_object(env, "LAKE_OPTIONS")
        if lake_url and not lake_options and lake_scheme == scheme:
            lake_options = dict(storage_options)  # the same store: the same credentials
        elif lake_scheme == "s3" and env.get("S3_ENDPOINT_URL"):
            lake_options.setdefault("client_kwargs", {})["endpoint_url"] = env["S3_ENDPOINT_URL"]

        workers = tuple(w.strip() for w in env.get("COMFYUI_WORKERS", "").split(",") if w.strip())
        for worker in workers:
            if urlsplit(worker).scheme not in ("http", "https"):
                raise ConfigError(f"COMFYUI_WORKERS entry {worker!r} must be an http(s):// URL")

        dagster_home = Path(env["DAGSTER_HOME"]).resolve() if env.get("DAGSTER_HOME") else None
        port_text = env.get("TRULIENCE_DAGSTER_PORT", "3000")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"TRULIENCE_DAGSTER_PORT must be a port number (got {port_text!r})")

        face_pack_dir = Path(env["FACE_PACK_DIR"]).resolve() if env.get("FACE_PACK_DIR") else None
        if face_pack_dir is not None and not face_pack_dir.is_dir():
            raise ConfigError(f"FACE_PACK_DIR {str(face_pack_dir)!r} is not a folder")

        return cls(
            home=home,
            database_url=database_url,
            storage_url=storage_url,
            storage_options=storage_options,
            comfyui_workers=workers,
            dagster_home=dagster_home,
            dagster_port=int(port_text),
            face_pack_dir=face_pack_dir,
            lake_url=lake_url,
            lake_options=lake_options,
        )

    def describe(self) -> dict[str, str]:
        """The effective settings as text, secrets masked, for `trulience config`."""
        return {
            "TRULIENCE_HOME": str(self.home),
            "DATABASE_URL": mask_url(self.database_url)
            if self.database_url
            else f"(embedded Postgres under {self.pg_dir})",
            "STORAGE_URL": self.storage_url,
            "STORAGE_OPTIONS": json.dumps(mask_secrets(self.storage_options)),
            "COMFYUI_WORKERS": ",".join(self.comfyui_workers) or "(none: local preview backend)",
            "DAGSTER_HOME": str(self.effective_dagster_home),
            "TRULIENCE_DAGSTER_PORT": str(self.dagster_port),
            "LAKE_URL": self.effective_lake_url,
            "LAKE_OPTIONS": json.dumps(mask_secrets(self.lake_options)),
            "FACE_PACK_DIR": str(self.face_pack_dir)
            if self.face_pack_dir
            else "(none: YuNet + SFace, converted under TRULIENCE_HOME/models)",
        }


def _json_object(env: Mapping[str, str], name: str) -> dict:
    text = env.get(name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} is not valid JSON: {exc.msg} at character {exc.pos}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


def mask_url(url: str) -> str:
    """The URL with its password replaced by ****, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{SECRET_MASK}@{netloc[1]}"))


_SECRET_WORDS = ("secret", "password", "token", "key")


def mask_secrets(options: Mapping) -> dict:
    """A copy of nested options with every secret-looking value masked."""
    masked = {}
    for name, value in options.items():
        if isinstance(value, Mapping):
            masked[name] = mask_secrets(value)
        elif any(word in name.lower() for word in _SECRET_WORDS):
            masked[name] = SECRET_MASK
        else:
            masked[name] = value
    return masked
