"""Reading run files without ever blocking (docs/architecture.md, run directory).

A run directory is shared with users and other tools: ``status.json`` may have been
replaced by a directory, a FIFO or a device by mistake or malice. ``open()`` on a FIFO
blocks until a writer appears, which would hang ``status`` and ``list`` for every run.
Files are therefore opened with ``O_NONBLOCK`` and checked to be regular files before
a single byte is read; anything else is a :class:`CorruptRunFileError` naming the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import CorruptRunFileError

__all__ = ["open_regular", "read_regular"]


def open_regular(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of ``path``, which must be a regular file.

    Raises ``FileNotFoundError`` if it is missing (callers treat that as "no file yet"),
    ``PermissionError`` if it cannot be read, :class:`CorruptRunFileError` if it is a
    directory, FIFO, socket or device. Opening never blocks.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise CorruptRunFileError(f"{path} is not a regular file (mode {stat.filemode(mode)})")
        os.set_blocking(fd, True)  # regular files never block; plain reads from here on
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The whole content of the regular file ``path`` (see :func:`open_regular`)."""
    with os.fdopen(open_regular(Path(path)), "rb") as handle:
        return handle.read()
