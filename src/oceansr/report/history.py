"""A run's history, read from its files: ``events.jsonl`` first, ``metrics.csv`` second.

:func:`load_history` turns a run directory into one tidy :class:`RunHistory`: a row per
finished epoch (train and val metrics with their bicubic levels, learning rate, best
flag), step-level training loss, the learning-rate schedule, best epoch, final val and
test metrics, checkpoints, attempts and a timeline of events. Plots and the report are
built from it and nothing else; ``train.log`` is never parsed (docs/architecture.md).

Precedence, so that every number has one source: per-epoch values come from the
``epoch_end`` events (the latest attempt wins after a resume) and are completed from
``metrics.csv`` (which also gives per-step losses and the learning rate *in effect during*
each epoch); test metrics from ``status.json``, then ``training_end``, then the CSV.
Epochs are 1-based everywhere (``metrics.csv`` is 0-based and converted).

This module imports no torch, so listing or summarising runs stays cheap.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oceansr.core.errors import DataNotFoundError, RunStateError
from oceansr.core.metric_names import METRIC_NAMES
from oceansr.report.units import display_unit
from oceansr.runs import (
    CorruptRunFileError,
    RunPaths,
    check_run_dir,
    duration_s,
    is_terminal,
    is_valid_run_id,
    parse_iso,
    read_events,
    read_json,
    read_regular,
    read_status,
)

METRICS = METRIC_NAMES
METRIC_LABELS: dict[str, str] = {
    "rmse": "RMSE",
    "mae": "MAE",
    "bias": "bias",
    "psnr": "PSNR",
    "ssim": "SSIM",
}
#: Metrics measured in the variable's physical units (the others: dB and unitless).
UNIT_METRICS: frozenset[str] = frozenset({"rmse", "mae", "bias"})
#: Larger is better for these; for the others smaller (|bias| for bias) is better.

JsonDict = dict[str, Any]
#: Brings a run's status.json up to date through its backend (``oceansr.control.live``),
#: injected by the adapters since the report may not import the control plane.
Refresh = Callable[[RunPaths], object]


# --------------------------------------------------------------------------- resolving


def resolve_run(run: str | os.PathLike[str], runs_root: str | os.PathLike[str] | None = None):
    """The :class:`~oceansr.runs.RunPaths` of ``run``: a run id (under ``runs_root``) or a
    run directory path. Raises :class:`~oceansr.core.errors.DataNotFoundError` if there is no
    such run.
    """
    fix = (
        "pass a run id listed by `oceansr list` (or control.list_runs()) with the right "
        "runs_root, or the path of a run directory"
    )
    if isinstance(run, str) and is_valid_run_id(run):
        paths = RunPaths.for_id(run, runs_root)
        if paths.exists() or paths.dir.is_symlink():  # a link is checked, never skipped
            return _check_run_dir(paths, fix)
        if not Path(run).is_dir():  # a directory of that name in the working directory
            raise DataNotFoundError(
                f"run {run!r} not found under {paths.root}", field="run", fix=fix
            )
    if not isinstance(run, str | os.PathLike):
        raise DataNotFoundError(f"run must be a run id or a directory, got {run!r}", field="run")
    path = Path(run).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(
            f"no run {os.fspath(run)!r}: neither a run id nor a run directory",
            field="run",
            fix=fix,
        )
    if not is_valid_run_id(path.absolute().name):
        raise DataNotFoundError(
            f"{path} is not a run directory (its name is not a run id such as "
            "train-20261128-061500-a1b2c3)",
            field="run",
            fix=fix,
        )
    return _check_run_dir(RunPaths.from_dir(path), fix)


def _check_run_dir(paths: RunPaths, fix: str) -> RunPaths:
    # A link out of the runs root (or a link in place of a run file) is refused before
    # anything is read or written through it (docs/architecture.md, run directory).
    check_run_dir(paths)
    if not paths.status_json.is_file():
        raise DataNotFoundError(
            f"{paths.dir} is not a run directory (no status.json)", field="run", fix=fix
        )
    return paths


def refresh_status(paths: RunPaths, refresh: Refresh | None) -> None:
    """Let the run's backend bring status.json up to date before it is read.

    The report never judges liveness itself: it cannot import the control plane, and
    the files alone misjudge (a Slurm job's pid lives on a compute node, a queued job
    has none). Without ``refresh`` the status is read as recorded and never written.
    """
    if refresh is None:
        return
    with contextlib.suppress(OSError, ValueError):  # unreadable run files: reported later
        refresh(paths)


def require_finished(history: RunHistory, what: str = "plots") -> None:
    """Raise :class:`~oceansr.core.errors.RunStateError` unless the run is in a terminal state."""
    if history.is_terminal:
        return
    raise RunStateError(
        f"run {history.run_id} is {history.state}; {what} are made from finished runs only",
        field="run",
        fix=f"wait for the run to finish (`oceansr wait {history.run_id}` or "
        f"control.wait({history.run_id!r})), or stop it with control.kill({history.run_id!r}) "
        f"and make the {what} of what it has so far; if its process died, "
        f"`oceansr status {history.run_id}` records it as failed",
    )


# --------------------------------------------------------------------------- metric names


def metric_key(stage: str, metric: str, var: str | None = None, kind: str = "") -> str:
    """``val/rmse``, ``test/temp/psnr_bicubic``, ... (kind: "", a baseline, "gain" (over
    bicubic) or "gain_spline")."""
    suffix = f"_{kind}" if kind else ""
    return f"{stage}/{var}/{metric}{suffix}" if var else f"{stage}/{metric}{suffix}"


def finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def metric_value(
    metrics: Mapping[str, Any] | None,
    stage: str,
    metric: str,
    var: str | None = None,
    kind: str = "",
) -> float | None:
    """One metric from a flat metrics dict; falls back to the headline if the run has one
    variable and no per-variable key."""
    if not metrics:
        return None
    value = finite(metrics.get(metric_key(stage, metric, var, kind)))
    if value is None and var is not None:
        value = finite(metrics.get(metric_key(stage, metric, None, kind)))
    return value


_VAR_KEY_RE = re.compile(r"^(?:val|test)/(?P<var>[^/]+)/(?P<metric>[a-z]+)(?:_[a-z]+)*$")


def _variables_from_metrics(metrics: Iterable[str]) -> list[str]:
    found: list[str] = []
    for key in metrics:
        match = _VAR_KEY_RE.match(key)
        if match and match["metric"] in METRICS and match["var"] not in found:
            found.append(match["var"])
    return found


# --------------------------------------------------------------------------- the history


@dataclass
class RunHistory:
    """Everything the plots and the report know about a run (see the module docstring)."""

    paths: RunPaths
    status_doc: JsonDict
    run_doc: JsonDict
    config: JsonDict | None
    events: list[JsonDict]
    #: one row per finished epoch: ``epoch`` (1-based), ``step``, ``lr``, ``is_best``,
    #: ``elapsed_s`` and flat metrics (``train/loss_epoch``, ``val/rmse``, ``val/temp/psnr``...)
    epochs: list[JsonDict] = field(default_factory=list)
    #: per-step training loss: ``step``, ``epoch`` (fractional, 1.0 = end of epoch 1), ``loss``
    train_steps: list[JsonDict] = field(default_factory=list)
    #: learning rate in effect during each epoch: ``epoch``, ``step``, ``lr``, ``name``
    lr: list[JsonDict] = field(default_factory=list)
    test: JsonDict = field(default_factory=dict)
    final_val: JsonDict = field(default_factory=dict)
    best_epoch: int | None = None
    best_value: float | None = None
    monitor: str = "val/rmse"
    monitor_mode: str = "min"
    variables: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    #: CF long_name per variable ("" where the data had none): titles show it.
    long_names: list[str] = field(default_factory=list)
    training_start: JsonDict | None = None
    training_end: JsonDict | None = None
    error_summary: JsonDict | None = None
    #: Groups and verdict of the test (status.json ``test_breakdown``), when recorded.
    test_breakdown: JsonDict | None = None
    checkpoints: dict[str, JsonDict] = field(default_factory=dict)
    timeline: list[JsonDict] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    # -- identity and state -----------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.paths.run_id

    @property
    def run_dir(self) -> Path:
        return self.paths.dir

    @property
    def state(self) -> str:
        return str(self.status_doc.get("status"))

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status_doc)

    @property
    def derived(self) -> JsonDict:
        return dict((self.config or {}).get("derived") or {})

    @property
    def model_name(self) -> str | None:
        start = self.training_start or {}
        model = (self.config or {}).get("model") or {}
        return start.get("model") or model.get("name")

    @property
    def params(self) -> int | None:
        value = (self.training_start or {}).get("params")
        return int(value) if isinstance(value, int | float) else None

    def unit(self, var: str) -> str:
        if var in self.variables:
            index = self.variables.index(var)
            if index < len(self.units) and self.units[index]:
                return str(self.units[index])
        return ""

    def long_name(self, var: str) -> str:
        """The variable's CF long_name, or "" (then titles show its short name)."""
        index = self.variables.index(var) if var in self.variables else len(self.long_names)
        return self.long_names[index] if index < len(self.long_names) else ""

    # -- series -------------------------------------------------------------------
    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(epochs, values)`` of one per-epoch quantity, skipping epochs without it."""
        xs, ys = [], []
        for row in self.epochs:
            value = finite(row.get(key))
            if value is not None:
                xs.append(int(row["epoch"]))
                ys.append(value)
        return xs, ys

    @property
    def epochs_done(self) -> int:
        return max((int(row["epoch"]) for row in self.epochs), default=0)

    @property
    def total_epochs(self) -> int | None:
        for source in (self.training_start or {}, self.status_doc.get("progress") or {}):
            value = source.get("total_epochs")
            if isinstance(value, int):
                return value
        value = ((self.config or {}).get("trainer") or {}).get("max_epochs")
        return value if isinstance(value, int) and value > 0 else None

    @property
    def train_loss_key(self) -> str:
        for key in ("train/loss_epoch", "train/loss"):
            if any(finite(row.get(key)) is not None for row in self.epochs):
                return key
        return "train/loss_epoch"

    # -- durations and throughput ---------------------------------------------------
    @property
    def duration_s(self) -> float | None:
        """The run's one duration, as every surface reports it: running time from
        ``oceansr.runs.outcome.duration_s`` (waits for a resume excluded;
        docs/architecture.md, run directory), so the report, the card and ``status`` never
        disagree."""
        return duration_s(self.status_doc, self.run_doc)

    @property
    def fit_duration_s(self) -> float | None:
        value = finite((self.training_end or {}).get("fit_duration_s"))
        if value is None and self.epochs:
            value = finite(self.epochs[-1].get("elapsed_s"))
        return value

    @property
    def samples_seen(self) -> int | None:
        value = (self.training_end or {}).get("samples_seen")
        return int(value) if isinstance(value, int | float) else None

    @property
    def samples_per_s(self) -> float | None:
        """Training throughput as the recorder measured it (status.json), else samples seen
        over the fit duration (which includes validation)."""
        recorded = finite((self.status_doc.get("progress") or {}).get("samples_per_s"))
        if recorded:
            return recorded
        seen, fit = self.samples_seen, self.fit_duration_s
        return seen / fit if seen and fit else None

    @property
    def steps(self) -> int | None:
        value = (self.status_doc.get("progress") or {}).get("step")
        if isinstance(value, int):
            return value
        return int(self.epochs[-1]["step"]) if self.epochs and "step" in self.epochs[-1] else None

    @property
    def attempts(self) -> list[JsonDict]:
        return list(self.run_doc.get("attempts") or [])

    def peak_memory(self) -> JsonDict:
        """Peak memory recorded by the run recorder in ``training_end`` (MiB): resident
        memory of the training process and CUDA allocation; empty when not recorded."""
        end = self.training_end or {}
        names = {"peak_rss_mb": "peak RSS (MiB)", "peak_cuda_mb": "peak CUDA (MiB)"}
        return {label: end[key] for key, label in names.items() if finite(end.get(key)) is not None}

    def checkpoint_path(self) -> Path | None:
        """``best.ckpt``, else ``last.ckpt``, else (mode=test runs) the evaluated ``ckpt_path``."""
        for path in (self.paths.best_ckpt, self.paths.last_ckpt):
            if path.is_file():
                return path
        ckpt = (self.config or {}).get("ckpt_path")
        if (self.config or {}).get("mode") == "test" and ckpt and Path(ckpt).is_file():
            return Path(ckpt)
        return None


# --------------------------------------------------------------------------- loading


def load_history(
    run: str | os.PathLike[str] | RunPaths,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    refresh: Refresh | None = None,
) -> RunHistory:
    """Read a run's files into a :class:`RunHistory` (any state; callers decide what to refuse).

    ``run`` is a run id (looked up under ``runs_root``, default ``$OCEANSR_RUNS`` or
    ``./runs``), a run directory, or :class:`~oceansr.runs.RunPaths`. ``refresh``: bring
    the status up to date through the run's backend before reading (the adapters pass
    ``oceansr.control.live``); without it the status is read as recorded.
    """
    if isinstance(run, RunPaths):
        paths = run
        check_run_dir(paths)
    else:
        paths = resolve_run(run, runs_root)
    refresh_status(paths, refresh)
    try:
        status_doc = read_status(paths)
    except (FileNotFoundError, CorruptRunFileError) as exc:
        raise DataNotFoundError(f"cannot read the status of run {paths.run_id}: {exc}") from exc
    run_doc = _read_optional_json(paths.run_json)
    history = RunHistory(
        paths=paths,
        status_doc=status_doc,
        run_doc=run_doc,
        config=_read_config(paths.config_yaml),
        events=read_events(paths),
    )
    csv_rows = _read_metrics_csv(paths.metrics_csv)
    _apply_events(history)
    _apply_csv(history, csv_rows)
    _finish(history, csv_rows)
    return history


def _read_optional_json(path: Path) -> JsonDict:
    try:
        return read_json(path)
    except (FileNotFoundError, CorruptRunFileError):
        return {}


def _read_config(path: Path) -> JsonDict | None:
    import yaml  # PyYAML comes with omegaconf; lazy so importing this module stays cheap

    try:
        doc = yaml.safe_load(read_regular(path).decode("utf-8"))
    except (FileNotFoundError, CorruptRunFileError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _read_metrics_csv(path: Path) -> list[JsonDict]:
    """Rows of Lightning's metrics.csv with numbers parsed and empty cells dropped."""
    try:
        text = read_regular(path).decode("utf-8")  # never through a link (runs.fileio)
        with io.StringIO(text, newline="") as handle:
            rows = []
            for raw in csv.DictReader(handle):
                row = {}
                for key, text in raw.items():
                    if key is None or text in (None, ""):
                        continue
                    value = finite(text)
                    if value is not None:
                        row[key] = value
                if row:
                    rows.append(row)
            return rows
    except (FileNotFoundError, CorruptRunFileError, csv.Error, UnicodeDecodeError):
        return []


