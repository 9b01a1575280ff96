"""Test helpers shared by the protocol and control-plane tests.

``make_run`` writes a run directory exactly as the control plane would leave it (no
trainer involved), in any state and with any recorded process identity or events, so
liveness, logs, list and kill rules can be tested in milliseconds. ``ScriptBackend`` is
a launch backend that runs a given Python snippet instead of the trainer: the seam
tests use to exercise start-up handling without monkeypatching private functions.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.control.backends import LocalBackend
from oceansr.runs import (
    ProcessIdentity,
    RunPaths,
    RunStatus,
    append_event,
    create_run,
    new_run_id,
    process_identity,
    transition,
    update_run,
)
from oceansr.runs.errorfile import ERROR_DIR


def make_run(
    root: Path,
    *,
    kind: str = "train",
    status: str = "running",
    pid: int | None = None,
    events: Iterable[Mapping[str, Any]] = (),
    backend: str = "local",
    overrides: Sequence[str] = ("experiment=smoke",),
    command: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    **ident: Any,
) -> RunPaths:
    """A run directory in state ``status`` (pending, running or terminal).

    ``pid``: the recorded process; without ``ident`` its real identity is looked up
    (it must exist), else ``ident`` gives ``create_time`` / ``pgid`` as recorded.
    ``events``: extra events appended last, each ``{"event": name, **payload}``.
    """
    paths = RunPaths.for_id(new_run_id(kind), root)
    create_run(
        paths,
        kind=kind,
        overrides=list(overrides),
        command=None if command is None else list(command),
        backend=backend,
        on_exit="keep",
        extra=dict(extra) if extra else None,
    )
    if pid is not None:
        identity = process_identity(pid) if not ident else {"pid": pid, **ident}
        update_run(
            paths,
            pid=identity["pid"],
            pgid=ident.get("pgid"),
            process_create_time=identity.get("create_time"),
        )
    if status != "pending":
        transition(paths, "running", event="process_started", changes={"pid": pid})
    if RunStatus(status).is_terminal:
        transition(paths, status, event="training_end" if status == "completed" else status)
    for event in events:
        payload = {k: v for k, v in event.items() if k != "event"}
        append_event(paths, event["event"], **payload)
    return paths


def created_in(root: Path) -> list[str]:
    """What a request left in the runs root ``root``, besides the private folder that
    keeps tracebacks of refused requests (``.errors/``): a refused request leaves ``[]``."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.name != ERROR_DIR)


def dead_pid() -> tuple[int, float]:
    """pid and start time of a process that has exited (and was reaped): what run.json
    holds for a run whose trainer died."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(proc.pid)
    proc.wait()
    return identity["pid"], identity["create_time"]


class ScriptBackend(LocalBackend):
    """The local backend, but every submitted command is replaced by ``python -c code``."""

    def __init__(self, name: str, code: str) -> None:
        self.name = name  # type: ignore[misc]  # per instance: one registry name per test
        self.code = code
        self.submitted: list[list[str]] = []

    def submit(
        self,
        run_id: str,
        command: Sequence[str],
        **kwargs: Any,
    ) -> ProcessIdentity:
        self.submitted.append(list(command))
        return super().submit(run_id, [sys.executable, "-c", self.code], **kwargs)
