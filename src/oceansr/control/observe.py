"""Liveness as the control plane sees it: the run's backend judges its run.

Every reader that judges whether a run's process is gone (status, list, wait, kill,
resume, and the report through the refresh the adapters inject) comes here, and the
backend recorded in run.json gives the verdict: the local backend from the pid and
the exit status its reaper collected, the Slurm backend from the job state. A run whose
backend this controller does not know is not judged at all: its status is read as
recorded, because a false ``failed`` is final while a missing verdict is not (see
docs/architecture.md, run directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oceansr.runs import (
    CorruptRunFileError,
    LostVerdict,
    RunPaths,
    apply_liveness,
    read_run,
)

from .args import heartbeat_timeout_s
from .backends import Backend, find_backend

JsonDict = dict[str, Any]


def read_run_doc(paths: RunPaths) -> JsonDict:
    """run.json, or ``{}`` if it is damaged (liveness then relies on the heartbeat)."""
    try:
        return read_run(paths)
    except CorruptRunFileError:
        return {}


def backend_of(run_doc: Mapping[str, Any]) -> Backend | None:
    """The backend that launched the run, if this controller knows it."""
    return find_backend(run_doc.get("backend"))


#: Runs no backend launched, judged by the backend whose rules fit them: a trainer
#: started by hand (``python -m oceansr.train``, ``train()`` in a notebook) records
#: ``backend="foreground"`` with its own pid on its own host, which is what the local
#: backend judges. Only the verdict: ``kill`` still refuses them (no backend of ours
#: started the process, and it may be a notebook's kernel).
JUDGED_AS: dict[str, str] = {"foreground": "local"}


def judge_of(run_doc: Mapping[str, Any]) -> Backend | None:
    """The backend that judges whether the run's process is gone, or None (not judged)."""
    recorded = run_doc.get("backend")
    stand_in = JUDGED_AS.get(recorded) if isinstance(recorded, str) else None
    return find_backend(stand_in) if stand_in else backend_of(run_doc)


def _verdict(paths: RunPaths, doc: Mapping[str, Any], stale_after: float) -> LostVerdict | None:
    """The run's backend's verdict; none for a backend this controller does not know
    (a pid or a missing process means something only to the backend that launched it)."""
    run_doc = read_run_doc(paths)
    backend = judge_of(run_doc)
    if backend is None:
        return None
    return backend.lost_verdict(paths, doc, run_doc, stale_after)


def live(
    paths: RunPaths, doc: JsonDict | None = None, *, stale_after: float | None = None
) -> JsonDict:
    """The status doc after applying liveness: a non-terminal run whose process is gone
    is recorded as ``failed``/``process_lost`` (``killed`` if a kill was requested), once,
    under the run lock, by whichever reader notices first.

    Also the refresh the adapters give the report (``make_report(..., refresh=live)``):
    the report cannot import the control plane, so it is handed this function."""
    limit = heartbeat_timeout_s(stale_after)
    return apply_liveness(paths, doc, stale_after=limit, verdict=_verdict)
