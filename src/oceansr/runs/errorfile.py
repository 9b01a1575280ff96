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

__all__ = ["ERROR_TXT", "scrub_tracebacks", "write_error_file"]

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


def scrub_tracebacks(obj: Any, directory: str | os.PathLike[str] | None = None) -> Any:
    """``obj`` with every ``traceback_tail`` moved out: written to ``error.txt`` unless a
    ``traceback_path`` already names where it is, and replaced by that path."""
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
    return out
