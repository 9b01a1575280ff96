"""Control plane (DESIGN §4): run training in the background and steer it from anywhere.

>>> from oceansr import control
>>> reply = control.start(["experiment=smoke"])          # waits for training_start
>>> control.wait(reply["process_id"], until="terminal")  # long-poll
>>> control.logs(reply["process_id"], tail=20)["content"]

Every function returns a JSON-ready dict (the CLI's ``--json`` output and the MCP
tools' replies are these dicts) and answers bad input with
``{"status": "error", "error_summary": {...}}`` instead of raising. All state lives in
the run directory, so any process can steer any run. Importing this package is cheap
(no torch, no Hydra).
"""

from __future__ import annotations

from .api import (
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    DEFAULT_KILL_GRACE_S,
    DEFAULT_MAX_BYTES,
    DEFAULT_STARTUP_TIMEOUT_S,
    DEFAULT_TAIL_LINES,
    DEFAULT_WAIT_TIMEOUT_S,
    HEARTBEAT_TIMEOUT_ENV,
    expand_sweep,
    heartbeat_timeout_s,
    kill,
    list_runs,
    logs,
    resume,
    start,
    start_predict,
    status,
    sweep,
    wait,
)

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT_S",
    "DEFAULT_KILL_GRACE_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_STARTUP_TIMEOUT_S",
    "DEFAULT_TAIL_LINES",
    "DEFAULT_WAIT_TIMEOUT_S",
    "HEARTBEAT_TIMEOUT_ENV",
    "expand_sweep",
    "heartbeat_timeout_s",
    "kill",
    "list_runs",
    "logs",
    "resume",
    "start",
    "start_predict",
    "status",
    "sweep",
    "wait",
]