def _apply_events(history: RunHistory) -> None:
    by_epoch: dict[int, JsonDict] = {}
    for event in history.events:
        name = event.get("event")
        if name == "training_start":
            history.training_start = event
        elif name == "epoch_end" and isinstance(event.get("epoch"), int):
            row: JsonDict = {"epoch": event["epoch"]}
            for key in ("step", "is_best", "elapsed_s"):
                if key in event:
                    row[key] = event[key]
            for group in ("train", "val"):
                row.update({k: v for k, v in (event.get(group) or {}).items() if finite(v)})
            lr = event.get("lr")
            row["lr_after"] = lr[0] if isinstance(lr, list) and lr else lr
            by_epoch[event["epoch"]] = row  # a resumed attempt replaces the older row
        elif name == "training_end":
            history.training_end = event
        elif name == "training_error":
            history.error_summary = event.get("error_summary")
    history.epochs = [by_epoch[e] for e in sorted(by_epoch)]
    if history.epochs:
        history.sources["epochs"] = "events.jsonl"


def _is_epoch_row(row: Mapping[str, Any]) -> bool:
    return "epoch" in row and any(
        k == "train/loss_epoch" or (k.startswith("val/") and k != "val/loss_step") for k in row
    )


def _apply_csv(history: RunHistory, rows: list[JsonDict]) -> None:
    by_epoch = {int(row["epoch"]): row for row in history.epochs}
    csv_epochs: dict[int, JsonDict] = {}
    for row in rows:
        if _is_epoch_row(row):
            epoch = int(row["epoch"]) + 1
            merged = csv_epochs.setdefault(epoch, {"epoch": epoch})
            merged.update({k: v for k, v in row.items() if k != "epoch"})
            # Lightning logs epoch-level rows at the epoch's last step index.
            merged["step"] = int(row["step"]) + 1 if "step" in row else merged.get("step")
    for epoch, row in csv_epochs.items():
        target = by_epoch.setdefault(epoch, {"epoch": epoch})
        for key, value in row.items():
            target.setdefault(key, value)
    if csv_epochs and not history.epochs:
        history.sources["epochs"] = "metrics.csv"
    history.epochs = [by_epoch[e] for e in sorted(by_epoch)]

    ends = sorted((int(row["step"]), int(row["epoch"])) for row in history.epochs if "step" in row)
    history.train_steps = [
        {
            "step": int(row["step"]),
            "epoch": _fractional_epoch(int(row["step"]) + 1, ends),
            "loss": row["train/loss_step"],
        }
        for row in rows
        if "train/loss_step" in row and "step" in row
    ]
    history.lr = _lr_schedule(history, rows, ends)


