"""Evidence for an out-of-memory kill (docs/architecture.md, failure taxonomy).

A trainer that dies by SIGKILL without recording why was either killed by the kernel's
OOM killer or by someone running ``kill -9``. The two need different fixes, so a run is
only called ``cpu_oom`` with evidence:

- the cgroup's ``oom_kill`` counter (cgroup v2 ``memory.events``, v1
  ``memory.oom_control``) rose between the launch and the exit; or
- the run's last recorded resident memory was near the memory limit.

The control plane records the counter at launch (``run.json``: ``oom_kills_at_start``)
and the trainer records its memory with each heartbeat (``status.json``: ``memory``).
Everything here is best-effort reading of ``/proc`` and ``/sys``: ``None`` means "no
evidence either way", never an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["NEAR_LIMIT", "memory_limit_mb", "memory_sample", "oom_evidence", "oom_kill_count"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Resident memory at or above this fraction of the limit counts as "near the limit".
NEAR_LIMIT = 0.9
#: cgroup v1 writes "no limit" as a huge page-rounded number.
_UNLIMITED = 1 << 60


def _cgroup_dirs(controller: str, pid: int | str = "self") -> list[Path]:
    """Candidate directories of this process's cgroup for ``controller`` ("" = v2)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return []
    found: list[Path] = []
    for line in lines:
        _, controllers, rel = [*line.split(":", 2), "", ""][:3]
        if controller in controllers.split(","):  # v2's line has an empty controller list
            base = CGROUP_ROOT / controller if controller else CGROUP_ROOT
            # In a cgroup namespace the mount's root may already be our cgroup.
            found += [base / rel.lstrip("/"), base]
    return found


def _read_key(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def oom_kill_count() -> int | None:
    """The cgroup's OOM-kill counter, or None where no cgroup exposes one."""
    for directory in _cgroup_dirs(""):
        count = _read_key(directory / "memory.events", "oom_kill")
        if count is not None:
            return count
    for directory in _cgroup_dirs("memory"):
        count = _read_key(directory / "memory.oom_control", "oom_kill")
        if count is not None:
            return count
    return None


def _first_int(paths: list[Path]) -> int | None:
    for path in paths:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
    return None


def memory_limit_mb() -> float | None:
    """The memory this process may use (cgroup limit, else physical memory), MiB."""
    limit = _first_int([d / "memory.max" for d in _cgroup_dirs("")])
    if limit is None:
        limit = _first_int([d / "memory.limit_in_bytes" for d in _cgroup_dirs("memory")])
    if limit is None or limit >= _UNLIMITED:
        try:
            limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError):
            return None
    return round(limit / 2**20, 1)


def memory_sample() -> dict[str, float | None]:
    """This process's resident memory now and the limit it runs under, in MiB."""
    rss_kib: int | None = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):  # "VmRSS:\t  123 kB"
                rss_kib = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        rss_kib = None
    rss = None if rss_kib is None else round(rss_kib / 1024, 1)
    return {"rss_mb": rss, "limit_mb": memory_limit_mb()}


def oom_evidence(
    oom_kills_at_start: Any, memory: Mapping[str, Any] | None, now_count: int | None = None
) -> str | None:
    """Why this SIGKILL is an OOM kill, or None when nothing says so."""
    count = oom_kill_count() if now_count is None else now_count
    if isinstance(oom_kills_at_start, int) and count is not None and count > oom_kills_at_start:
        return f"the cgroup's oom_kill counter rose from {oom_kills_at_start} to {count}"
    rss = (memory or {}).get("rss_mb")
    limit = (memory or {}).get("limit_mb")
    if not isinstance(rss, int | float) or not isinstance(limit, int | float):
        return None
    if limit > 0 and rss >= NEAR_LIMIT * limit:
        return f"the last recorded memory ({rss:.0f} MiB) was near the limit ({limit:.0f} MiB)"
    return None
