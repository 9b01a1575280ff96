"""Run files, read and written without following links or blocking on special files.

See docs/architecture.md, run directory.

A run directory is shared with users, other tools and agents: ``status.json`` may have
been replaced by a directory, a FIFO or a device, ``train.log`` by a symbolic link to
``/etc/passwd``, a whole run directory by a link to somewhere else, by mistake or
malice. ``open()`` on a FIFO blocks until a writer appears (a hung ``status`` or
``list``), and following a link would hand a file from outside the run directory to
whoever asks for the run's log, or write a report into someone else's folder.

So every reader and writer of run files goes through this module:

* files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked to be regular files
  before a single byte is read (:func:`open_regular`); with ``base`` every folder
  between the run directory and the file is opened without following links too;
* a run directory must resolve, after links, to a directory inside its runs root, and
  its known files must be plain files (:func:`check_run_dir`);
* a report or plot is written only to a plain path in the real run directory
  (:func:`writable_run_file`).

Anything else is a :class:`CorruptRunFileError` naming the file, never its target's
content: replies call that run directory damaged and ``list`` shows it as one
``unreadable`` row.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .exceptions import CorruptRunFileError, RunNotFoundError
from .paths import (
    BEST_CKPT,
    CHECKPOINTS_DIR,
    CONFIG_YAML,
    DATA_STATS_JSON,
    ERROR_TXT,
    EVENTS_JSONL,
    LAST_CKPT,
    METRICS_CSV,
    PLOTS_DIR,
    REPORT_HTML,
    REPORT_MD,
    RUN_JSON,
    STATUS_JSON,
    TRAIN_LOG,
    RunPaths,
)

__all__ = [
    "check_run_dir",
    "drop_torn_tail",
    "open_regular",
    "read_regular",
    "real_run_dir",
    "writable_run_file",
    "writable_run_folder",
]

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Files of the protocol that must be regular files when present (a link or a special
#: file in their place makes the run directory damaged).
RUN_FILES: tuple[str, ...] = (
    RUN_JSON,
    STATUS_JSON,
    EVENTS_JSONL,
    TRAIN_LOG,
    ERROR_TXT,
    METRICS_CSV,
    CONFIG_YAML,
    DATA_STATS_JSON,
    REPORT_MD,
    REPORT_HTML,
    LAST_CKPT,
    BEST_CKPT,
)
#: Folders of the protocol that must be real directories when present.
RUN_FOLDERS: tuple[str, ...] = (CHECKPOINTS_DIR, PLOTS_DIR)

_FIX = "run files must be regular files inside the run directory"
_LINK = "a symbolic link, which is not followed"


def _not_regular(path: Path, mode: int) -> CorruptRunFileError:
    kind = _LINK if stat.S_ISLNK(mode) else f"not a regular file ({_kind(mode)})"
    return CorruptRunFileError(f"{path} is {kind}; {_FIX}")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return f"{name}, mode {stat.filemode(mode)}"
    return f"mode {stat.filemode(mode)}"


def _open_nofollow(path: Path, name: str, flags: int, dir_fd: int | None) -> int:
    """``os.open`` that turns "this is a link" (``ELOOP`` under ``O_NOFOLLOW``) into a
    :class:`CorruptRunFileError` naming ``path``."""
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        folder = bool(flags & os.O_DIRECTORY)
        if exc.errno not in (errno.ELOOP, errno.EMLINK) and not (
            folder and exc.errno == errno.ENOTDIR
        ):
            raise
        mode = os.lstat(name, dir_fd=dir_fd).st_mode
        if not stat.S_ISLNK(mode) and (stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)):
            raise  # the loop is further up the path: the plain OSError says so
    raise _not_folder(path, mode) if folder else _not_regular(path, mode)


def _open_folders(base: Path, folders: tuple[str, ...]) -> int:
    """A descriptor of ``base/folders...``, each folder below ``base`` opened without
    following a link (``base`` itself was checked by :func:`check_run_dir`)."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    walked = base
    try:
        for folder in folders:
            walked = walked / folder
            inner = _open_nofollow(walked, folder, _DIR_FLAGS, fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(
    path: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None
) -> int:
    """A read-only descriptor of ``path``, which must be a regular file, not a link.

    With ``base`` (a run directory holding ``path``), no folder between ``base`` and
    ``path`` may be a link either (``checkpoints/`` linked elsewhere). Raises
    ``FileNotFoundError`` if it is missing (callers treat that as "no file yet"),
    ``PermissionError`` if it cannot be read, :class:`CorruptRunFileError` if it is a
    link, a directory, FIFO, socket or device. Opening never blocks.
    """
    target = Path(path)
    if base is None:
        fd = _open_nofollow(target, os.fspath(target), _READ_FLAGS, None)
    else:
        parts = target.relative_to(base).parts
        folder_fd = _open_folders(Path(base), parts[:-1])
        try:
            fd = _open_nofollow(target, parts[-1], _READ_FLAGS, folder_fd)
        finally:
            os.close(folder_fd)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(target, mode)
        os.set_blocking(fd, True)  # regular files never block; plain reads from here on
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(
    path: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None
) -> bytes:
    """The whole content of the regular file ``path`` (see :func:`open_regular`)."""
    with os.fdopen(open_regular(Path(path), base=base), "rb") as handle:
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
    if keep < size:  # truncate the file checked above, never a link's target
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            os.ftruncate(fd, keep)
        finally:
            os.close(fd)
    return size - keep


# --------------------------------------------------------------------------- run directories


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path, strict=True))