def _fractional_epoch(step: int, ends: list[tuple[int, int]]) -> float:
    """Global step count → epochs done (1.0 = end of epoch 1), linear within an epoch."""
    prev_step, prev_epoch = 0, 0
    for end_step, epoch in ends:
        if step <= end_step:
            span = max(end_step - prev_step, 1)
            return prev_epoch + (epoch - prev_epoch) * (step - prev_step) / span
        prev_step, prev_epoch = end_step, epoch
    if len(ends) >= 2:
        per_epoch = max((ends[-1][0] - ends[0][0]) / max(ends[-1][1] - ends[0][1], 1), 1)
    else:
        per_epoch = max(prev_step / max(prev_epoch, 1), 1)
    return prev_epoch + (step - prev_step) / per_epoch


def _lr_schedule(
    history: RunHistory, rows: list[JsonDict], ends: list[tuple[int, int]]
) -> list[JsonDict]:
    """LR in effect during each epoch: the LearningRateMonitor's ``lr-*`` rows (logged at
    each epoch's first step), else the ``lr`` of ``epoch_end`` (the LR set for the next
    epoch, so shifted by one)."""
    schedule: dict[tuple[str, int], JsonDict] = {}
    for row in rows:
        for key, value in row.items():
            if key.startswith("lr-") and "step" in row:
                step = int(row["step"])
                epoch = 1 + sum(1 for end_step, _ in ends if end_step <= step)
                schedule[(key[3:], epoch)] = {
                    "epoch": epoch,
                    "step": step,
                    "lr": value,
                    "name": key[3:],
                }
    if schedule:
        history.sources["lr"] = "metrics.csv"
        return sorted(schedule.values(), key=lambda r: (r["name"], r["epoch"]))
    out = []
    optim = (history.config or {}).get("optim") or {}
    first = finite(optim.get("lr"))
    warmup = ((optim.get("scheduler") or {}).get("warmup_epochs")) or 0
    if first is not None and history.epochs and not warmup:
        out.append({"epoch": 1, "step": 0, "lr": first, "name": str(optim.get("name", "lr"))})
    for row in history.epochs:
        lr = finite(row.get("lr_after"))
        if lr is not None:
            out.append(
                {"epoch": int(row["epoch"]) + 1, "step": row.get("step"), "lr": lr, "name": "lr"}
            )
    if out:
        history.sources["lr"] = "events.jsonl"
    return out


