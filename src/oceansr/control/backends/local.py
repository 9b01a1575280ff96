"""Local launch backend: training processes on this machine, in their own session.

What it guarantees, and why:

- **Own session and process group** (``start_new_session=True``): a training run must
  survive its controller's process group being killed (an MCP client SIGKILLs the
  server's whole group on close), and a kill can later address the run's group
  (DataLoader workers included) without touching anyone else.
- **No zombies**: every child gets a daemon *reaper* thread that waits for it, so the
  exit status is collected as soon as the process ends, and a callback records the
  outcome in the run directory if the trainer could not (SIGKILL, crash at import).
- **Signals go to the right process**: a pid is only signalled after its start time
  matches the recorded one (pids are reused), and a process group only when the run
  leads it (``pgid == pid``), never the caller's own group.

This module knows processes, not run files; the control plane decides what to record
(see docs/architecture.md, launch backends). :class:`LocalBackend` is the
:class:`~oceansr.control.backends.base.Backend` made of the functions below.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oceansr.runs import (
    BACKGROUND_ENV,
    PARENT_ENV,
    RUN_ID_ENV,
    ProcessIdentity,
    is_alive,
    process_identity,
)

from .base import Backend, ExitCallback, StopOutcome

BACKEND = "local"
#: Variables a controller must not leak into a run it starts (they describe *another* run).
_SCRUBBED_ENV = (PARENT_ENV, RUN_ID_ENV, "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE")
_POLL_S = 0.02


@dataclass
class LocalProcess:
    """A spawned training process and what identifies it."""

    run_id: str
    popen: subprocess.Popen[bytes]
    pid: int
    pgid: int
    create_time: float | None
    reaper: threading.Thread | None = None
    #: set once the exit status is known *and* the exit callback has returned
    finished: threading.Event | None = None

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode


_registry: dict[str, LocalProcess] = {}
_registry_lock = threading.Lock()


def child_env(*, on_exit: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of a background run: unbuffered, no progress bars, parent watch if asked."""
    env = dict(os.environ if base is None else base)
    for key in _SCRUBBED_ENV:
        env.pop(key, None)
    env[BACKGROUND_ENV] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if on_exit == "terminate":
        me = process_identity()
        env[PARENT_ENV] = f"{me['pid']}:{me['create_time']!r}"
    return env


def spawn(
    run_id: str,
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str] | None = None,
    on_exit: Callable[[int], None] | None = None,
) -> LocalProcess:
    """Start ``command`` detached (own session), output appended to ``log_path``.

    ``on_exit(returncode)`` runs in the reaper thread once the process has ended; the
    process stays registered so :func:`exit_code` can answer later. Raises ``OSError``
    if the program cannot be started.
    """
    # O_NOFOLLOW: a train.log replaced by a link (before a resume) is refused, never
    # appended through (docs/architecture.md, run directory).
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(log_path, flags, 0o666), "ab", buffering=0) as log:
        popen = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    try:
        create_time: float | None = process_identity(popen.pid)["create_time"]
    except ProcessLookupError:  # exited already (and not reaped: cannot happen) — keep going
        create_time = None
    proc = LocalProcess(
        run_id=run_id,
        popen=popen,
        pid=popen.pid,
        pgid=popen.pid,  # start_new_session: the child leads its own group
        create_time=create_time,
        finished=threading.Event(),
    )
    proc.reaper = threading.Thread(
        target=_reap, args=(proc, on_exit), name=f"oceansr-reaper-{run_id}", daemon=True
    )
    with _registry_lock:
        _registry[run_id] = proc
    proc.reaper.start()
    return proc


def _reap(proc: LocalProcess, on_exit: Callable[[int], None] | None) -> None:
    try:
        code = proc.popen.wait()
        if on_exit is not None:
            with contextlib.suppress(Exception):  # recording is best effort; readers retry
                on_exit(code)
    finally:
        assert proc.finished is not None
        proc.finished.set()


def registered(run_id: str, pid: int | None = None) -> LocalProcess | None:
    """The process this controller started for ``run_id`` (and ``pid``, if given)."""
    with _registry_lock:
        proc = _registry.get(run_id)
    if proc is None or (pid is not None and proc.pid != pid):
        return None
    return proc


def exit_code(run_id: str, pid: int | None, *, wait_s: float = 0.0) -> int | None:
    """Exit status of ``run_id``'s process if this controller started and reaped it.

    ``wait_s`` waits that long for the reaper (the process just died). ``None``:
    still running, or not our child (the exit status of another process's child is
    not knowable).
    """
    proc = registered(run_id, pid)
    if proc is None:
        return None
    deadline = time.monotonic() + wait_s
    while proc.returncode is None and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    return proc.returncode


