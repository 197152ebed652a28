"""Settings from the environment, with embedded defaults that need no set-up."""

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trulience.errors import ConfigError

SECRET_MASK = "****"
# The signing secret generated on first use when TRULIENCE_SECRET is not set: kept under the
# home (mode 0600) so that signed links outlive a restart.
SECRET_FILE = "secret"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5006"


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
    notebook_port: int = 8888  # JupyterLab, `make notebooks`
    face_pack_dir: Path | None = None
    lake_url: str | None = None  # None: the lake folder under home
    lake_options: dict = field(default_factory=dict)
    secret: str | None = field(default=None, repr=False)  # TRULIENCE_SECRET; None: generated
    public_url: str = DEFAULT_PUBLIC_URL  # TRULIENCE_PUBLIC_URL: where outside links point

    def signing_secret(self) -> bytes:
        """The key that signs media and share links: TRULIENCE_SECRET, else one generated
        once and kept in `home/secret` (readable by its owner only)."""
        if self.secret:
            return self.secret.encode()
        path = self.home / SECRET_FILE
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting together keep the same secret
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48))
        text = path.read_text().strip()
        if len(text) < 32:
            raise ConfigError(f"the signing secret in {str(path)!r} is shorter than 32 characters")
        return text.encode()

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
                f"DATABASE_URL must start with postgresql:// (got {mask_secrets(database_url)!r})"
            )

        storage_url = env.get("STORAGE_URL") or (home / "storage").as_uri()
        scheme = urlsplit(storage_url).scheme
        if scheme not in ("file", "s3", "memory"):
            raise ConfigError(
                f"STORAGE_URL must be file://, s3:// or memory:// "
                f"(got {mask_secrets(storage_url)!r})"
            )
        storage_options = _json_object(env, "STORAGE_OPTIONS")
        if scheme == "s3" and env.get("S3_ENDPOINT_URL"):
            storage_options.setdefault("client_kwargs", {})["endpoint_url"] = env["S3_ENDPOINT_URL"]

        lake_url = env.get("LAKE_URL") or None
        lake_scheme = urlsplit(lake_url).scheme if lake_url else "file"
        if lake_scheme not in ("file", "s3", "memory"):
            raise ConfigError(
                f"LAKE_URL must be file://, s3:// or memory:// (got {mask_secrets(lake_url)!r})"
            )
        lake_options = _json_object(env, "LAKE_OPTIONS")
        if lake_url and not lake_options and lake_scheme == scheme:
            lake_options = dict(storage_options)  # the same store: the same credentials
        elif lake_scheme == "s3" and env.get("S3_ENDPOINT_URL"):
            lake_options.setdefault("client_kwargs", {})["endpoint_url"] = env["S3_ENDPOINT_URL"]

        workers = tuple(w.strip() for w in env.get("COMFYUI_WORKERS", "").split(",") if w.strip())
        for worker in workers:
            if urlsplit(worker).scheme not in ("http", "https"):
                raise ConfigError(
                    f"COMFYUI_WORKERS entry {mask_secrets(worker)!r} must be an http(s):// URL"
                )

        dagster_home = Path(env["DAGSTER_HOME"]).resolve() if env.get("DAGSTER_HOME") else None
        dagster_port = _port(env, "TRULIENCE_DAGSTER_PORT", 3000)
        notebook_port = _port(env, "TRULIENCE_NOTEBOOK_PORT", 8888)

        face_pack_dir = Path(env["FACE_PACK_DIR"]).resolve() if env.get("FACE_PACK_DIR") else None
        if face_pack_dir is not None and not face_pack_dir.is_dir():
            raise ConfigError(f"FACE_PACK_DIR {str(face_pack_dir)!r} is not a folder")

        secret = env.get("TRULIENCE_SECRET") or None
        if secret is not None and len(secret) < 32:
            raise ConfigError(
                f"TRULIENCE_SECRET must be at least 32 characters (got {len(secret)})"
            )
        public_url = (env.get("TRULIENCE_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
        if urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).netloc:
            raise ConfigError(
                f"TRULIENCE_PUBLIC_URL must be an http(s):// URL (got {mask_secrets(public_url)!r})"
            )

        return cls(
            home=home,
            database_url=database_url,
            storage_url=storage_url,
            storage_options=storage_options,
            comfyui_workers=workers,
            dagster_home=dagster_home,
            dagster_port=dagster_port,
            notebook_port=notebook_port,
            face_pack_dir=face_pack_dir,
            lake_url=lake_url,
            lake_options=lake_options,
            secret=secret,
            public_url=public_url,
        )

    def describe(self) -> dict[str, str]:
        """The effective settings as text, secrets masked, for `trulience config`."""
        return {name: mask_secrets(text) for name, text in self._as_text().items()}

    def __repr__(self) -> str:
        # A Settings object in a log line or a traceback must not carry the passwords.
        return f"Settings({self.describe()!r})"

    def _as_text(self) -> dict[str, str]:
        return {
            "TRULIENCE_HOME": str(self.home),
            "DATABASE_URL": self.database_url
            if self.database_url
            else f"(embedded Postgres under {self.pg_dir})",
            "STORAGE_URL": self.storage_url,
            "STORAGE_OPTIONS": json.dumps(mask_secrets(self.storage_options)),
            "COMFYUI_WORKERS": ",".join(self.comfyui_workers) or "(none: local preview backend)",
            "DAGSTER_HOME": str(self.effective_dagster_home),
            "TRULIENCE_DAGSTER_PORT": str(self.dagster_port),
            "TRULIENCE_NOTEBOOK_PORT": str(self.notebook_port),
            "LAKE_URL": self.effective_lake_url,
            "LAKE_OPTIONS": json.dumps(mask_secrets(self.lake_options)),
            "FACE_PACK_DIR": str(self.face_pack_dir)
            if self.face_pack_dir
            else "(none: YuNet + SFace, converted under TRULIENCE_HOME/models)",
            "TRULIENCE_SECRET": SECRET_MASK
            if self.secret
            else f"(generated, kept in {self.home / SECRET_FILE})",
            "TRULIENCE_PUBLIC_URL": self.public_url,
        }


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, str(default))
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name} must be a port number (got {text!r})")
    return int(text)


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


