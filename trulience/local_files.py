"""Reading files a user handed us (inbox drops, CSV imports): regular files only.

A symbolic link would let a drop import (or a quarantine write to) something outside the
inbox, and opening a named pipe blocks until someone writes to it, forever. So the kind of
a path is checked with lstat before anything is opened, and the open itself neither follows
a link nor waits on a pipe, in case the path was swapped in between.
"""

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from trulience.errors import FileProblem
from trulience.quoting import quote_name

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotARegularFile(FileProblem):
    """A path that is missing, or is something other than a regular file; says what it is."""


def kind_of(mode: int) -> str:
    """What an lstat mode describes, in words: 'a regular file', 'a symbolic link' ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def refusal(mode: int, wanted: str = "regular files") -> str:
    """The reason a path of this mode is not read, e.g. 'is a symbolic link; only regular
    files are imported'."""
    return f"is {kind_of(mode)}; only {wanted} are imported"


def check_regular(path: str | os.PathLike, label: str | None = None) -> os.stat_result:
    """lstat `path` and return its stat if it is a regular file (not a link to one), else
    raise NotARegularFile naming it (`label`, else its escaped name) and saying what it is."""
    shown = label if label is not None else quote_name(Path(path).name)
    try:
        info = os.lstat(path)
    except FileNotFoundError as exc:
        raise NotARegularFile(shown, "no such file") from exc
    except OSError as exc:
        raise NotARegularFile(shown, f"cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFile(shown, refusal(info.st_mode))
    return info


def open_regular(path: str | os.PathLike, label: str | None = None) -> BinaryIO:
    """Open a regular file for reading; refuse links, folders, pipes, sockets and devices
    without opening them (NotARegularFile)."""
    shown = label if label is not None else quote_name(Path(path).name)
    check_regular(path, shown)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        # The path changed after lstat: a link put in its place (ELOOP), or removed.
        if exc.errno == errno.ELOOP:
            raise NotARegularFile(shown, refusal(stat.S_IFLNK)) from exc
        raise NotARegularFile(shown, f"cannot be read ({exc.strerror or exc})") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFile(shown, refusal(mode))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