def _finish(history: RunHistory, rows: list[JsonDict]) -> None:
    status_metrics = history.status_doc.get("metrics") or {}
    end = history.training_end or {}
    # test metrics: status.json, then training_end, then the CSV's test row
    test = dict(status_metrics.get("test") or {}) or dict(end.get("test") or {})
    if not test:
        for row in rows:
            if any(k.startswith("test/") for k in row):
                test.update({k: v for k, v in row.items() if k.startswith("test/")})
    history.test = {k: v for k, v in test.items() if finite(v) is not None}
    val = dict(end.get("val") or {})
    if not val and history.epochs:
        val = {k: v for k, v in history.epochs[-1].items() if k.startswith("val/")}
    if not val:
        latest = status_metrics.get("latest") or {}
        val = {k: v for k, v in latest.items() if k.startswith("val/")}
    history.final_val = {k: v for k, v in val.items() if finite(v) is not None}

    cfg = history.config or {}
    ckpt_cfg = cfg.get("checkpoint") or {}
    history.monitor = str(end.get("monitor") or ckpt_cfg.get("monitor") or "val/rmse")
    history.monitor_mode = str(ckpt_cfg.get("mode") or "min")
    _best_epoch(history, status_metrics)

    derived = history.derived
    history.variables = [str(v) for v in derived.get("variables") or []]
    if not history.variables:
        history.variables = _variables_from_metrics([*history.final_val, *history.test])
    # Units as printed (degC → °C, m s-1 → m s⁻¹: report/units.py), CF names for titles.
    history.units = [display_unit(str(u)) for u in derived.get("units") or []]
    history.long_names = [str(n or "") for n in derived.get("long_names") or []]
    history.error_summary = history.status_doc.get("error_summary") or history.error_summary
    found = history.status_doc.get("test_breakdown")
    history.test_breakdown = found if isinstance(found, dict) and found.get("fields") else None
    history.checkpoints = _checkpoints(history)
    history.timeline = _timeline(history.events)


