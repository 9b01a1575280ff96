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

from .exceptions import CorruptRunFileError

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


def drop_torn_tail(path: str | os.PathLike[str], chunk: int = 64 * 1024) -> int:
    """Cut a half-written last line (no final newline) off a JSON-lines file.

    Only a writer that died mid-``write`` (a full disk, a SIGKILL) leaves one; it can
    never become valid, and a file of whole lines is what every reader (``jq``, pandas)
    expects. Call it under the run lock, before appending. Returns the bytes dropped.
    """
    fd = open_regular(path)
    try:
        size = end = os.fstat(fd).st_size
        while end > 0:
            start = max(0, end - chunk)
            newline = os.pread(fd, end - start, start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
    finally:
        os.close(fd)
    if keep < size:
        os.truncate(path, keep)
    return size - keep
