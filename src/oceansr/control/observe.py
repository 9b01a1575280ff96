"""Liveness as the control plane sees it: the protocol's rules plus the run's backend.

:func:`oceansr.runs.apply_liveness` judges a run from its files alone (that is what
the report builder uses); here the backend recorded in run.json adds what only it can
observe, such as the exit status its reaper collected, so a run that died is recorded
with its real exit code and classified failure (see docs/architecture.md, run directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oceansr.runs import (
    CorruptRunFileError,
    LostVerdict,
    RunPaths,
    apply_liveness,
    lost_verdict,
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


def _verdict(paths: RunPaths, doc: Mapping[str, Any], stale_after: float) -> LostVerdict | None:
    run_doc = read_run_doc(paths)
    backend = backend_of(run_doc)
    if backend is None:
        return lost_verdict(paths, doc, run_doc, stale_after)
    return backend.lost_verdict(paths, doc, run_doc, stale_after)


def live(
    paths: RunPaths, doc: JsonDict | None = None, *, stale_after: float | None = None
) -> JsonDict:
    """The status doc after applying liveness: a non-terminal run whose process is gone
    is recorded as ``failed``/``process_lost`` (``killed`` if a kill was requested), once,
    under the run lock, by whichever reader notices first."""
    limit = heartbeat_timeout_s(stale_after)
    return apply_liveness(paths, doc, stale_after=limit, verdict=_verdict)
