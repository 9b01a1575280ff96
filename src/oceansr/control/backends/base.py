"""The launch backend interface: how the control plane runs and steers a process.

The control plane owns the run directory and the replies; a backend owns the
machinery that runs the work: where the process lives, how its identity is recorded,
how to tell whether it is still alive, how to stop it and how its exit status is
observed. ``local`` (a process in its own session on this machine) implements it
today; a batch scheduler (Slurm) implements the same methods with a job id instead of
a pid. See docs/architecture.md, launch backends.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from oceansr.runs import (
    LostVerdict,
    ProcessIdentity,
    RunPaths,
    lost_verdict,
    on_this_host,
    run_identity,
)

#: Called once with the exit status when the backend observes that the process ended.
ExitCallback = Callable[[int], None]


@dataclass
class StopOutcome:
    """What :meth:`Backend.stop` did: the last signal sent, whether the grace period ran
    out (hard kill), and any process (or job step) that survived."""

    signal: str | None = None
    escalated: bool = False
    survivors: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "escalated": self.escalated, "survivors": self.survivors}


class Backend(ABC):
    """Runs a command for a run and answers for it later, from any process.

    Everything a later controller needs must be recoverable from the identity that
    :meth:`submit` returns (recorded in run.json), since the controller that started a
    run may be long gone when another one asks about it.
    """

    #: The name recorded in run.json (``backend``) and accepted by ``start(backend=...)``.
    name: ClassVar[str]

    # ------------------------------------------------------------------ submit

    def check_available(self) -> None:
        """Raise :class:`~oceansr.core.errors.MissingDependencyError` when a program this
        backend needs is not installed here. Called before a run directory is created,
        so a missing scheduler leaves nothing behind; the default needs nothing."""
        return

    @abstractmethod
    def environment(self, *, on_exit: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a new run (``base``: default ``os.environ``); with
        ``on_exit="terminate"`` it tells the run which controller to watch."""

    @abstractmethod
    def submit(
        self,
        run_id: str,
        command: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        on_exit: ExitCallback | None = None,
    ) -> ProcessIdentity:
        """Start ``command`` detached, stdout+stderr appended to ``log_path``; return the
        identity to record in run.json. ``on_exit`` is called with the exit status when
        this backend observes the end. Raises ``OSError`` if it cannot be started."""

    # ------------------------------------------------------------------ exit observation

    @abstractmethod
    def exit_code(
        self, run_id: str, identity: ProcessIdentity, *, wait_s: float = 0.0
    ) -> int | None:
        """The exit status if it is known here (waiting up to ``wait_s`` for the reaper);
        ``None`` while it runs or when this controller cannot know it."""

    @abstractmethod
    def wait_recorded(self, run_id: str, identity: ProcessIdentity, timeout: float) -> bool:
        """Wait until the ``on_exit`` callback of :meth:`submit` has returned; False if
        it did not within ``timeout`` or this controller did not submit the run."""

    # ------------------------------------------------------------------ identity, liveness

    @abstractmethod
    def is_running(self, identity: ProcessIdentity) -> bool:
        """Whether the recorded process (or job) still runs."""

    def unreachable_reason(self, run_doc: Mapping[str, Any]) -> str | None:
        """Why this controller cannot signal the run (e.g. another host), or None."""
        if on_this_host(run_doc):
            return None
        return f"it runs on host {run_doc.get('host')!r}; call kill on that host"

    def lost_verdict(
        self,
        paths: RunPaths,
        doc: Mapping[str, Any],
        run_doc: Mapping[str, Any],
        stale_after: float,
    ) -> LostVerdict | None:
        """Whether the run's process is gone, with its exit status where observed.

        The default applies the protocol's rules (:func:`oceansr.runs.lost_verdict`:
        dead or reused pid, nothing recorded, stale heartbeat) plus this backend's
        :meth:`exit_code`; a scheduler backend adds the job state on top.
        """

        identity = run_identity(run_doc)

        def observed(run_id: str, _pid: int, wait_s: float) -> int | None:
            return self.exit_code(run_id, identity, wait_s=wait_s)

        return lost_verdict(paths, doc, run_doc, stale_after, exit_code=observed)

    # ------------------------------------------------------------------ signal, cancel

    @abstractmethod
    def stop(self, identity: ProcessIdentity, grace: float) -> StopOutcome:
        """Graceful stop (SIGTERM to the main process, which checkpoints), a hard kill of
        the whole group or job after ``grace`` seconds, then a survivors check."""
