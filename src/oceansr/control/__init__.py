"""Control plane: run training in the background and steer it from anywhere.

>>> from oceansr import control
>>> reply = control.start(["experiment=smoke"])          # waits for training_start
>>> control.wait(reply["process_id"], until="terminal")  # long-poll
>>> control.logs(reply["process_id"], tail=20)["content"]

Every function returns a JSON-ready dict (the CLI's ``--json`` output and the MCP
tools' replies are these dicts) and answers bad input with
``{"status": "error", "error_summary": {...}}`` instead of raising. All state lives in
the run directory, so any process can steer any run. Importing this package is cheap
(no torch, no Hydra).

Module map (see docs/architecture.md, control plane): ``replies`` (the one reply
shape), ``args`` (argument checks), ``launch``/``sweep``/``resume`` (starting work),
``queries`` (status, logs, wait, list), ``stop`` (kill), ``observe`` (liveness with
the run's backend), ``views`` (status replies, next calls), ``backends`` (the launch
backend interface and the ``local`` backend), ``options`` (typed options → overrides),
``confine`` (the trust boundary: where an agent's paths may lead).

``live(paths)`` is no reply but a hook: it brings a run's status.json up to date
through the run's backend, and the adapters hand it to the report
(``make_report(run, refresh=control.live)``), which may not import this package.
"""

from __future__ import annotations

from oceansr.runs import DEFAULT_HEARTBEAT_TIMEOUT_S, HEARTBEAT_TIMEOUT_ENV

from .args import heartbeat_timeout_s
from .confine import Confinement
from .launch import DEFAULT_STARTUP_TIMEOUT_S, start, start_predict
from .observe import live
from .queries import DEFAULT_MAX_BYTES, DEFAULT_WAIT_TIMEOUT_S, list_runs, logs, status, wait
from .resume import resume
from .stop import DEFAULT_KILL_GRACE_S, kill
from .sweep import expand_sweep, sweep
from .views import DEFAULT_TAIL_LINES

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT_S",
    "DEFAULT_KILL_GRACE_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_STARTUP_TIMEOUT_S",
    "DEFAULT_TAIL_LINES",
    "DEFAULT_WAIT_TIMEOUT_S",
    "HEARTBEAT_TIMEOUT_ENV",
    "Confinement",
    "expand_sweep",
    "heartbeat_timeout_s",
    "kill",
    "list_runs",
    "live",
    "logs",
    "resume",
    "start",
    "start_predict",
    "status",
    "sweep",
    "wait",
]
