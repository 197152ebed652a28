"""Domain errors: each says what was wrong and why, in words a producer can act on."""


class TrulienceError(Exception):
    """Base of every error the platform raises on purpose."""


class ConfigError(TrulienceError):
    """A setting (environment variable or file) has a value we cannot use."""


class DatabaseUnavailable(TrulienceError):
    """The catalog database cannot be reached or lacks what we need (pgvector)."""


class InvalidStorageKey(TrulienceError):
    """A storage key would escape its root or holds characters storage cannot take."""


class StorageError(TrulienceError):
    """A storage operation failed (missing object, unreachable bucket)."""


class FileProblem(TrulienceError):
    """Something wrong with one file: names the file and says why."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(str(path), reason)
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
