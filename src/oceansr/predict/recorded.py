"""A prediction as a recorded ``predict-...`` run (see docs/architecture.md, run directory).

``status.json`` carries progress, ``events.jsonl`` the events ``predict_start``,
``predict_progress`` and ``predict_end``, and ``failed`` / ``killed`` outcomes an error
summary, so the control plane runs and steers a prediction exactly like a training. The
process-level recording (run directory, heartbeat, parent watcher, SIGTERM) is the shared
:class:`~oceansr.engine.callbacks.session.RunSession`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.predict.core import PATH_OPTIONS, path_text, predict
from oceansr.runs import EXIT_KILLED
from oceansr.runs.overrides import predict_overrides

#: ``predict_progress`` events (and progress in status.json) at most this often.
PROGRESS_INTERVAL_S = 1.0
#: Exit status of a run stopped by SIGINT (128 + 2); SIGTERM gives runs.EXIT_KILLED.
EXIT_INTERRUPTED = 130


class PredictRecorder:
    """Progress and outcome of one predict process; the process-level recording (run
    directory, heartbeat, parent watcher, SIGTERM) is the shared
    :class:`~oceansr.engine.callbacks.session.RunSession`, as for trainings."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.paths = session.paths
        self._t0 = time.monotonic()
        self._last_emit: float | None = None
        self.total_fields = 0

    def started(self, info: Mapping[str, Any]) -> None:
        from oceansr.runs import append_event, heartbeat

        self._t0 = time.monotonic()
        self.total_fields = int(info.get("n_fields") or 0)
        heartbeat(
            self.paths,
            {
                "phase": "predicting",
                "progress": {
                    "step": 0,
                    "total_steps": self.total_fields,
                    "percent": 0.0,
                    "elapsed_s": 0.0,
                    "eta_s": None,
                },
            },
        )
        append_event(self.paths, "predict_start", **info)

    def progress(self, done: int, total: int, done_tiles: int, total_tiles: int) -> None:
        """Throttled: at most one ``predict_progress`` event (and status write) per second."""
        from oceansr.runs import append_event, heartbeat

        now = time.monotonic()
        if self._last_emit is not None and now - self._last_emit < PROGRESS_INTERVAL_S:
            return
        self._last_emit = now
        elapsed = now - self._t0
        frac = done_tiles / total_tiles if total_tiles else 1.0
        eta = elapsed * (1.0 - frac) / frac if frac > 0 else None
        rate = done / elapsed if elapsed > 0 else None
        progress = {
            "step": done,
            "total_steps": total,
            "percent": round(100.0 * frac, 2),
            "elapsed_s": round(elapsed, 3),
            "eta_s": None if eta is None else round(eta, 3),
            "samples_per_s": None if rate is None else round(rate, 3),
        }
        heartbeat(self.paths, {"progress": progress})
        append_event(
            self.paths,
            "predict_progress",
            done=done,
            total=total,
            tiles_done=done_tiles,
            tiles_total=total_tiles,
            percent=progress["percent"],
            elapsed_s=progress["elapsed_s"],
            eta_s=progress["eta_s"],
            fields_per_s=progress["samples_per_s"],
        )

    def completed(self, summary: Mapping[str, Any]) -> None:
        stats = summary.get("stats", {})
        flat = {
            f"predict/{var}/{key}": value
            for var, values in stats.items()
            for key, value in values.items()
        }
        n = summary.get("n_fields")
        self.session.finish(
            "predict_end",
            {
                "progress": {
                    "step": n,
                    "total_steps": n,
                    "percent": 100.0,
                    "elapsed_s": summary.get("seconds"),
                    "eta_s": 0.0,
                    "samples_per_s": summary.get("fields_per_s"),
                },
                "metrics": {"latest": flat, "predict": stats},
            },
            output_path=summary.get("output_path"),
            format=summary.get("format"),
            seconds=summary.get("seconds"),
            inference_seconds=summary.get("inference_seconds"),
            n_fields=n,
            fields_per_s=summary.get("fields_per_s"),
            hr_shape=summary.get("hr_shape"),
            stats=stats,
            warnings=summary.get("warnings", []),
        )


class PredictKilled(Exception):
    """The predict run was stopped (SIGTERM, controller gone, Ctrl-C); status ``killed``."""

    def __init__(self, run_id: str, reason: str, exit_code: int) -> None:
        super().__init__(f"run {run_id} killed: {reason}")
        self.run_id = run_id
        self.reason = reason
        self.exit_code = exit_code


def default_output_path(run_dir: Path, input: Any) -> Path:
    """``<run_dir>/predictions/<input stem>_sr.nc``."""
    stem = "input"
    if isinstance(input, (str, os.PathLike)) and str(input).strip():
        stem = Path(str(input).rstrip("/")).stem or stem
    return run_dir / "predictions" / f"{stem}_sr.nc"


def _recorded_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as recorded in ``run.json``: paths absolute, callbacks left out."""
    return {
        key: path_text(value) if key in PATH_OPTIONS else value
        for key, value in options.items()
        if key not in ("progress", "on_start")
    }


def run_predict_recorded(
    run_id: str | None,
    runs_root: str | os.PathLike[str] | None,
    *,
    handle_signals: bool = False,
    command: Sequence[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`~oceansr.predict.predict` (``options`` are its arguments) as a recorded run.

    Creates ``<runs_root>/<run_id>/`` (a new id when ``run_id`` is None) or attaches to
    a ``pending`` predict run made by the control plane; status goes ``running`` →
    ``completed`` with events ``process_started``, ``predict_start``,
    ``predict_progress`` (≤ 1/s), ``predict_end`` (output, seconds, ocean stats per
    variable, also in ``status.metrics``). On error the run is ``failed`` with an
    ``error_summary`` (event ``predict_error``) and the exception is re-raised; on
    SIGTERM (``handle_signals``) or Ctrl-C it is ``killed`` and :class:`PredictKilled`
    is raised. ``output`` defaults to ``<run_dir>/predictions/<input stem>_sr.nc``.
    Returns the :func:`predict` summary plus ``run_id`` and ``run_dir``.
    """
    from oceansr.engine.callbacks.session import RunSession, StopRequested
    from oceansr.runs import KilledBy, KillKind, RunPaths, new_run_id, to_jsonable

    paths = RunPaths.for_id(run_id or new_run_id("predict"), runs_root)
    kwargs = dict(options)
    if kwargs.get("output") is None:
        kwargs["output"] = default_output_path(paths.dir, kwargs.get("input"))
    recorded = _recorded_options(kwargs)
    session = RunSession(
        paths,
        predict_overrides(recorded),
        kind="predict",
        command=list(command) if command is not None else None,
        create_extra={"predict": to_jsonable(recorded)},
    )
    session.open(handle_signals=handle_signals)
    recorder = PredictRecorder(session)
    try:
        summary = predict(**kwargs, progress=recorder.progress, on_start=recorder.started)
        recorder.completed(summary)
    except (StopRequested, KeyboardInterrupt) as exc:
        sigterm = isinstance(exc, StopRequested)
        cause = (session.stop_cause if sigterm else None) or KilledBy(
            KillKind.SIGNAL, "SIGTERM received" if sigterm else "interrupted (KeyboardInterrupt)"
        )
        code = EXIT_KILLED if sigterm else EXIT_INTERRUPTED
        session.killed(exit_code=code, cause=cause)
        raise PredictKilled(paths.run_id, cause.detail or cause.kind.value, code) from exc
    except BaseException as exc:
        session.failed(exc)
        raise
    finally:
        session.close()
    return {**summary, "run_id": paths.run_id, "run_dir": str(paths.dir)}