def _best_epoch(history: RunHistory, status_metrics: Mapping[str, Any]) -> None:
    """The best epoch and value have one writer, the recorder following ModelCheckpoint
    (docs/architecture.md, run directory): ``training_end`` once the run finished,
    ``status.json``'s ``metrics.best`` while it runs or after it stopped. Nothing is
    recomputed here, so the report and ``best.ckpt`` cannot disagree."""
    end = history.training_end or {}
    best = status_metrics.get("best") or {}
    epoch = end.get("best_epoch", best.get("epoch"))
    history.best_epoch = epoch if isinstance(epoch, int) else None
    history.best_value = finite(end.get("best_value", best.get(history.monitor)))


def _checkpoints(history: RunHistory) -> dict[str, JsonDict]:
    saved: dict[str, JsonDict] = {}
    for event in history.events:
        if event.get("event") == "checkpoint_saved" and event.get("kind"):
            saved[str(event["kind"])] = event
    out: dict[str, JsonDict] = {}
    for kind, path in (("best", history.paths.best_ckpt), ("last", history.paths.last_ckpt)):
        info: JsonDict = {"path": str(path), "exists": path.is_file()}
        if info["exists"]:
            info["size_bytes"] = path.stat().st_size
        event = saved.get(kind) or {}
        # checkpoint_saved is emitted after the epoch ends, when the trainer's epoch counter
        # already equals the number of finished epochs; the best one is the best epoch's.
        epoch = history.best_epoch if kind == "best" else None
        info["epoch"] = epoch if epoch is not None else event.get("epoch")
        info["step"] = event.get("step")
        info["saved_at"] = event.get("ts")
        out[kind] = info
    return out