def real_run_dir(paths: RunPaths) -> Path:
    """The run's directory, checked to be a directory inside its runs root: ``paths.dir``
    itself when it is a real directory (``<root>/<run id>`` is inside the root by
    construction, so that costs one ``lstat``), else where its link leads, which must be
    a directory of the run's name inside the (resolved) runs root. A link out of the
    root, a link loop or a dangling link is a :class:`CorruptRunFileError`, nothing
    there at all a :class:`RunNotFoundError`."""
    try:
        mode = os.lstat(paths.dir).st_mode
    except FileNotFoundError:
        raise RunNotFoundError(paths.run_id, paths.dir) from None
    if stat.S_ISDIR(mode):
        return paths.dir
    if not stat.S_ISLNK(mode):
        raise CorruptRunFileError(f"run directory {paths.dir} is not a directory ({_kind(mode)})")
    try:
        real = _real(paths.dir)
    except OSError as exc:  # ELOOP (a loop), ENOENT (a dangling link)
        reason = "a link loop" if exc.errno == errno.ELOOP else "a link to nothing"
        raise CorruptRunFileError(
            f"run directory {paths.dir} is {reason}; run directories must be real "
            f"directories inside the runs root {paths.root}"
        ) from None
    if not real.is_dir():
        raise CorruptRunFileError(f"run directory {paths.dir} is not a directory")
    root = _real(paths.root)
    if real.parent != root and root not in real.parents:
        raise CorruptRunFileError(
            f"run directory {paths.dir} is a link that leads outside the runs root "
            f"{paths.root}; run directories must be inside the runs root (links out of it "
            "are not followed)"
        )
    if real.name != paths.run_id:
        raise CorruptRunFileError(
            f"run directory {paths.dir} is a link to another run ({real.name}); each run "
            "directory must be its own"
        )
    return real


def check_run_dir(paths: RunPaths) -> Path:
    """Refuse a run directory that is not safe to read or write: see :func:`real_run_dir`,
    and every protocol file present must be a regular file and every protocol folder a
    real directory (links and special files refused, named). One directory listing per
    folder (the entry types come with it), so ``list`` stays cheap. Returns the run
    directory to use (see :func:`real_run_dir`)."""
    real = real_run_dir(paths)
    _check_entries(real, paths.dir, "")
    return real


#: What :func:`check_run_dir` expects in each folder of a run: ``{folder: {name: is dir}}``.
_EXPECTED: dict[str, dict[str, bool]] = {}
for _name in (*RUN_FILES, *RUN_FOLDERS):
    _folder, _, _leaf = _name.rpartition("/")
    _EXPECTED.setdefault(_folder, {})[_leaf] = _name in RUN_FOLDERS


def _check_entries(real: Path, shown: Path, folder: str) -> None:
    expected = _EXPECTED.get(folder, {})
    try:
        entries = list(os.scandir(real / folder if folder else real))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        is_folder = expected.get(entry.name)
        if is_folder is None:
            continue  # not a protocol file: the user's, left alone
        name = f"{folder}/{entry.name}" if folder else entry.name
        if is_folder and entry.is_dir(follow_symlinks=False):
            if name in _EXPECTED:
                _check_entries(real, shown, name)
        elif not is_folder and entry.is_file(follow_symlinks=False):
            continue
        else:
            mode = entry.stat(follow_symlinks=False).st_mode
            raise (_not_folder if is_folder else _not_regular)(shown / name, mode)


def _not_folder(path: Path, mode: int) -> CorruptRunFileError:
    kind = _LINK if stat.S_ISLNK(mode) else f"not a directory ({_kind(mode)})"
    return CorruptRunFileError(f"{path} is {kind}; run folders must be real directories")


def writable_run_folder(paths: RunPaths, relative: str) -> Path:
    """``paths.dir / relative`` as a real folder of the real run directory (created if
    missing), so that files written into it stay in the run: the run directory must be
    inside its runs root (:func:`real_run_dir`) and no folder on the way a link."""
    real = real_run_dir(paths)
    parts = _inside(relative)
    folder, shown = real, paths.dir
    for part in parts:
        folder, shown = folder / part, shown / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            os.mkdir(folder)
            continue
        if not stat.S_ISDIR(mode):
            raise _not_folder(shown, mode)
    return paths.dir.joinpath(*parts)


def writable_run_file(paths: RunPaths, relative: str) -> Path:
    """``paths.dir / relative`` once it is safe to replace: its folder is real and in the
    run (:func:`writable_run_folder`) and the file, if it exists, is a regular file, not
    a link (a report is never written through a link). Returns the path to write."""
    parts = _inside(relative)
    folder = writable_run_folder(paths, os.path.join(*parts[:-1]) if len(parts) > 1 else "")
    target = folder / parts[-1]
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise _not_regular(target, mode)
    return target


def _inside(relative: str) -> tuple[str, ...]:
    """The parts of a path relative to the run directory that cannot leave it."""
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{relative!r} is not a path inside the run directory")
    return path.parts
