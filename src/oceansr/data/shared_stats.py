"""Normalisation statistics computed once per run, by global rank 0, read by the others.

Under DDP every rank builds its data module, and the model reads the statistics, before
the Trainer exists: there is no process group and no barrier yet, and under ``srun``
the ranks may sit on several nodes that share nothing but the run directory. So the
hand-over is a file, the run directory's ``data_stats.json`` (docs/architecture.md,
data):

- global rank 0 reuses the file when it was written for the same data (a requeued or
  resumed attempt of the same run), else computes the statistics and replaces the file
  atomically (temp + fsync + rename), so nobody ever reads half a file;
- every other rank never reads the training split for statistics: it waits for a file
  whose ``key`` is its own data's, and gives up after a generous deadline with a
  classified :class:`StatsWaitError` naming the file it waited for (rank 0 died or hangs).

The file records which rank computed it (``computed_by``), and each rank says in
``train.log`` (its stdout) where its statistics came from.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oceansr.core.errors import OceanSRError
from oceansr.runs import atomic_write_bytes, read_regular
from oceansr.runs.exceptions import CorruptRunFileError
from oceansr.runs.paths import DATA_STATS_JSON

#: File name of the statistics in a run directory (the run-directory protocol's name).
STATS_FILE = DATA_STATS_JSON
#: Environment variable: seconds a rank other than 0 waits for rank 0's statistics.
WAIT_ENV = "OCEANSR_STATS_WAIT_S"
#: Default of that wait. Generous on purpose: rank 0 may be making a streaming pass over
#: terabytes; a rank 0 that died is normally noticed sooner by the launcher (``srun
#: --kill-on-bad-exit``, Lightning's launcher), so this bound only ends a hang.
WAIT_S = 4 * 3600.0
#: Seconds between two looks at the file while waiting.
POLL_S = 1.0
#: Keys of the file that are not statistics.
RECORD_KEYS = ("key", "computed_by")

Stats = dict[str, Any]


class StatsWaitError(OceanSRError):
    """A rank other than 0 did not get rank 0's statistics within the deadline.

    ``distributed_error``: the other process of the job failed, not this one's input.
    """

    failure_type = "distributed_error"


@dataclass(frozen=True)
class StatsShare:
    """Where the statistics of a run are handed over, and this process's part in it.

    ``path`` None (no run directory: validation, notebooks, tests) means compute here,
    whatever the rank. ``wait_s`` None means ``$OCEANSR_STATS_WAIT_S``, else
    :data:`WAIT_S`.
    """

    path: Path | None = None
    rank: int = 0
    wait_s: float | None = None
    poll_s: float = POLL_S


def shared_stats(share: StatsShare, key: str, compute: Callable[[], Stats]) -> Stats:
    """The statistics of the data fingerprinted by ``key``: computed by rank 0 only.

    Rank 0 reuses a file with the same key or calls ``compute`` and writes the file; any
    other rank waits for that file (:func:`wait_for_stats`) and never calls ``compute``.
    """
    if share.path is None:
        return compute()
    if share.rank != 0:
        return statistics(from_rank_0(share, share.path, key))
    stored = read_stats(share.path, key)
    if stored is not None:
        say(f"normalisation statistics reused from {share.path} ({origin(stored)}, same data)")
        return statistics(stored)
    stats = compute()
    write_stats(share.path, key, stats, share.rank)
    say(f"normalisation statistics computed by global rank {share.rank}, written to {share.path}")
    return stats


def from_rank_0(share: StatsShare, path: Path, key: str) -> Stats:
    """Rank 0's record, read now or waited for; each step said in the log, so that an
    idle rank's train.log tells what it waits for."""
    rank = f"global rank {share.rank}"
    record = read_stats(path, key)
    if record is None:
        limit = wait_seconds(share.wait_s)
        say(
            f"{rank} waits for global rank 0's normalisation statistics in {path} "
            f"(at most {limit:g} s, {WAIT_ENV})"
        )
        record = wait_for_stats(path, key, rank=share.rank, wait_s=limit, poll_s=share.poll_s)
    say(f"{rank} read the normalisation statistics from {path} ({origin(record)})")
    return record


def read_stats(path: Path, key: str) -> Stats | None:
    """The whole record in ``path`` if it holds the statistics of ``key``, else None.

    None too for a file that is missing, unreadable, not JSON (a torn copy) or not a
    regular file (a link or FIFO in its place is never followed nor blocked on): rank 0
    then writes a fresh one and the other ranks wait for it.
    """
    try:
        record = json.loads(read_regular(path))
    except (OSError, ValueError, CorruptRunFileError):
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        return None
    return record


def write_stats(path: Path, key: str, stats: Mapping[str, Any], rank: int) -> None:
    """Replace ``path`` atomically with ``stats``, its ``key`` and who computed it."""
    computed_by = {
        "rank": rank,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record = {"key": key, "computed_by": computed_by, **stats}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())


def wait_for_stats(
    path: Path,
    key: str,
    *,
    rank: int,
    wait_s: float | None = None,
    poll_s: float = POLL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Stats:
    """Rank 0's record for ``key`` in ``path``, once it is there.

    A file of other data (an earlier attempt with other overrides) or a torn one is
    waited past: rank 0 replaces it. Raises :class:`StatsWaitError` after ``wait_s``
    (see :func:`wait_seconds`).
    """
    limit = wait_seconds(wait_s)
    deadline = time.monotonic() + limit
    while True:
        record = read_stats(path, key)
        if record is not None:
            return record
        left = deadline - time.monotonic()
        if left <= 0:
            raise waited_in_vain(path, rank, limit)
        sleep(min(poll_s, left))


def waited_in_vain(path: Path, rank: int, wait_s: float) -> StatsWaitError:
    """The classified error of a rank whose wait for rank 0's statistics ran out."""
    return StatsWaitError(
        f"global rank {rank} waited {wait_s:g} s for the normalisation statistics that "
        f"global rank 0 writes to {path}, and they did not come: rank 0 died, hangs, or "
        "is still reading the training split",
        fix=f"look at train.log for rank 0's error; if rank 0 is only slow (large data), "
        f"set {WAIT_ENV} to more seconds (now {wait_s:g})",
    )


def wait_seconds(value: float | None) -> float:
    """``value``, else ``$OCEANSR_STATS_WAIT_S`` when it is a finite positive number,
    else :data:`WAIT_S`: a bad variable must turn the wait into neither none nor
    forever."""
    if value is not None:
        return float(value)
    try:
        env = float(os.environ.get(WAIT_ENV, ""))
    except ValueError:
        return WAIT_S
    return env if math.isfinite(env) and env > 0 else WAIT_S


def statistics(record: Mapping[str, Any]) -> Stats:
    """The statistics of a record, without its key and provenance."""
    return {k: v for k, v in record.items() if k not in RECORD_KEYS}


def origin(record: Mapping[str, Any]) -> str:
    """Who computed a record, for the log line ("computed by global rank 0 on host n1")."""
    by = record.get("computed_by")
    if not isinstance(by, dict):
        return "computed by an earlier attempt"  # a file from before the record said who
    return f"computed by global rank {by.get('rank')} on host {by.get('host')}"


def say(message: str) -> None:
    """One ``[data]`` line on stdout, which is train.log for a background run."""
    print(f"[data] {message}", flush=True)