_TIMELINE_DETAIL_KEYS: dict[str, tuple[str, ...]] = {
    "run_created": ("backend", "on_exit"),
    "process_started": ("pid", "host"),
    "training_start": ("model", "params", "total_epochs", "total_steps", "device", "precision"),
    "training_end": ("best_epoch", "best_value", "fit_duration_s", "samples_seen"),
    "killed": ("reason", "last_checkpoint"),
    "kill_requested": ("reason", "grace"),
    "process_lost": ("reason", "exit_code", "signal"),
    "resumed": ("ckpt_path", "previous_status"),
}


def _timeline(events: list[JsonDict]) -> list[JsonDict]:
    """One entry per event; runs of ``epoch_end``/``checkpoint_saved`` collapse into one."""
    out: list[JsonDict] = []
    t0 = _parse(events[0].get("ts")) if events else None
    for event in events:
        name = str(event.get("event"))
        ts = event.get("ts")
        offset = None
        when = _parse(ts)
        if t0 is not None and when is not None:
            offset = round((when - t0).total_seconds(), 2)
        if name in ("epoch_end", "checkpoint_saved"):
            if out and out[-1]["event"] == "epochs":
                block = out[-1]
            else:
                block = {"event": "epochs", "ts": ts, "t_s": offset, "epochs": [], "checkpoints": 0}
                out.append(block)
            if name == "epoch_end":
                block["epochs"].append(event.get("epoch"))
            else:
                block["checkpoints"] += 1
            block["end_ts"], block["end_t_s"] = ts, offset
            continue
        detail: JsonDict = {}
        if name == "training_error":
            summary = event.get("error_summary") or {}
            detail = {
                "failureType": summary.get("failureType"),
                "message": summary.get("message"),
            }
        else:
            keys = _TIMELINE_DETAIL_KEYS.get(name, ())
            detail = {k: event[k] for k in keys if event.get(k) is not None}
        out.append({"event": name, "ts": ts, "t_s": offset, "detail": detail})
    return out


def _parse(ts: Any) -> Any:
    try:
        return parse_iso(ts) if isinstance(ts, str) else None
    except ValueError:
        return None
