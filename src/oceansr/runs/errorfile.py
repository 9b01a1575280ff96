"""Tracebacks go to a file, never into a reply (docs/architecture.md, failure taxonomy).

A traceback is for the developer reading a log, not for the agent or the notebook
reading a reply: it is long, it leaks paths and it hides the one line that says what
to change. The trainer and the control plane write the full traceback to
``<run dir>/error.txt`` and the reply's ``error_summary`` carries ``traceback_path``
instead of ``traceback_tail``.

Errors that belong to no run (a refused request) go to a private folder of the user:
``<runs root>/.errors/`` when the runs root exists, else ``$XDG_CACHE_HOME/oceansr/errors``
(``~/.cache/oceansr/errors``), never a shared temporary folder that other users can
read or fill. The folder is created 0700, each file 0600 under a fresh name, and only
the newest :data:`MAX_ERROR_FILES` are kept, so a stream of rejected requests cannot
fill a disk.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .fileio import real_run_dir
from .ids import is_valid_run_id
from .paths import ERROR_TXT, RunPaths

__all__ = [
    "ERROR_DIR",
    "ERROR_TXT",
    "MAX_ERROR_FILES",
    "error_folders",
    "prune_errors",
    "scrub_tracebacks",
    "strip_tracebacks",
    "write_error_file",
]

#: The folder of a runs root that keeps the tracebacks of requests that have no run
#: (hidden, and not a run id, so ``list`` never shows it).
ERROR_DIR = ".errors"
#: How many traceback files of requests without a run are kept (the newest).
MAX_ERROR_FILES = 200

PathArg = str | os.PathLike[str]


def _cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/oceansr/errors`` (an absolute XDG path only, as the XDG spec
    says), else ``~/.cache/oceansr/errors``; None without a home directory."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "oceansr" / "errors"
    try:
        return Path.home() / ".cache" / "oceansr" / "errors"
    except RuntimeError:  # no home directory: keep no file rather than a shared one
        return None


def error_folders(runs_root: PathArg | None = None) -> list[Path]:
    """Where tracebacks of requests without a run go, in order of preference:
    ``<runs_root>/.errors`` if ``runs_root`` is an existing directory (no runs root is
    created as a side effect of a refused request), then the user's cache folder."""
    folders = []
    if runs_root is not None and Path(runs_root).is_dir():
        folders.append(Path(runs_root) / ERROR_DIR)
    cache = _cache_folder()
    if cache is not None:
        folders.append(cache)
    return folders


def _private_folder(folder: Path) -> Path:
    """``folder`` created 0700 (parents as usual); an existing one must be a real
    directory of this user, tightened to 0700 (a link or someone else's folder raises)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(f"{folder} is not a private directory of this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)
    return folder


def _write_private(folder: Path, text: str) -> Path:
    """A new 0600 file under a name nobody can predict (time first, so names sort)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"{stamp}-{time.time_ns() % 10**9:09d}-{os.getpid()}-{secrets.token_hex(4)}.txt"
    target = _private_folder(folder) / name
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n")
    prune_errors(folder)
    return target


def prune_errors(folder: Path, keep: int = MAX_ERROR_FILES) -> int:
    """Delete all but the newest ``keep`` traceback files of ``folder`` (by name, which
    starts with the UTC time); returns how many went. Other files are left alone."""
    names = sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.name.endswith(".txt") and entry.is_file(follow_symlinks=False)
    )
    removed = 0
    for name in names[: max(0, len(names) - keep)]:
        with contextlib.suppress(FileNotFoundError):  # another process pruned it first
            os.unlink(folder / name)
            removed += 1
    return removed


def _append_to_run(directory: Path, text: str) -> Path | None:
    """Append to ``<run>/error.txt`` when ``directory`` is a run directory that is real
    and inside its runs root; never through a link in place of error.txt."""
    if not is_valid_run_id(directory.name):
        return None
    try:
        real_run_dir(RunPaths.from_dir(directory))
    except (OSError, ValueError):  # no such run, a link out of the root, a loop
        return None
    target = directory / ERROR_TXT
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(target, flags, 0o666)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"{target} is not a regular file")
        handle.write(text.rstrip("\n") + "\n")
    return target


def write_error_file(
    directory: PathArg | None, text: str, *, runs_root: PathArg | None = None
) -> str | None:
    """Append ``text`` to ``directory/error.txt`` when ``directory`` is a run directory,
    else write it to a new private file of :func:`error_folder` (``runs_root``: the runs
    root of the request, if known); its path, or None if nothing could be written (a
    full disk must not turn one error into two)."""
    with contextlib.suppress(OSError):
        if directory is not None:
            written = _append_to_run(Path(directory), text)
            if written is not None:
                return str(written)
    for folder in error_folders(runs_root):
        with contextlib.suppress(OSError):  # e.g. a .errors of another user: the next one
            return str(_write_private(folder, text))
    return None


TRACEBACK_HEAD = "Traceback (most recent call last):"


def strip_tracebacks(text: str, where: str | None) -> tuple[str, bool]:
    """``text`` (a log tail) with each Python traceback's frames replaced by one line
    naming the file that keeps them; the exception line after the frames stays, since
    it says what went wrong. Returns the text and whether anything was removed."""
    out: list[str] = []
    removed = in_frames = False
    for line in text.splitlines():
        if line.strip() == TRACEBACK_HEAD:
            in_frames = removed = True
            out.append(f"[traceback: see {where or ERROR_TXT}]")
            continue
        if in_frames and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        in_frames = False
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") and out else ""), removed


def _scrub_log_tail(out: dict[str, Any], directory: PathArg | None, root: PathArg | None) -> None:
    tail = out.get("log_tail")
    if not isinstance(tail, str) or TRACEBACK_HEAD not in tail:
        return
    path = out.get("traceback_path") or write_error_file(directory, tail, runs_root=root)
    out["log_tail"], _ = strip_tracebacks(tail, path)
    out.setdefault("traceback_path", path)


def scrub_tracebacks(
    obj: Any, directory: PathArg | None = None, *, runs_root: PathArg | None = None
) -> Any:
    """``obj`` with every ``traceback_tail`` moved out: written to ``error.txt`` (of the
    run ``directory``, else a private file under ``runs_root``, see
    :func:`write_error_file`) unless a ``traceback_path`` already names where it is, and
    replaced by that path. A ``log_tail`` (the end of train.log) keeps its lines but
    loses a traceback's frames."""
    if isinstance(obj, list):
        return [scrub_tracebacks(item, directory, runs_root=runs_root) for item in obj]
    if not isinstance(obj, Mapping):
        return obj
    out = {
        key: scrub_tracebacks(value, directory, runs_root=runs_root) for key, value in obj.items()
    }
    tail = out.get("traceback_tail")
    if isinstance(tail, str) and tail:
        if not out.get("traceback_path"):
            out["traceback_path"] = write_error_file(directory, tail, runs_root=runs_root)
        out["traceback_tail"] = None
    _scrub_log_tail(out, directory, runs_root)
    return out