# A name that holds a secret: DSN keywords (password, sslpassword), query parameters
# (token=, X-Amz-Signature=, sig=) and option keys (key, secret, aws_secret_access_key).
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|key|signature|credential|^sig$|^auth", re.IGNORECASE
)
# Userinfo of every URL in the text: greedy up to the last "@" before the next "/" (where
# libpq and urlsplit end it too), so an unencoded "@", "?" or "#" in a password is masked.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/]*)@")
# A name=value pair at the start, after whitespace (keyword DSN) or after ? & ; (a URL query).
# A value is quoted (libpq's 'it''s' or 'it\'s'), or runs to the next separator, or to a comma
# that starts the next URL of a list (COMFYUI_WORKERS).
_NAME_VALUE = re.compile(
    r"(?:^|(?<=[\s?&;]))(?P<name>[A-Za-z_][\w.-]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.|'')*'|(?:(?!,[A-Za-z][A-Za-z0-9+.-]*://)[^&#;\s])*)"
)
_KEEP_USER = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg")


def mask_secrets(value: Any) -> Any:
    """`value` with every secret replaced by ****, safe to print, log or put in an error.

    The one masking function for settings: takes a URL (password in the userinfo, secret
    query parameters), a keyword DSN (`host=db password=x`), a comma list of URLs, and nested
    options (a mapping's secret-named keys, and every string inside through the same rules).
    """
    if isinstance(value, str):
        return _NAME_VALUE.sub(_mask_pair, _USERINFO.sub(_mask_userinfo, value))
    if isinstance(value, Mapping):
        return {name: _mask_option(str(name), item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_secrets(item) for item in value)
    return value


# The name callers have long used for a URL; it is the same function.
mask_url = mask_secrets


def _mask_option(name: str, value: Any) -> Any:
    if _SECRET_NAME.search(name) and value not in (None, "") and not isinstance(value, Mapping):
        return SECRET_MASK
    return mask_secrets(value)  # nested options, and URLs such as endpoint_url, inside


def _mask_userinfo(match: re.Match) -> str:
    scheme, userinfo = match["scheme"], match["userinfo"]
    user, colon, password = userinfo.partition(":")
    if colon and password:
        return f"{scheme}{user}:{SECRET_MASK}@"
    if colon or scheme[:-3].lower() in _KEEP_USER:
        return match[0]  # an empty password, or a Postgres role name alone, is not a secret
    return f"{scheme}{SECRET_MASK}@"  # a bare token as userinfo (https://TOKEN@host)


def _mask_pair(match: re.Match) -> str:
    if not _SECRET_NAME.search(match["name"]) or not match["value"]:
        return match[0]
    return f"{match['name']}{match['eq']}{SECRET_MASK}"
