"""Constants and tiny helpers of the run protocol that both sides must agree on.

The training process (callbacks, ``train.py``, ``predict.py``) and the control plane
exchange facts through environment variables, exit codes and the run directory; each
such name or number is defined once here so the two sides cannot drift apart (see
docs/architecture.md, run directory). Importing this module costs nothing: no psutil,
no filelock.
"""

from __future__ import annotations

import functools
import socket
from datetime import UTC, datetime

#: ``"<pid>:<create_time>"`` of the controller a run must stop with (on_exit=terminate).
PARENT_ENV = "OCEANSR_PARENT"
#: The run id of the current process (DDP ranks > 0 inherit it instead of minting one).
RUN_ID_ENV = "OCEANSR_RUN_ID"
#: Set to ``1`` for runs started by the control plane: line-based output, no progress bars.
BACKGROUND_ENV = "OCEANSR_BACKGROUND"
#: Seconds after which a heartbeat is stale (overrides the default of the readers).
HEARTBEAT_TIMEOUT_ENV = "OCEANSR_HEARTBEAT_TIMEOUT"

#: Exit status of a run stopped by SIGTERM (128 + 15), as a shell would report it.
EXIT_KILLED = 143
#: Exit status of a trainer that stopped because the disk is full (ENOSPC = 28): the
#: status file may not be writable then, so the exit status itself carries the class.
EXIT_DISK_FULL = 28
#: Bytes of ``train.log`` kept in error summaries and start-up error replies.
LOG_TAIL_BYTES = 4000
#: Dataset splits, in the order the trainer uses them.
SPLITS: tuple[str, ...] = ("train", "valid", "test")


@functools.cache
def hostname() -> str:
    """This machine's name as recorded in run.json/status.json (cached: it does not change
    while a process lives, and liveness checks ask for it on every poll)."""
    return socket.gethostname()


def utc_now() -> datetime:
    """The current time as an aware UTC datetime (what every run timestamp is based on)."""
    return datetime.now(UTC)
