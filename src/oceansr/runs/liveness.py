"""Is the process behind a run still alive?

A pid alone is not enough: pids are reused, so a run records its process's start time
with the pid, and a process only counts as the run's if both match. psutil is imported
lazily so ``import oceansr.runs`` stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .store import parse_iso

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
