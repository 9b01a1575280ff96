"""Is the process behind a run still alive? And if not, record that it is lost.

A pid alone is not enough: pids are reused, so a run records its process's start time
with the pid, and a process only counts as the run's if both match. psutil is imported
lazily so ``import oceansr.runs`` stays cheap.

A run whose status is not terminal is *lost* when its recorded process on this host is
dead or its pid was reused, when no process was recorded long after creation, or when
its heartbeat is stale. :func:`apply_liveness` records a verdict once, under the run
lock; the verdict itself always comes from the run's launch backend (the control
plane's ``observe.live``), because a pid, a host or a missing process means something
only to the backend that launched the run: a Slurm job's pid lives on a compute node
and a queued job has none (see docs/architecture.md, run directory).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .outcome import age_s, record_exit
from .paths import RunPaths
from .protocol import HEARTBEAT_TIMEOUT_ENV, hostname
from .records import is_terminal
from .store import parse_iso, read_status

#: Default slack when comparing start times: psutil derives them from boot time and
#: clock ticks, which can shift by a fraction of a second between readings.
CREATE_TIME_TOLERANCE_S = 1.0


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """``{"pid", "create_time"}`` of ``pid`` (default: this process), to store in run.json.

    Raises ``ProcessLookupError`` if there is no such process.
    """
    import psutil

    pid = os.getpid() if pid is None else pid
    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess as exc:
        raise ProcessLookupError(f"no process with pid {pid}") from exc
    return {"pid": pid, "create_time": create_time}


def is_alive(
    pid: int | None, create_time: float | None, tolerance: float = CREATE_TIME_TOLERANCE_S
) -> bool:
    """True if ``pid`` runs, is not a zombie, and (if given) started at ``create_time``.

    A different start time means the pid was reused by an unrelated process, so the run's
    own process is gone. ``create_time=None`` skips that check (identity unknown). A
    process we may not inspect (another user's) counts as alive: it exists.
    """
    if pid is None or isinstance(pid, bool) or pid <= 0:
        return False
    import psutil

    try:
        process = psutil.Process(pid)
        if create_time is not None and abs(process.create_time() - create_time) > tolerance:
            return False
        return process.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:  # includes ZombieProcess
        return False
    except psutil.AccessDenied:
        return True


def _as_datetime(now: datetime | float | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, datetime):
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now
    return datetime.fromtimestamp(now, UTC)


def heartbeat_age_s(
    status_doc: Mapping[str, Any], now: datetime | float | None = None
) -> float | None:
    """Seconds since the status doc's ``heartbeat_at``; ``None`` if there is none yet.

    ``now`` may be a datetime (naive means UTC) or a POSIX timestamp. A heartbeat in the
    future (clock skew between hosts) counts as age 0 rather than a negative age.
    A malformed timestamp yields ``None``: unknown, not stale.
    """
    stamp = status_doc.get("heartbeat_at")
    if not isinstance(stamp, str):
        return None
    try:
        beat = parse_iso(stamp)
    except ValueError:
        return None
    return max(0.0, (_as_datetime(now) - beat).total_seconds())


# --------------------------------------------------------------------------- verdicts

#: A non-terminal run whose heartbeat is older than this is lost (env overrides it).
DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0

#: ``exit_code(run_id, pid, wait_s)``: a backend's observed exit status of the run's
#: process (None: unknown or still running), waiting up to ``wait_s`` for its reaper.
ExitLookup = Callable[[str, int, float], "int | None"]


@dataclass(frozen=True)
class ProcessIdentity:
    """What run.json says identifies a run's process (any part may be unknown).

    ``job_id`` is a scheduler's handle for backends that submit jobs rather than spawn
    processes; the local backend leaves it ``None``.
    """

    pid: int | None
    pgid: int | None = None
    create_time: float | None = None
    job_id: str | None = None

    def run_fields(self) -> dict[str, Any]:
        """The run.json fields that record this identity (``job_id`` only when set)."""
        fields: dict[str, Any] = {
            "pid": self.pid,
            "pgid": self.pgid,
            "process_create_time": self.create_time,
        }
        if self.job_id is not None:
            fields["job_id"] = self.job_id
        return fields


@dataclass(frozen=True)
class LostVerdict:
    """A run's process is gone: its exit status when known, and why we think so."""

    exit_code: int | None
    reason: str


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_identity(run_doc: Mapping[str, Any]) -> ProcessIdentity:
    """The recorded pid, process group and start time (malformed values count as unknown)."""
    created = run_doc.get("process_create_time")
    job_id = run_doc.get("job_id")
    return ProcessIdentity(
        pid=_int_or_none(run_doc.get("pid")),
        pgid=_int_or_none(run_doc.get("pgid")),
        create_time=float(created) if isinstance(created, int | float) else None,
        job_id=str(job_id) if isinstance(job_id, str | int) else None,
    )


def on_this_host(run_doc: Mapping[str, Any]) -> bool:
    """Whether the run's process lives on this machine (a pid means nothing elsewhere)."""
    host = run_doc.get("host")
    return host is None or host == hostname()


def heartbeat_timeout_s(value: float | None = None) -> float:
    """Seconds after which a heartbeat is stale: ``value``, else ``$OCEANSR_HEARTBEAT_TIMEOUT``,
    else 60 (the trainer beats every 5 s, the protocol requires at least every 10 s).

    Raises ``ValueError`` for a ``value`` that is not a positive number.
    """
    if value is not None:
        number = float(value)
        if not number > 0:  # also NaN
            raise ValueError(f"heartbeat_timeout must be > 0 seconds, got {value!r}")
        return number
    with contextlib.suppress(TypeError, ValueError):
        env = float(os.environ.get(HEARTBEAT_TIMEOUT_ENV, ""))
        if env > 0:
            return env
    return DEFAULT_HEARTBEAT_TIMEOUT_S


def lost_verdict(
    paths: RunPaths,
    doc: Mapping[str, Any],
    run_doc: Mapping[str, Any],
    stale_after: float,
    exit_code: ExitLookup | None = None,
) -> LostVerdict | None:
    """A verdict if the run's process is gone, ``None`` if it may be alive.

    The protocol's rules for a run whose process this machine can see: a recorded
    process on this host that is dead or whose pid was reused; no process recorded long
    after creation; a stale heartbeat. A backend applies them to the runs they fit
    (``Backend.lost_verdict``; a scheduler backend judges jobs by their job state
    instead); ``exit_code`` lets it add what only it observes (the status its reaper
    collected), so the verdict carries the real exit status when one is known.
    """
    ident = run_identity(run_doc)
    pid = ident.pid
    if pid is not None and on_this_host(run_doc):
        code = exit_code(paths.run_id, pid, 0.0) if exit_code else None
        if code is not None:
            return LostVerdict(code, f"process {pid} exited with code {code}")
        if not is_alive(pid, ident.create_time):
            code = exit_code(paths.run_id, pid, 0.5) if exit_code else None
            why = f"process {pid} is gone" if code is None else f"process {pid} exited ({code})"
            return LostVerdict(code, why)
    elif pid is None:
        age = age_s(doc.get("updated_at") or doc.get("created_at"))
        if age is not None and age > stale_after:
            return LostVerdict(None, f"no training process was recorded for {age:.0f} s")
    beat = heartbeat_age_s(doc)
    if beat is not None and beat > stale_after:
        where = f" (process {pid} may still exist: kill it)" if pid is not None else ""
        why = f"heartbeat stale: last beat {beat:.0f} s ago (limit {stale_after:g} s){where}"
        return LostVerdict(None, why)
    return None


Verdict = Callable[[RunPaths, Mapping[str, Any], float], "LostVerdict | None"]


def apply_liveness(
    paths: RunPaths,
    doc: dict[str, Any] | None = None,
    *,
    verdict: Verdict,
    stale_after: float | None = None,
) -> dict[str, Any]:
    """The status doc after liveness: a non-terminal run whose process is gone is
    recorded as ``failed``/``process_lost`` (``killed`` if a kill was requested).

    ``verdict(paths, doc, stale_after)`` is the run's backend judging its run; it is
    required, so no reader can judge from the files alone. Files alone misjudge: run.json
    keeps the submitting host, so a compute node's pid would be looked up on the login
    node, and a queued job has no pid at all. A reader without a backend (the report
    builder) does not call this: it reads status.json as recorded.
    """
    doc = read_status(paths) if doc is None else doc
    if is_terminal(doc):
        return doc
    found = verdict(paths, doc, heartbeat_timeout_s(stale_after))
    if found is None:
        return doc
    return record_exit(paths, found.exit_code, detail=found.reason)
