"""Tracebacks go to a file, never into a reply (docs/architecture.md, failure taxonomy).

A traceback is for the developer reading a log, not for the agent or the notebook
reading a reply: it is long, it leaks paths and it hides the one line that says what
to change. The trainer and the control plane write the full traceback to
``<run dir>/error.txt`` (errors that belong to no run: ``<tmp>/oceansr-errors/``) and
the reply's ``error_summary`` carries ``traceback_path`` instead of ``traceback_tail``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ERROR_TXT", "scrub_tracebacks", "strip_tracebacks", "write_error_file"]

ERROR_TXT = "error.txt"


def _fallback_dir() -> Path:
    return Path(tempfile.gettempdir()) / "oceansr-errors"


def write_error_file(directory: str | os.PathLike[str] | None, text: str) -> str | None:
    """Append ``text`` to ``directory/error.txt`` (or a fresh file under the temp
    directory when there is no run directory); its path, or None if nothing could be
    written (a full disk must not turn one error into two)."""
    try:
        if directory is not None and Path(directory).is_dir():
            target = Path(directory) / ERROR_TXT
        else:
            folder = _fallback_dir()
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.time_ns()}.txt"
        with target.open("a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n")
        return str(target)
    except OSError:
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


def _scrub_log_tail(out: dict[str, Any], directory: str | os.PathLike[str] | None) -> None:
    tail = out.get("log_tail")
    if not isinstance(tail, str) or TRACEBACK_HEAD not in tail:
        return
    path = out.get("traceback_path") or write_error_file(directory, tail)
    out["log_tail"], _ = strip_tracebacks(tail, path)
    out.setdefault("traceback_path", path)


def scrub_tracebacks(obj: Any, directory: str | os.PathLike[str] | None = None) -> Any:
    """``obj`` with every ``traceback_tail`` moved out: written to ``error.txt`` unless a
    ``traceback_path`` already names where it is, and replaced by that path. A
    ``log_tail`` (the end of train.log) keeps its lines but loses a traceback's frames."""
    if isinstance(obj, list):
        return [scrub_tracebacks(item, directory) for item in obj]
    if not isinstance(obj, Mapping):
        return obj
    out = {key: scrub_tracebacks(value, directory) for key, value in obj.items()}
    tail = out.get("traceback_tail")
    if isinstance(tail, str) and tail:
        if not out.get("traceback_path"):
            out["traceback_path"] = write_error_file(directory, tail)
        out["traceback_tail"] = None
    _scrub_log_tail(out, directory)
    return out
