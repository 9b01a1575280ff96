"""Launching work: ``start``, ``sweep``, ``resume`` and ``start_predict``.

Each creates (or reopens) a run directory, hands the command to a launch backend
(:mod:`oceansr.control.backends`), records the identity the backend returns in
run.json, and waits for the run's start event (``training_start``, ``predict_start``),
answering at once with an error summary if the process ends first (see
docs/architecture.md, control plane). The Hydra validation (``oceansr.data.validation``) is
imported only when a train run is launched.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oceansr.core.errors import ConfigError, DataNotFoundError
from oceansr.runs import (
    ON_EXIT_POLICIES,
    ProcessIdentity,
    RunExistsError,
    RunPaths,
    add_attempt,
    create_run,
    hostname,
    hydra_quote,
    is_terminal,
    new_run_id,
    read_status,
    read_tail_text,
    record_exit,
    tail_events,
    transition,
    update_run,
    update_status,
)
from oceansr.runs.failures import classify_exception, classify_exit, error_summary
from oceansr.runs.oom import oom_kill_count
from oceansr.runs.outcome import evidence_of_oom

from .args import (
    PathLike,
    choice,
    normalise_overrides,
    run_paths,
    runs_root_path,
    seconds,
)
from .backend_choice import launcher_facts, select_backend
from .backends import Backend, get_backend, local
from .confine import Confinement
from .observe import live
from .queries import DEFAULT_POLL_S
from .replies import RequestError, replies
from .views import fresh_suggestions, next_calls

JsonDict = dict[str, Any]

DEFAULT_STARTUP_TIMEOUT_S = 300.0
#: After a run turned terminal during start-up, how long to let the process finish
#: writing its traceback to train.log before answering without its exit status.
_EXIT_GRACE_S = 10.0
_REAPER_WAIT_S = 5.0

#: Module run by each run kind (``python -m <module> run_id=... runs_root=... ...``).
ENTRY_POINTS: dict[str, str] = {"train": "oceansr.train", "predict": "oceansr.predict"}
#: The overrides :func:`trainer_command` puts on every command itself.
COMMAND_KEYS: tuple[str, ...] = ("run_id", "runs_root")
#: The event that means "the work has begun" for each run kind (what start waits for).
START_EVENTS: dict[str, str] = {"train": "training_start", "predict": "predict_start"}


def validate_config(kind: str, overrides: Sequence[str]) -> JsonDict:
    if kind != "train":
        return {"ok": True, "config": None}
    from oceansr.data.validation import validate_overrides

    return validate_overrides(list(overrides))


def _config_facts(cfg: Any) -> JsonDict:
    """Facts about the composed config worth keeping in run.json (for list rows)."""
    if cfg is None:
        return {}
    from omegaconf import OmegaConf

    facts: JsonDict = {}
    for key, path in (
        ("model", "model.name"),
        ("data_source", "data.source"),
        ("variables", "data.variables"),
        ("scale", "data.scale"),
        ("max_epochs", "trainer.max_epochs"),
    ):
        with contextlib.suppress(Exception):
            value = OmegaConf.select(cfg, path)
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value, resolve=True)
            facts[key] = value
    return facts


def trainer_command(kind: str, paths: RunPaths, overrides: Sequence[str]) -> list[str]:
    """``python -m <entry point> run_id=... runs_root=... <overrides>``.

    Both entry points parse Hydra overrides (values quoted by their writers). A training
    command carries the overrides through the same normalisation that validation
    composed (:func:`oceansr.config.compose.train_overrides`), for start, sweep and
    resume alike: a list-valued ``data.split.train`` that passed the checks also runs.
    """
    if kind == "train":
        from oceansr.config.compose import train_overrides  # Hydra: only when training

        overrides = train_overrides(overrides)
    root = hydra_quote(str(paths.root))
    return [
        sys.executable,
        "-m",
        ENTRY_POINTS[kind],
        f"run_id={paths.run_id}",
        f"runs_root={root}",
        *overrides,
    ]


# --------------------------------------------------------------------------- await start


def _start_error(
    paths: RunPaths, doc: JsonDict, exit_code: int | None, base: Mapping[str, Any]
) -> JsonDict:
    if not is_terminal(doc):
        doc = record_exit(paths, exit_code)
    summary = doc.get("error_summary")
    if not summary:
        if doc.get("status") == "killed":
            summary = error_summary(
                "unknown",
                "The run was killed before training started.",
                suggestions=["start it again"],
            )
        else:
            summary = classify_exit(
                exit_code, read_tail_text(paths.train_log), oom_evidence=evidence_of_oom(paths)
            )
    return {
        "status": "error",
        **base,
        "run_status": doc.get("status"),
        "exit_code": exit_code if exit_code is not None else doc.get("exit_code"),
        "error_summary": fresh_suggestions(paths, summary),
        "log_tail": read_tail_text(paths.train_log),
        "next": next_calls(paths, doc),
    }


def _started(
    paths: RunPaths, base: Mapping[str, Any], event: Mapping[str, Any], t0: float
) -> JsonDict:
    doc = read_status(paths)
    payload = {k: v for k, v in event.items() if k not in ("seq", "ts", "run_id", "event")}
    return {
        "status": "started",
        **base,
        "run_status": doc.get("status"),
        "phase": doc.get("phase"),
        "startup_s": round(time.monotonic() - t0, 2),
        # At training_start no step has run: eta_s is null with eta_pending saying why
        # (measured after the first step, which the first `wait` then reports).
        "progress": doc.get("progress"),
        "training_start": payload,
        "next": next_calls(paths, doc),
    }


def _starting(paths: RunPaths, base: Mapping[str, Any], **extra: Any) -> JsonDict:
    """The start-up timeout passed with the process alive: its phase and, while it reads
    fields for the statistics (``preparing_data``), how far it is (``data_progress``)."""
    doc = read_status(paths)
    progress = doc.get("data_progress")
    return {
        "status": "starting",
        **base,
        "run_status": doc.get("status"),
        "phase": doc.get("phase"),
        **({"data_progress": progress} if progress else {}),
        **extra,
        "next": next_calls(paths, doc),
    }


@dataclass(frozen=True)
class _Launched:
    """A process just handed to a backend, and the reply fields that describe it."""

    backend: Backend
    identity: ProcessIdentity
    base: JsonDict
    t0: float


def _after_exit(
    paths: RunPaths, launched: _Launched, offset: int, start_event: str, code: int
) -> JsonDict:
    """The process ended before its start event was seen: started anyway, or an error."""
    launched.backend.wait_recorded(paths.run_id, launched.identity, _REAPER_WAIT_S)
    events, offset = tail_events(paths, offset, names=start_event)
    if events:
        return _started(paths, launched.base, events[0], launched.t0)
    doc = read_status(paths)
    if doc.get("status") == "completed":  # finished without a fit (e.g. mode=test)
        return {**_started(paths, launched.base, {}, launched.t0), "training_start": None}
    return _start_error(paths, doc, code, launched.base)


def _await_start(paths: RunPaths, launched: _Launched, offset: int, timeout: float) -> JsonDict:
    """Poll the events for the kind's start event (``training_start``, ``predict_start``)
    until the process exits or the timeout."""
    deadline = launched.t0 + timeout
    terminal_since: float | None = None
    start_event = START_EVENTS[paths.run_id.split("-", 1)[0]]
    while True:
        events, offset = tail_events(paths, offset, names=start_event)
        if events:
            return _started(paths, launched.base, events[0], launched.t0)
        code = launched.backend.exit_code(paths.run_id, launched.identity)
        if code is not None:
            return _after_exit(paths, launched, offset, start_event, code)
        now = time.monotonic()
        doc = read_status(paths)
        if is_terminal(doc):
            # The trainer recorded its failure and is exiting; let it finish the log.
            terminal_since = terminal_since or now
            if now - terminal_since > _EXIT_GRACE_S:
                return _start_error(paths, doc, None, launched.base)
        elif now >= deadline:
            return _timed_out(paths, launched.base, f"no {start_event} within {timeout:g} s")
        time.sleep(DEFAULT_POLL_S)


def _timed_out(paths: RunPaths, base: Mapping[str, Any], message: str) -> JsonDict:
    """Start-up timeout: ``queued`` (with the scheduler's reason) while a job waits in
    its queue, which is no error; else ``starting`` (the process is alive)."""
    doc = live(paths)
    if doc.get("status") != "queued":
        return _starting(paths, base, message=f"{message}; the process is alive")
    reason = doc.get("queue_reason")
    return {
        "status": "queued",
        **base,
        "run_status": "queued",
        "reason": reason,
        "message": f"{message}; the job is still queued (reason {reason})",
        "next": next_calls(paths, doc),
    }


# --------------------------------------------------------------------------- launch


def _on_child_exit(paths: RunPaths, exit_code: int) -> None:
    """Reaper callback: record the outcome if the trainer could not."""
    record_exit(paths, exit_code, detail=f"process exited with code {exit_code}")


def _spawn_failed(paths: RunPaths, exc: OSError) -> JsonDict:
    summary = classify_exception(exc)
    transition(
        paths,
        "failed",
        event="training_error",
        changes={"error_summary": summary},
        error_summary=summary,
    )
    return {
        "status": "error",
        "process_id": paths.run_id,
        "run_dir": str(paths.dir),
        "error_summary": summary,
        "log_tail": read_tail_text(paths.train_log),
    }


def launch(
    paths: RunPaths,
    command: Sequence[str],
    *,
    backend: Backend,
    on_exit: str,
    cwd: str | None,
    wait_for_start: bool,
    timeout: float,
    events_offset: int,
    attempt_info: Mapping[str, Any] | None = None,
) -> JsonDict:
    """Submit the command for an existing run dir, record its identity, await the start."""
    t0 = time.monotonic()
    oom_kills = oom_kill_count()  # before the spawn: a rise later is evidence of an OOM kill
    try:
        identity = backend.submit(
            paths.run_id,
            command,
            log_path=paths.train_log,
            env=backend.environment(on_exit=on_exit),
            cwd=cwd,
            on_exit=functools.partial(_on_child_exit, paths),
        )
    except OSError as exc:
        return _spawn_failed(paths, exc)
    fields = {**identity.run_fields(), "parent_pid": os.getpid()}
    update_run(paths, **fields, oom_kills_at_start=oom_kills)
    attempt = add_attempt(
        paths, **fields, backend=backend.name, command=list(command), **(attempt_info or {})
    )
    update_status(paths, {"pid": identity.pid, "host": hostname()})
    base = {
        "process_id": paths.run_id,
        "run_dir": str(paths.dir),
        "pid": identity.pid,
        "pgid": identity.pgid,
        "log_path": str(paths.train_log),
        "attempt": attempt["attempt"],
        "on_exit": on_exit,
    }
    if identity.job_id is not None:
        base["job_id"] = identity.job_id
    if not wait_for_start:
        return _starting(paths, base)
    return _await_start(paths, _Launched(backend, identity, base, t0), events_offset, timeout)


def _create(
    kind: str,
    overrides: Sequence[str],
    root: Path,
    *,
    backend: str,
    on_exit: str,
    extra: Mapping[str, Any],
) -> tuple[RunPaths, list[str]]:
    for _ in range(5):  # an id collision needs the same second and 6 random chars
        paths = RunPaths.for_id(new_run_id(kind), root)
        command = trainer_command(kind, paths, overrides)
        try:
            create_run(
                paths,
                kind=kind,
                overrides=overrides,
                command=command,
                backend=backend,
                on_exit=on_exit,
                extra=extra,
            )
        except RunExistsError:
            continue
        return paths, command
    raise RuntimeError("could not allocate a fresh run id")  # pragma: no cover


def start_checked(
    overrides: list[str],
    checked: Mapping[str, Any],
    *,
    runs_root: PathLike | None,
    wait_for_start: bool,
    startup_timeout: float,
    on_exit: str,
    backend: str,
    kind: str,
) -> JsonDict:
    if not checked.get("ok"):
        return {
            "status": "error",
            "process_id": None,
            "error_summary": checked["error_summary"],
            "overrides": overrides,
        }
    launcher = get_backend(backend)
    launcher.check_available()  # e.g. no sbatch: missing_dependency, nothing created
    extra = {"cwd": os.getcwd(), **_config_facts(checked.get("config"))}
    extra.update(launcher_facts(checked.get("config"), launcher.name))
    paths, command = _create(
        kind,
        overrides,
        runs_root_path(runs_root),
        backend=launcher.name,
        on_exit=on_exit,
        extra=extra,
    )
    reply = launch(
        paths,
        command,
        backend=launcher,
        on_exit=on_exit,
        cwd=None,
        wait_for_start=wait_for_start,
        timeout=startup_timeout,
        events_offset=0,
    )
    # What the checks found odd but not wrong (no coordinates, a constant field).
    warnings = list((checked.get("data") or {}).get("warnings") or [])
    return {**reply, "warnings": warnings} if warnings else reply


def check_start_args(on_exit: Any, backend: Any, kind: Any, startup_timeout: Any) -> float:
    choice("on_exit", on_exit, ON_EXIT_POLICIES)
    get_backend(backend)
    choice("kind", kind, ENTRY_POINTS)
    return seconds("startup_timeout", startup_timeout)


# --------------------------------------------------------------------------- start


@replies
def start(
    overrides: Sequence[str] | str = (),
    *,
    runs_root: PathLike | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str = "keep",
    backend: str = "local",
    kind: str = "train",
    confine: Confinement | None = None,
) -> JsonDict:
    """Launch a training run in the background and wait for its ``training_start``.

    The composed Hydra config and the data are validated first: a bad request returns
    ``{"status": "error", "process_id": None, "error_summary"}`` at once, with nothing
    created or spawned. Otherwise the run directory is created and
    ``python -m oceansr.train run_id=... runs_root=... <overrides>`` is handed to the
    ``backend`` (by name, see :mod:`oceansr.control.backends`; ``local``: its own
    session, it survives the caller's process group), output appended to ``train.log``.

    Replies: ``started`` (``process_id``, ``run_dir``, ``pid``, ``log_path``,
    ``training_start``, ...); ``error`` with ``error_summary`` and ``log_tail`` if the
    process ended first; ``starting`` if ``startup_timeout`` passed (or
    ``wait_for_start=False``) while it is alive; ``queued`` (with Slurm's ``reason``)
    if a ``backend="slurm"`` job still waits in the queue then. ``on_exit="terminate"``:
    the run stops gracefully when this process exits, even by SIGKILL.

    ``confine``: for an untrusted caller (an agent over MCP), the directories its paths
    must stay in; interpolations and shell-bearing launcher settings are refused too
    (:mod:`oceansr.control.confine`). None (the default) leaves a local user free.
    """
    overrides = normalise_overrides(overrides)
    if confine is not None:
        confine.overrides(overrides)
    timeout = check_start_args(on_exit, backend, kind, startup_timeout)
    overrides, backend = select_backend(overrides, backend, on_exit)
    if kind != "train":
        raise RequestError(
            f"start() launches training runs; kind={kind!r} is not one",
            suggestions=["use start_predict(input, run=...) for predict runs"],
        )
    return start_checked(
        overrides,
        validate_config(kind, overrides),
        runs_root=runs_root,
        wait_for_start=bool(wait_for_start),
        startup_timeout=timeout,
        on_exit=on_exit,
        backend=backend,
        kind=kind,
    )


def _predict_checkpoint(
    run: str | None, checkpoint: PathLike | None, runs_root: PathLike | None
) -> Path:
    """The checkpoint to predict with: an explicit path, else the training run's best
    (or last) checkpoint. Checked before anything is spawned."""
    from oceansr.runs.checkpoint_file import check_checkpoint_path, run_checkpoint

    if checkpoint and run:
        raise ConfigError(
            "give either checkpoint or run, not both",
            field="run",
            fix="drop run to use the checkpoint file, or checkpoint to use the run's best",
        )
    if checkpoint:
        return check_checkpoint_path(checkpoint).resolve()
    if not run:
        raise ConfigError(
            "predict needs a checkpoint or the training run (its process_id) whose best "
            "checkpoint to use",
            field="run",
            fix="run=<training run process_id> (see list_runs) or checkpoint=/path/best.ckpt",
        )
    run_paths(run, runs_root)  # a valid id of an existing run, else RunNotFound
    return run_checkpoint(run, runs_root_path(runs_root))


@replies
def start_predict(
    input: str | os.PathLike[str],
    *,
    run: str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    variables: Sequence[str] | None = None,
    hr_mask: str | os.PathLike[str] | None = None,
    tile: int | str | None = None,
    overlap: int | None = None,
    runs_root: PathLike | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str = "keep",
    overwrite: bool = False,
    base_dir: str | os.PathLike[str] | None = None,
    confine: Confinement | None = None,
) -> JsonDict:
    """Super-resolve an LR-only NetCDF/Zarr file in the background (a ``predict-...`` run).

    ``checkpoint`` (a .ckpt) or ``run`` (a training run: its best, else last,
    checkpoint) and ``input`` are checked first; then ``python -m oceansr.predict`` runs
    in its own session exactly like a trainer, with Hydra-quoted overrides of the same
    names, and this waits for its ``predict_start``. ``output`` defaults to
    ``<run>/predictions/<input>_sr.nc``. Steer it with status/logs/wait/kill.

    ``tile``/``overlap`` left None take ``conf/predict.yaml``'s; ``tile="none"`` (or
    ``"null"``) predicts each field whole. The input must be a NetCDF file or a Zarr
    store that opens with the checkpoint's variables, the output a ``.nc``/``.zarr``
    path and ``tile`` a positive integer: all checked before a predict run exists.

    Relative ``input``/``checkpoint``/``output``/``hr_mask`` resolve against
    :func:`oceansr.config.basedir.base_dir` (``base_dir``, ``$OCEANSR_BASE_DIR`` or the cwd). An
    existing ``output`` is refused before anything starts unless ``overwrite``.
    ``confine`` (an agent over MCP): every path must lie inside its directories, the
    output inside its writable ones (:mod:`oceansr.control.confine`).
    """
    from oceansr.config.basedir import base_dir as find_base
    from oceansr.config.basedir import resolve
    from oceansr.data.stores import output_format
    from oceansr.runs.checkpoint_file import read_hparams
    from oceansr.runs.overrides import predict_overrides

    timeout = check_start_args(on_exit, local.BACKEND, "predict", startup_timeout)
    tiling = _tiling_overrides(tile, overlap)
    base = find_base(base_dir)
    input, checkpoint = resolve(input, base) or "", resolve(checkpoint, base)
    output, hr_mask = resolve(output, base), resolve(hr_mask, base)
    if confine is not None:
        _confine_predict(confine, input, checkpoint, output, hr_mask, variables)
    if output is not None:
        output_format(output)  # .nc/.zarr: what predict can write, before a run exists
    _refuse_existing_output(output, overwrite)
    ckpt = _predict_checkpoint(run, checkpoint, runs_root)
    source = _predict_input(Path(input).expanduser())
    mask = None if hr_mask is None else _predict_mask(Path(hr_mask).expanduser())
    # An oceansr checkpoint, not any file: refused before spawning (torch-free read).
    hparams = read_hparams(ckpt, field="checkpoint" if checkpoint else "run")
    if confine is not None:  # predict reads the files of the checkpoint's covariates too
        confine.covariate_files("covariates", hparams.get("covariates"))
    warnings = _input_warnings(source, variables, hparams)
    options: dict[str, Any] = {"checkpoint": ckpt, "input": source.resolve(), "output": output}
    options |= {"variables": list(variables) if variables else None, "hr_mask": mask}
    options |= {"overwrite": True if overwrite else None}
    args = [*predict_overrides(options), *tiling]
    reply = start_checked(
        args,
        {"ok": True, "config": None},
        runs_root=runs_root,
        wait_for_start=bool(wait_for_start),
        startup_timeout=timeout,
        on_exit=on_exit,
        backend=local.BACKEND,
        kind="predict",
    )
    return {**reply, "warnings": warnings} if warnings else reply


#: ``tile`` values that mean "no tiling: each field whole" (``tile=null`` for predict).
WHOLE_FIELD: tuple[str, ...] = ("none", "null")


def _tiling_overrides(tile: Any, overlap: Any) -> list[str]:
    """The predict overrides of ``tile``/``overlap`` (none for "the default"), checked by
    the rule the tiled inference applies (:func:`oceansr.config.checks.check_tiling`),
    so ``tile=0`` is refused before a predict run exists instead of failing in it."""
    from oceansr.config.checks import check_tiling
    from oceansr.config.schema import predict_defaults

    whole = isinstance(tile, str) and tile.strip().lower() in WHOLE_FIELD
    defaults = predict_defaults()
    checked_tile, checked_overlap, _ = check_tiling(
        None if whole else (defaults["tile"] if tile is None else tile),
        defaults["overlap"] if overlap is None else overlap,
        defaults["batch_size"],
    )
    result = ["tile=null"] if whole else [] if tile is None else [f"tile={checked_tile}"]
    return result + ([] if overlap is None else [f"overlap={checked_overlap}"])


def _predict_input(source: Path) -> Path:
    """``input`` exists and is a NetCDF file or a Zarr store, judged by ``stat`` (a FIFO
    is never opened); whether it opens as one is :func:`_input_warnings`'s read."""
    from oceansr.data.stores import is_zarr_store

    _existing(source, "input", "pass an existing LR NetCDF file or Zarr store")
    if source.is_dir() and not is_zarr_store(source):
        raise ConfigError(
            f"input {source} is a directory but not a Zarr store (no .zgroup, .zarray, "
            ".zmetadata or zarr.json in it)",
            field="input",
            fix="pass one LR NetCDF file or a Zarr store (a .zarr directory); predict "
            "reads one input per run",
        )
    return source


def _predict_mask(mask: Path) -> Path:
    """``hr_mask`` exists and is a file or store (``stat`` only, never a FIFO)."""
    _existing(
        mask,
        "hr_mask",
        "pass an existing NetCDF file whose NaNs (or 0/1 mask variable) mark HR land",
    )
    return mask.resolve()


def _existing(path: Path, field: str, fix: str) -> None:
    """``path`` exists and is a file or a folder, judged by ``stat`` (a FIFO or device
    is refused, never opened)."""
    from oceansr.data.stores import check_openable

    check_openable(path, field)
    if not path.exists():
        raise DataNotFoundError(f"{field} {path} does not exist", field=field, fix=fix)


def _confine_predict(
    confine: Confinement,
    input: str,
    checkpoint: str | None,
    output: str | None,
    hr_mask: str | None,
    variables: Sequence[str] | None,
) -> None:
    """A predict request from an untrusted caller: reads and the write stay inside."""
    from .confine import refuse_interpolations

    refuse_interpolations([("variables", variables or [])])
    for field, value in (("input", input), ("checkpoint", checkpoint), ("hr_mask", hr_mask)):
        if value is not None:
            confine.path(field, value)
    if output is not None:
        confine.path("output", output, write=True)


def _input_warnings(
    source: Path, variables: Sequence[str] | None, hparams: Mapping[str, Any]
) -> list[str]:
    """Open the predict input from its metadata, as predict will: a corrupt or
    non-NetCDF file, a store without the checkpoint's variables or with no grid is a
    classified error here, before a run exists; then what is odd about it (an HR file
    given as LR input) as warnings."""
    from oceansr.data.fields import resolution_warnings
    from oceansr.data.lr_input import open_lr_fields
    from oceansr.data.stores import reading

    names = list(variables or hparams.get("variables") or [])
    with reading(f"check input {source}"):
        fields = open_lr_fields(source, names, decode_times=False, lazy=True, path_field="input")
        try:
            return resolution_warnings(
                fields.lat, int(hparams["scale"]), hparams.get("hr_grid_step_deg")
            )
        finally:
            fields.close()


def _refuse_existing_output(output: str | None, overwrite: bool) -> None:
    """An existing output is never replaced silently: refused at once, before spawning
    (the predict process would refuse it too, but only after it started)."""
    if output is not None and not overwrite and os.path.lexists(output):
        raise ConfigError(
            f"output {output} already exists",
            field="output",
            fix="choose another output path, or pass overwrite=true to replace it",
        )