def wait_recorded(run_id: str, pid: int | None, timeout: float) -> bool:
    """Wait until the reaper has run the exit callback for ``run_id`` (if ours)."""
    proc = registered(run_id, pid)
    if proc is None or proc.finished is None:
        return False
    return proc.finished.wait(timeout)


# --------------------------------------------------------------------------- signals


def alive(pid: int | None, create_time: float | None) -> bool:
    """The recorded process still runs (not a zombie, start time matches)."""
    return is_alive(pid, create_time)


def send_signal(pid: int, create_time: float | None, sig: int) -> bool:
    """Signal ``pid`` if it is still the recorded process; False if it is gone."""
    if not alive(pid, create_time):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def owns_group(pid: int | None, pgid: int | None) -> bool:
    """True if signalling ``pgid`` can only reach the run: it leads its own group,
    and that group is not ours."""
    if pid is None or pgid is None or pgid <= 1 or pgid != pid:
        return False
    try:
        return pgid != os.getpgrp()
    except OSError:
        return False


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    import psutil

    members = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if os.getpgid(proc.info["pid"]) == pgid:
                members.append(proc.info["pid"])
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def descendants(pid: int, create_time: float | None) -> list[Any]:
    """psutil handles of ``pid``'s live descendants (empty if it is gone)."""
    import psutil

    if not alive(pid, create_time):
        return []
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def wait_gone(pid: int, create_time: float | None, timeout: float) -> bool:
    """Poll until the process has exited (zombie counts as exited); True if it did."""
    deadline = time.monotonic() + max(0.0, timeout)
    while alive(pid, create_time):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def kill_group(pgid: int, *, timeout: float = 5.0) -> list[int]:
    """SIGKILL every process of ``pgid`` until none is left; return the survivors (if any)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        members = group_members(pgid)
        if not members or time.monotonic() >= deadline:
            return members
        time.sleep(_POLL_S)


def kill_tree(processes: Sequence[Any], *, timeout: float = 5.0) -> list[int]:
    """SIGKILL the given psutil processes (a run that does not lead its group)."""
    import psutil

    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    _gone, alive_ = psutil.wait_procs(list(processes), timeout=timeout)
    return [proc.pid for proc in alive_]


# --------------------------------------------------------------------------- backend


def _stop_tree(pid: int, created: float | None, tree: list[Any]) -> list[Any]:
    """Hard-kill a run that does not lead its group: the process and its descendants."""
    import psutil

    with contextlib.suppress(psutil.Error):
        if alive(pid, created):
            tree = [psutil.Process(pid), *tree]
    kill_tree(tree)
    return tree


class LocalBackend(Backend):
    """Processes on this machine, each in its own session (see the module docstring)."""

    name = BACKEND

    def environment(self, *, on_exit: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
        return child_env(on_exit=on_exit, base=base)

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
        proc = spawn(run_id, command, log_path=log_path, env=env, cwd=cwd, on_exit=on_exit)
        return ProcessIdentity(pid=proc.pid, pgid=proc.pgid, create_time=proc.create_time)

    def exit_code(
        self, run_id: str, identity: ProcessIdentity, *, wait_s: float = 0.0
    ) -> int | None:
        return exit_code(run_id, identity.pid, wait_s=wait_s)

    def wait_recorded(self, run_id: str, identity: ProcessIdentity, timeout: float) -> bool:
        return wait_recorded(run_id, identity.pid, timeout)

    def is_running(self, identity: ProcessIdentity) -> bool:
        return alive(identity.pid, identity.create_time)

    def stop(self, identity: ProcessIdentity, grace: float) -> StopOutcome:
        """SIGTERM the trainer alone (signalling the group would kill DataLoader workers
        mid-batch), SIGKILL its whole group after ``grace``, leave nothing behind."""
        pid, pgid, created = identity.pid, identity.pgid, identity.create_time
        outcome = StopOutcome()
        if pid is None:
            return outcome
        leads = owns_group(pid, pgid)
        # A run that does not lead its group (a foreground run): remember its descendants now.
        tree = [] if leads else descendants(pid, created)
        if send_signal(pid, created, signal.SIGTERM):
            outcome.signal = "SIGTERM"
        if not wait_gone(pid, created, grace):
            outcome.signal, outcome.escalated = "SIGKILL", True
            if leads and pgid is not None:
                kill_group(pgid)
            else:
                tree = _stop_tree(pid, created, tree)
            wait_gone(pid, created, 5.0)
        # Whatever is left of the group (DataLoader workers of a clean stop) goes too.
        if leads and pgid is not None:
            outcome.survivors = kill_group(pgid)
        else:
            outcome.survivors = kill_tree([p for p in tree if p.is_running()])
        return outcome
