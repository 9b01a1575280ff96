"""Argument coercion for the control plane: every public call checks its input here.

Callers are a CLI (strings), an MCP agent (JSON numbers, sometimes strings) and Python
code; each check turns a bad value into a :class:`~oceansr.control.replies.RequestError`
that names the argument, so the reply says what to fix instead of failing deep inside.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from oceansr.config.checks import check_output_overrides
from oceansr.runs import (
    STATUSES,
    RunPaths,
    check_run_dir,
    default_runs_root,
    validate_run_id,
)
from oceansr.runs import heartbeat_timeout_s as _protocol_heartbeat_timeout_s

from .replies import RequestError

PathLike = str | os.PathLike[str]


def runs_root_path(runs_root: PathLike | None) -> Path:
    """The runs directory as an absolute path (default ``$OCEANSR_RUNS`` or ``./runs``)."""
    if runs_root is None:
        return default_runs_root()
    return Path(runs_root).expanduser().absolute()


def run_paths(process_id: Any, runs_root: PathLike | None) -> RunPaths:
    """Paths of an existing run; the id is validated before any file-system access, and
    a run directory that is a link out of the runs root or holds links or special files
    in place of its files is refused as damaged (``runs.check_run_dir``)."""
    validate_run_id(process_id)
    paths = RunPaths.for_id(process_id, runs_root_path(runs_root))
    check_run_dir(paths)  # RunNotFoundError when there is nothing at all
    return paths


def choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise RequestError(
            f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}", field=name
        )
    return str(value)


def seconds(name: str, value: Any, *, minimum: float = 0.0) -> float:
    """A duration in seconds, at least ``minimum`` (NaN refused)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(
            f"{name} must be a number of seconds, got {value!r}", field=name
        ) from None
    if number != number or number < minimum:  # NaN or too small
        raise RequestError(f"{name} must be >= {minimum:g} seconds, got {value!r}", field=name)
    return number


def count(name: str, value: Any, *, minimum: int = 0) -> int:
    """A whole number of at least ``minimum`` (``3.0`` and ``"3"`` accepted, ``3.5`` not)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or float(value) != int(value):
                raise ValueError
            value = int(value)
        except (TypeError, ValueError):
            raise RequestError(f"{name} must be an integer, got {value!r}", field=name) from None
    if value < minimum:
        raise RequestError(f"{name} must be >= {minimum}, got {value}", field=name)
    return value


def normalise_overrides(overrides: Any) -> list[str]:
    """A list of ``key=value`` strings; one string is split like a shell would."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        overrides = shlex.split(overrides)
    if not isinstance(overrides, Iterable) or isinstance(overrides, Mapping):
        raise RequestError(
            f"overrides must be a list of 'key=value' strings, got {overrides!r}",
            field="overrides",
            suggestions=["overrides=['model=srcnn', 'trainer.max_epochs=20']"],
        )
    result = [str(item) for item in overrides]
    # hydra.*, run_id, runs_root, trainer.default_root_dir...: set by the launcher
    check_output_overrides(result)
    for item in result:
        if item.startswith("-"):
            raise RequestError(
                f"{item!r} is a command-line flag, not a Hydra override",
                suggestions=["use sweep(...) (CLI: oceansr start -m ...) for multirun"],
            )
    return result


def status_filter(value: Any) -> frozenset[str] | None:
    """The statuses ``list_runs`` keeps: a name, a comma-separated string or a list."""
    if value is None or value == "" or value == []:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = frozenset(str(item).strip() for item in items if str(item).strip())
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise RequestError(
            f"unknown status filter {', '.join(unknown)}; expected any of {', '.join(STATUSES)}",
            field="status",
        )
    return wanted


def heartbeat_timeout_s(value: float | None = None) -> float:
    """Seconds after which a heartbeat is stale: ``value``, else ``$OCEANSR_HEARTBEAT_TIMEOUT``,
    else 60 (the trainer beats every 5 s; the protocol requires at least every 10 s)."""
    if value is not None:
        value = seconds("heartbeat_timeout", value, minimum=0.001)
    return _protocol_heartbeat_timeout_s(value)
