"""PNG plots of a finished run, written into ``<run>/plots/``.

:func:`make_plots` draws, from the run's history (``events.jsonl`` + ``metrics.csv``):

- ``loss.png``: training loss per step and per epoch, validation loss per epoch, best
  epoch marked;
- ``metrics.png``: validation RMSE, MAE, PSNR and SSIM per epoch (a row per variable),
  the bicubic level of each as a dashed line;
- ``lr.png``: the learning rate in effect during each epoch;
- ``metric_bars.png``: final validation and test metrics of the model next to bicubic;
- ``summary.png``: a training summary card (model, data, epochs, duration, throughput,
  best epoch, test RMSE vs bicubic with units);

and, with the best checkpoint on the test split (:func:`load_test_fields`):

- ``maps_<var>.png``: LR, bicubic, SR, HR, bicubic − HR and SR − HR for ``num_maps``
  test fields, land grey, lat/lon axes, cmocean colour maps chosen from the variable's
  name or units, robust colour limits from ocean cells (symmetric for errors);
- ``errors_by_region.png``: RMSE against distance to land and per latitude band, model
  and bicubic (the numbers behind the report's analysis, :func:`region_errors`).

Figures are drawn on matplotlib's Agg canvas without pyplot (no global backend change,
safe in notebooks and threads) and written atomically. Plots the history cannot support
(no finished epoch, no checkpoint...) are listed under ``skipped`` with the reason.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.errors import ConfigError
from oceansr.metric_names import HIGHER_IS_BETTER
from oceansr.report.history import (
    METRIC_LABELS,
    UNIT_METRICS,
    RunHistory,
    format_count,
    format_duration,
    format_gain,
    format_value,
    load_history,
    metric_value,
    require_finished,
)
from oceansr.runs.store import atomic_write_bytes

JsonDict = dict[str, Any]

#: Panel titles of a sample-map row, left to right.
MAP_PANELS: tuple[str, ...] = ("LR", "Bicubic", "SR", "HR", "Bicubic − HR", "SR − HR")
CURVE_METRICS: tuple[str, ...] = ("rmse", "mae", "psnr", "ssim")
BAR_METRICS: tuple[str, ...] = ("rmse", "mae", "bias", "psnr", "ssim")
#: Test fields evaluated with the checkpoint for maps and error analysis (evenly spaced).
MAX_EVAL_FIELDS = 64
#: Cap on HR cells per array held in memory for that evaluation (fields x channels x H x W).
MAX_EVAL_CELLS = 30_000_000
DPI = 110
LAND_COLOUR = "0.78"
SR_COLOUR = "#1f5fa8"
SR_LIGHT = "#7fb2e5"
BIC_COLOUR = "0.35"
BIC_LIGHT = "0.75"
VAR_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")
MAX_PLOT_VARIABLES = 8


class PlotSkipped(Exception):
    """A plot (or the checkpoint evaluation) cannot be made; the message says why."""


# --------------------------------------------------------------------------- public API


def make_plots(
    run: str | os.PathLike[str],
    *,
    runs_root: str | os.PathLike[str] | None = None,
    num_maps: int = 2,
) -> JsonDict:
    """Write the plots of a finished run into ``<run>/plots/``.

    ``run`` is a run id (under ``runs_root``) or a run directory. Returns
    ``{"run_id", "run_dir", "status", "plots_dir", "files": [paths], "plots": [{"name",
    "path", "title", "panels", ...}], "skipped": [{"name", "reason"}]}``.

    Raises :class:`~oceansr.errors.DataNotFoundError` for an unknown run and
    :class:`~oceansr.errors.RunStateError` for a run still ``pending``/``running``.
    A failed or killed run gets every plot its history supports.
    """
    num_maps = _check_num_maps(num_maps)
    history = load_history(run, runs_root=runs_root)
    require_finished(history, "plots")
    fields: TestFields | None = None
    fields_error: str | None = None
    if num_maps > 0:
        try:
            fields = load_test_fields(history)
        except PlotSkipped as exc:
            fields_error = str(exc)
    else:
        fields_error = "num_maps=0: the checkpoint was not evaluated on the test split"
    return write_plots(history, fields=fields, fields_error=fields_error, num_maps=num_maps)


def write_plots(
    history: RunHistory,
    *,
    fields: TestFields | None = None,
    fields_error: str | None = None,
    num_maps: int = 2,
    regions: JsonDict | None = None,
) -> JsonDict:
    """Draw every plot ``history`` (and ``fields``, if given) supports; see :func:`make_plots`."""
    num_maps = _check_num_maps(num_maps)
    out_dir = history.paths.plots_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    result: JsonDict = {
        "run_id": history.run_id,
        "run_dir": str(history.run_dir),
        "status": history.state,
        "plots_dir": str(out_dir),
        "files": [],
        "plots": [],
        "skipped": [],
    }
    jobs: list[tuple[str, Any]] = [
        ("loss", lambda: plot_loss(history, out_dir / "loss.png")),
        ("metrics", lambda: plot_metric_curves(history, out_dir / "metrics.png")),
        ("lr", lambda: plot_lr(history, out_dir / "lr.png")),
        ("metric_bars", lambda: plot_metric_bars(history, out_dir / "metric_bars.png")),
        ("summary", lambda: plot_summary_card(history, out_dir / "summary.png")),
    ]
    for name, job in jobs:
        _run_job(result, name, job)
    if fields is None:
        reason = fields_error or "the test split was not evaluated"
        result["skipped"].append({"name": "sample_maps", "reason": reason})
        result["skipped"].append({"name": "errors_by_region", "reason": reason})
        return result
    if num_maps > 0:
        for var_index, var in enumerate(fields.variables):
            path = out_dir / f"maps_{_safe_name(var)}.png"
            _run_job(
                result,
                f"maps_{var}",
                lambda v=var_index, p=path: plot_sample_maps(fields, v, p, num_maps=num_maps),
            )
    else:
        result["skipped"].append({"name": "sample_maps", "reason": "num_maps=0"})
    _run_job(
        result,
        "errors_by_region",
        lambda: plot_errors_by_region(fields, out_dir / "errors_by_region.png", regions),
    )
    return result


def _check_num_maps(num_maps: Any) -> int:
    if isinstance(num_maps, bool) or not isinstance(num_maps, int) or num_maps < 0:
        raise ConfigError(
            f"num_maps must be a non-negative integer, got {num_maps!r}",
            field="num_maps",
            fix="num_maps=2 (0 skips the sample maps)",
        )
    return num_maps


def _run_job(result: JsonDict, name: str, job: Any) -> None:
    try:
        info = job()
    except PlotSkipped as exc:
        result["skipped"].append({"name": name, "reason": str(exc)})
        return
    info = {"name": name, **info}
    result["plots"].append(info)
    result["files"].append(info["path"])


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path, **info: Any) -> JsonDict:
    """Write ``fig`` as PNG atomically; return metadata incl. the titles drawn."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    data = buffer.getvalue()
    atomic_write_bytes(path, data)
    width, height = fig.canvas.get_width_height()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    return {
        "path": str(path),
        "title": suptitle,
        "axes_titles": titles,
        "size_px": [int(width), int(height)],
        "bytes": len(data),
        **info,
    }


def _style(ax: Any) -> None:
    ax.grid(True, alpha=0.3, linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend(ax: Any, **kwargs: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, frameon=False, **kwargs)


def _mark_best(ax: Any, history: RunHistory, *, label: bool = True) -> None:
    if history.best_epoch is None:
        return
    text = None
    if label:
        value = format_value(history.best_value) if history.best_value is not None else ""
        text = f"best epoch {history.best_epoch}" + (
            f" ({history.monitor} {value})" if value else ""
        )
    ax.axvline(history.best_epoch, color="#e67e22", linestyle=":", linewidth=1.5, label=text)


def _epoch_axis(ax: Any, history: RunHistory) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def _run_title(history: RunHistory, what: str) -> str:
    model = history.model_name or "model"
    return f"{what} — {model}, run {history.run_id} ({history.state})"


def _positive_span(values: Sequence[float]) -> float:
    finite_values = [v for v in values if v is not None and math.isfinite(v)]
    if not finite_values or min(finite_values) <= 0:
        return 0.0
    return max(finite_values) / min(finite_values)


# --------------------------------------------------------------------------- curves


def plot_loss(history: RunHistory, path: Path) -> JsonDict:
    """Training loss (per step and per epoch) and validation loss; best epoch marked."""
    train_key = history.train_loss_key
    tx, ty = history.series(train_key)
    vx, vy = history.series("val/loss")
    steps = history.train_steps
    if not (tx or vx or steps):
        raise PlotSkipped("no finished epoch and no logged training step to plot")
    fig = _figure(7.5, 4.4)
    ax = fig.add_subplot()
    if steps:
        ax.plot(
            [s["epoch"] for s in steps],
            [s["loss"] for s in steps],
            color=SR_LIGHT,
            linewidth=0.9,
            alpha=0.8,
            label="train (per step)",
        )
    if tx:
        ax.plot(tx, ty, "o-", color=SR_COLOUR, linewidth=1.8, markersize=4, label="train (epoch)")
    if vx:
        ax.plot(vx, vy, "s-", color="#c0392b", linewidth=1.8, markersize=4, label="validation")
    _mark_best(ax, history)
    values = ty + vy + [s["loss"] for s in steps]
    if _positive_span(values) > 20:
        ax.set_yscale("log")
    loss_name = ((history.config or {}).get("loss") or {}).get("name", "")
    ax.set_ylabel(f"loss ({loss_name}, normalised units)" if loss_name else "loss")
    _epoch_axis(ax, history)
    _style(ax)
    _legend(ax)
    fig.suptitle(_run_title(history, "Loss"), fontsize=11)
    return _save(fig, path, epochs=len(set(tx) | set(vx)))


def _plot_variables(history: RunHistory) -> list[str | None]:
    variables = history.variables[:MAX_PLOT_VARIABLES]
    return list(variables) if variables else [None]


def plot_metric_curves(history: RunHistory, path: Path) -> JsonDict:
    """Validation RMSE/MAE/PSNR/SSIM per epoch (a row per variable), bicubic dashed."""
    variables = _plot_variables(history)
    has_any = any(
        history.series(_key_for(history, "val", m, v))[0] for m in CURVE_METRICS for v in variables
    )
    if not has_any:
        raise PlotSkipped("no validation metrics were recorded (no finished epoch)")
    rows = len(variables)
    fig = _figure(13.0, 3.0 * rows + 0.7)
    axes = fig.subplots(rows, len(CURVE_METRICS), squeeze=False)
    for r, var in enumerate(variables):
        unit = history.unit(var) if var else ""
        for c, metric in enumerate(CURVE_METRICS):
            ax = axes[r][c]
            xs, ys = history.series(_key_for(history, "val", metric, var))
            bx, by = history.series(_key_for(history, "val", metric, var, "bicubic"))
            if xs:
                ax.plot(xs, ys, "o-", color=SR_COLOUR, linewidth=1.8, markersize=4, label="model")
            if len(bx) > 1:
                ax.plot(bx, by, "--", color=BIC_COLOUR, linewidth=1.5, label="bicubic")
            elif by:
                ax.axhline(by[0], linestyle="--", color=BIC_COLOUR, linewidth=1.5, label="bicubic")
            _mark_best(ax, history, label=False)
            ax.set_title(_metric_title(metric, var, unit), fontsize=10)
            _epoch_axis(ax, history)
            _style(ax)
            if r == 0 and c == 0:
                _legend(ax)
    fig.suptitle(
        _run_title(history, "Validation metrics")
        + (f"; dotted: best epoch {history.best_epoch}" if history.best_epoch else ""),
        fontsize=11,
    )
    return _save(fig, path, variables=[v for v in variables if v])


def _key_for(history: RunHistory, stage: str, metric: str, var: str | None, kind: str = "") -> str:
    """Per-variable key when the run logged it, else the headline key."""
    from oceansr.report.history import metric_key

    if var is None:
        return metric_key(stage, metric, None, kind)
    key = metric_key(stage, metric, var, kind)
    if len(history.variables) <= 1 and not history.series(key)[0]:
        return metric_key(stage, metric, None, kind)
    return key


def _metric_title(metric: str, var: str | None, unit: str) -> str:
    label = METRIC_LABELS[metric]
    if metric in UNIT_METRICS and unit:
        label += f" [{unit}]"
    elif metric == "psnr":
        label += " [dB]"
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    better = "closer to 0" if metric == "bias" else better
    prefix = f"{var} — " if var else ""
    return f"{prefix}{label} ({better} is better)"


def plot_lr(history: RunHistory, path: Path) -> JsonDict:
    """Learning rate in effect during each epoch (one line per parameter group)."""
    if not history.lr:
        raise PlotSkipped("no learning rate was recorded (no finished epoch)")
    fig = _figure(7.0, 3.6)
    ax = fig.add_subplot()
    names = sorted({row["name"] for row in history.lr})
    for i, name in enumerate(names):
        rows = [row for row in history.lr if row["name"] == name]
        xs = [row["epoch"] for row in rows]
        ys = [row["lr"] for row in rows]
        colour = VAR_COLOURS[i % len(VAR_COLOURS)]
        ax.step(xs, ys, where="mid", color=colour, linewidth=1.8, label=name)
        ax.plot(xs, ys, "o", color=colour, markersize=4)
    if _positive_span([row["lr"] for row in history.lr]) > 10:
        ax.set_yscale("log")
    _mark_best(ax, history)
    ax.set_ylabel("learning rate")
    _epoch_axis(ax, history)
    _style(ax)
    _legend(ax)
    scheduler = (((history.config or {}).get("optim") or {}).get("scheduler") or {}).get("name")
    what = f"Learning rate ({scheduler} schedule)" if scheduler else "Learning rate"
    fig.suptitle(_run_title(history, what), fontsize=11)
    return _save(fig, path, source=history.sources.get("lr"))


def plot_metric_bars(history: RunHistory, path: Path) -> JsonDict:
    """Final validation and test metrics of the model next to bicubic, a panel per metric."""
    if not (history.final_val or history.test):
        raise PlotSkipped("no validation or test metrics were recorded")
    variables = _plot_variables(history)
    series = [
        ("val", "", "model, val", SR_LIGHT, None),
        ("val", "bicubic", "bicubic, val", BIC_LIGHT, None),
        ("test", "", "model, test", SR_COLOUR, None),
        ("test", "bicubic", "bicubic, test", BIC_COLOUR, "//"),
    ]
    rows = len(variables)
    fig = _figure(15.0, 3.1 * rows + 0.8)
    axes = fig.subplots(rows, len(BAR_METRICS), squeeze=False)
    width = 0.8 / len(series)
    for r, var in enumerate(variables):
        unit = history.unit(var) if var else ""
        for c, metric in enumerate(BAR_METRICS):
            ax = axes[r][c]
            values = []
            for i, (stage, kind, label, colour, hatch) in enumerate(series):
                metrics = history.final_val if stage == "val" else history.test
                value = metric_value(metrics, stage, metric, var, kind)
                if value is None:
                    continue
                values.append(value)
                bar = ax.bar(
                    i * width,
                    value,
                    width * 0.92,
                    color=colour,
                    hatch=hatch,
                    edgecolor="white" if hatch is None else "0.2",
                    label=label,
                )
                ax.bar_label(bar, labels=[f"{value:.4g}"], fontsize=7, padding=2)
            ax.set_xticks([])
            ax.set_title(_metric_title(metric, var, unit), fontsize=9)
            if values and metric in ("psnr", "ssim"):
                low, high = min(values), max(values)
                pad = max((high - low) * 0.6, abs(high) * 0.01, 1e-6)
                ax.set_ylim(low - pad, high + pad)
                ax.set_xlabel("(axis zoomed)", fontsize=7)
            elif values:
                low, high = min(0.0, *values), max(0.0, *values)
                pad = max((high - low) * 0.15, 1e-9)
                ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
            if metric == "bias":
                ax.axhline(0, color="0.2", linewidth=0.8)
            _style(ax)
            ax.grid(False, axis="x")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), fontsize=8)
    fig.suptitle(_run_title(history, "Final metrics vs bicubic"), fontsize=11)
    return _save(fig, path, variables=[v for v in variables if v])


# --------------------------------------------------------------------------- summary card


def summary_lines(history: RunHistory) -> list[tuple[str, str]]:
    """``(label, text)`` rows of the training summary card (also used by the report)."""
    cfg = history.config or {}
    data_cfg = cfg.get("data") or {}
    derived = history.derived
    start = history.training_start or {}
    rows: list[tuple[str, str]] = []
    state = history.state
    exit_code = history.status_doc.get("exit_code")
    if history.error_summary:
        state += f" — {history.error_summary.get('failureType', 'unknown')}"
    elif exit_code is not None:
        state += f" (exit {exit_code})"
    rows.append(("Status", state))
    model = history.model_name or "not recorded (the run stopped before training started)"
    if history.params is not None:
        model += f" — {format_count(history.params)} params"
    rows.append(("Model", model))
    variables = ", ".join(
        f"{v} [{history.unit(v)}]" if history.unit(v) else v for v in history.variables
    )
    if data_cfg:
        source = str(data_cfg.get("source") or "n/a")
        if data_cfg.get("path"):
            source += f" ({Path(str(data_cfg['path'])).name})"
        elif source == "sample":
            source += " (World Ocean Atlas temperature)"
        rows.append(("Data", f"{source}: {variables or 'n/a'}"))
    else:
        rows.append(("Data", "not recorded (no config.yaml: the run stopped before loading data)"))
    hr, lr = derived.get("hr_shape"), derived.get("lr_shape")
    if hr and lr:
        rows.append(("Grid", f"LR {_shape(lr)} → HR {_shape(hr)} (×{derived.get('scale', '?')})"))
    samples = derived.get("samples") or {}
    if samples:
        rows.append(("Samples", " / ".join(f"{k} {v}" for k, v in samples.items())))
    total = history.total_epochs
    epochs = f"{history.epochs_done}" + (f" / {total}" if total else "")
    if history.steps is not None:
        epochs += f" ({history.steps} steps)"
    rows.append(("Epochs", epochs))
    durations = []
    if history.fit_duration_s is not None:
        durations.append(f"fit {format_duration(history.fit_duration_s)}")
    if history.wall_duration_s is not None:
        durations.append(f"wall {format_duration(history.wall_duration_s)}")
    rows.append(("Duration", ", ".join(durations) or "n/a"))
    rate = history.samples_per_s
    device = start.get("device") or ((cfg.get("trainer") or {}).get("accelerator")) or "n/a"
    precision = start.get("precision") or (cfg.get("trainer") or {}).get("precision")
    if rate or history.training_start:
        throughput = f"{rate:.1f} samples/s" if rate else "not recorded"
        throughput += f" on {device}" + (f", precision {precision}" if precision else "")
        rows.append(("Throughput", throughput))
    if history.best_epoch is not None:
        rows.append(
            (
                "Best epoch",
                f"{history.best_epoch} ({history.monitor} = {format_value(history.best_value)})",
            )
        )
    for var in history.variables or [None]:
        model = metric_value(history.test, "test", "rmse", var)
        bicubic = metric_value(history.test, "test", "rmse", var, "bicubic")
        if model is None:
            continue
        unit = history.unit(var) if var else ""
        gain = metric_value(history.test, "test", "rmse", var, "gain")
        label = f"Test RMSE {var}" if var and len(history.variables) > 1 else "Test RMSE"
        rows.append(
            (
                label,
                f"{format_value(model)} {unit} vs bicubic {format_value(bicubic)} {unit} "
                f"(gain {format_gain(gain, 'rmse')})".replace("  ", " "),
            )
        )
    if not history.test:
        rows.append(("Test RMSE", "not recorded (the run did not reach testing)"))
    if history.error_summary and history.error_summary.get("message"):
        rows.append(("Error", str(history.error_summary["message"])))
    return rows


def _shape(shape: Sequence[Any]) -> str:
    return "×".join(str(s) for s in shape)


def plot_summary_card(history: RunHistory, path: Path) -> JsonDict:
    """A one-glance card of the run: model, data, epochs, duration, best epoch, test RMSE."""
    rows = summary_lines(history)
    wrapped = [(label, textwrap.wrap(text, 70) or [""]) for label, text in rows]
    n_lines = sum(len(lines) for _, lines in wrapped)
    fig = _figure(8.6, 0.8 + 0.24 * n_lines)
    ax = fig.add_subplot()
    ax.set_axis_off()
    colour = {"completed": "#2e8b57", "failed": "#c0392b", "killed": "#d35400"}.get(
        history.state, "0.3"
    )
    y = 1.0
    step = 1.0 / max(n_lines, 1)
    for label, lines in wrapped:
        ax.text(0.0, y, label, fontsize=10, fontweight="bold", va="top", transform=ax.transAxes)
        for line in lines:
            ax.text(
                0.22,
                y,
                line,
                fontsize=10,
                va="top",
                transform=ax.transAxes,
                color=colour if label == "Status" else "0.1",
            )
            y -= step
    fig.suptitle(f"Training summary — run {history.run_id}", fontsize=12, fontweight="bold")
    return _save(fig, path, lines=[f"{label}: {text}" for label, text in rows])


# --------------------------------------------------------------------------- test fields


@dataclass
class TestFields:
    """Test fields evaluated with a checkpoint, in physical units, ``(N, C, H, W)``."""

    __test__ = False  # not a pytest test class

    hr: np.ndarray  # NaN = land
    lr: np.ndarray  # LR (h, w) with NaN over LR land
    bicubic: np.ndarray  # bicubic of the land-filled LR, unmasked
    sr: np.ndarray  # model output, unmasked
    labels: list[str]
    indices: list[int]  # positions in the test split
    total: int  # size of the test split
    lat: np.ndarray | None
    lon: np.ndarray | None
    variables: list[str]
    units: list[str]
    scale: int
    checkpoint: Path
    model_name: str

    @property
    def ocean(self) -> np.ndarray:
        return np.isfinite(self.hr)

    def unit(self, var_index: int) -> str:
        return self.units[var_index] if var_index < len(self.units) else ""


def _evenly_spaced(total: int, count: int) -> list[int]:
    if count >= total:
        return list(range(total))
    if count <= 1:
        return [0]
    return sorted({round(float(i)) for i in np.linspace(0, total - 1, count)})


def load_test_fields(
    history: RunHistory, *, max_fields: int = MAX_EVAL_FIELDS, max_cells: int = MAX_EVAL_CELLS
) -> TestFields:
    """Run the best checkpoint (else the last) on up to ``max_fields`` evenly spaced test
    fields of the run's own data config (``config.yaml``). Raises :class:`PlotSkipped`
    with the reason when the checkpoint, the config or the data are unavailable."""
    checkpoint = history.checkpoint_path()
    if checkpoint is None:
        raise PlotSkipped(
            "no checkpoint: neither checkpoints/best.ckpt nor checkpoints/last.ckpt exists"
        )
    data_cfg = (history.config or {}).get("data")
    if not data_cfg:
        raise PlotSkipped("config.yaml with a data section is missing")
    try:
        from oceansr.data.prepare import prepare_data

        data = prepare_data(data_cfg)
    except Exception as exc:  # data moved, deleted or unreadable: plots still go on
        raise PlotSkipped(f"could not load the run's test data: {exc}") from exc
    split = data.splits["test"]
    cells = max(int(np.prod(split.hr.shape[1:])), 1)
    count = max(1, min(max_fields, max_cells // cells))
    indices = _evenly_spaced(len(split), count)
    module = _load_module(checkpoint, data.variables, data.scale)
    sr, bicubic = _predict(module, split.lr[indices], data.scale)
    lr = np.where(split.lr_mask[indices], split.lr[indices], np.nan).astype(np.float32)
    return TestFields(
        hr=split.hr[indices],
        lr=lr,
        bicubic=bicubic,
        sr=sr,
        labels=[split.labels[i] if i < len(split.labels) else f"#{i}" for i in indices],
        indices=indices,
        total=len(split),
        lat=data.lat,
        lon=data.lon,
        variables=list(data.variables),
        units=list(data.units),
        scale=int(data.scale),
        checkpoint=checkpoint,
        model_name=str(history.model_name or "model"),
    )


def _load_module(checkpoint: Path, variables: list[str], scale: int) -> Any:
    try:
        from oceansr.module import SRModule

        module = SRModule.load_from_checkpoint(checkpoint, map_location="cpu")
    except Exception as exc:
        raise PlotSkipped(f"could not load checkpoint {checkpoint}: {exc}") from exc
    if list(module.hparams.variables) != list(variables) or int(module.hparams.scale) != scale:
        raise PlotSkipped(
            f"checkpoint {checkpoint.name} was trained on {list(module.hparams.variables)} at "
            f"scale {module.hparams.scale}, the data config gives {variables} at scale {scale}"
        )
    return module.eval()


def _predict(module: Any, lr: np.ndarray, scale: int, batch: int = 8) -> tuple[Any, Any]:
    import torch

    from oceansr.module import bicubic_upsample

    srs, bics = [], []
    with torch.inference_mode():
        for start in range(0, len(lr), batch):
            x = torch.from_numpy(np.ascontiguousarray(lr[start : start + batch])).float()
            srs.append(module(x).float().numpy())
            bics.append(bicubic_upsample(x, scale).float().numpy())
    return np.concatenate(srs), np.concatenate(bics)


# --------------------------------------------------------------------------- colour maps

_TEMPERATURE = ("temp", "thetao", "theta", "sst", "tos", "to", "t", "pot_temp", "ptemp", "tem")
_SALINITY = ("salt", "salinity", "so", "sss", "sos", "s", "sal", "psal", "sa")
_SIGNED = (
    "ssh", "zos", "eta", "sla", "adt", "zeta", "ssha", "u", "v", "w", "uo", "vo", "wo",
    "ugos", "vgos", "ugosa", "vgosa", "uvel", "vvel", "ssu", "ssv", "vort", "vorticity",
)  # fmt: skip
_SPEED = ("speed", "spd", "uv", "current_speed", "wind_speed", "ws")
_CHLOROPHYLL = ("chl", "chla", "chlor_a", "chlorophyll")
_TEMPERATURE_UNITS = ("degc", "°c", "deg_c", "celsius", "degrees_c", "degree_c", "k", "kelvin")
_SALINITY_UNITS = ("psu", "pss-78", "pss78", "g/kg", "g kg-1", "g.kg-1", "1e-3", "0.001", "ppt")
_VELOCITY_UNITS = ("m/s", "m s-1", "m.s-1", "cm/s", "cm s-1", "m s^-1")
_HEIGHT_UNITS = ("m", "cm", "mm")


@dataclass(frozen=True)
class ColourMap:
    name: str  # cmocean name (thermal, haline, balance, ...)
    symmetric: bool  # limits symmetric about zero
    kind: str  # temperature, salinity, signed, speed, chlorophyll, generic


def colour_map_for(var: str, units: str = "") -> ColourMap:
    """The cmocean map of a variable, from its name first, then from its units."""
    name = re.sub(r"[^a-z0-9_]", "", var.lower())
    unit = units.strip().lower()
    if name in _TEMPERATURE or "temp" in name or "sst" in name:
        return ColourMap("thermal", False, "temperature")
    if name in _SALINITY or "sal" in name or "sss" in name:
        return ColourMap("haline", False, "salinity")
    if name in _SPEED or "speed" in name:
        return ColourMap("speed", False, "speed")
    if name in _SIGNED or "ssh" in name or "vel" in name or "height" in name:
        return ColourMap("balance", True, "signed")
    if name in _CHLOROPHYLL or "chl" in name:
        return ColourMap("algae", False, "chlorophyll")
    if unit in _TEMPERATURE_UNITS or "celsius" in unit:
        return ColourMap("thermal", False, "temperature")
    if unit in _SALINITY_UNITS:
        return ColourMap("haline", False, "salinity")
    if unit in _VELOCITY_UNITS or unit in _HEIGHT_UNITS:
        return ColourMap("balance", True, "signed")
    return ColourMap("deep", False, "generic")


_FALLBACK_CMAPS = {
    "thermal": "inferno",
    "haline": "viridis",
    "balance": "RdBu_r",
    "speed": "YlGn",
    "algae": "Greens",
    "deep": "viridis",
}


def _cmap(name: str) -> Any:
    """A cmocean colour map (matplotlib's nearest equivalent if cmocean is missing), with
    NaN (land) drawn in the land colour."""
    cmap = None
    try:
        from matplotlib import MatplotlibDeprecationWarning

        with warnings.catch_warnings():
            # cmocean 4 passes N= to ListedColormap, deprecated since matplotlib 3.11
            warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
            import cmocean.cm

        cmap = getattr(cmocean.cm, name, None)
    except ImportError:
        cmap = None
    if cmap is None:
        from matplotlib import colormaps

        cmap = colormaps[_FALLBACK_CMAPS.get(name, "viridis")]
    return cmap.with_extremes(bad=LAND_COLOUR)


def robust_limits(
    values: np.ndarray, *, symmetric: bool = False, low: float = 2.0, high: float = 98.0
) -> tuple[float, float]:
    """Colour limits from the finite (ocean) values: percentiles ``low``/``high``, or
    ``±`` the ``high`` percentile of ``|values|`` when ``symmetric``."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return (-1.0, 1.0) if symmetric else (0.0, 1.0)
    if symmetric:
        bound = float(np.percentile(np.abs(data), high))
        bound = bound if bound > 0 else float(np.abs(data).max()) or 1.0
        return -bound, bound
    vmin, vmax = (float(v) for v in np.percentile(data, [low, high]))
    if vmax <= vmin:
        pad = max(abs(vmin) * 0.01, 1e-6)
        vmin, vmax = vmin - pad, vmax + pad
    return vmin, vmax


# --------------------------------------------------------------------------- maps


def _is_uniform(coord: np.ndarray) -> bool:
    if coord.ndim != 1 or coord.size < 2:
        return coord.ndim == 1
    steps = np.diff(coord.astype(np.float64))
    return bool(np.allclose(steps, steps[0], rtol=1e-3, atol=1e-9)) and steps[0] != 0


def _draw_field(ax: Any, field: np.ndarray, fields: TestFields, cmap: Any, vlim: tuple) -> Any:
    """``field`` (H, W) on the HR grid: extent for uniform 1-D lat/lon, pcolormesh for
    2-D or irregular coordinates, grid indices when there are none."""
    vmin, vmax = vlim
    data = np.ma.masked_invalid(field)
    lat, lon = fields.lat, fields.lon
    ax.set_facecolor(LAND_COLOUR)
    if lat is None or lon is None:
        image = ax.imshow(
            data, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        ax.set_aspect("equal")
        return image
    if lat.ndim == 1 and lon.ndim == 1 and _is_uniform(lat) and _is_uniform(lon):
        dlat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
        dlon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
        extent = (
            float(lon[0]) - dlon / 2,
            float(lon[-1]) + dlon / 2,
            float(lat[0]) - dlat / 2,
            float(lat[-1]) + dlat / 2,
        )
        image = ax.imshow(
            data,
            origin="lower",
            extent=extent,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_xlim(min(extent[:2]), max(extent[:2]))
        ax.set_ylim(min(extent[2:]), max(extent[2:]))
    else:
        shading = "nearest" if lat.ndim == 1 else "auto"
        image = ax.pcolormesh(lon, lat, data, cmap=cmap, vmin=vmin, vmax=vmax, shading=shading)
    ax.set_aspect(_geo_aspect(lat))
    return image


def _geo_aspect(lat: np.ndarray) -> float:
    """Degrees of longitude look as long as degrees of latitude at the domain's middle."""
    finite_lat = lat[np.isfinite(lat)]
    if finite_lat.size == 0:
        return 1.0
    lo, hi = float(finite_lat.min()), float(finite_lat.max())
    if hi - lo > 60:  # global or basin scale: plate carrée
        return 1.0
    return float(min(1.0 / max(math.cos(math.radians((lo + hi) / 2)), 0.2), 3.0))


def _panel_size(fields: TestFields) -> tuple[float, float]:
    height, width = fields.hr.shape[-2:]
    ratio = height / max(width, 1)
    if fields.lat is not None and fields.lon is not None:
        lat = np.asarray(fields.lat, dtype=np.float64)
        lon = np.asarray(fields.lon, dtype=np.float64)
        lat_span = float(np.nanmax(lat) - np.nanmin(lat))
        lon_span = float(np.nanmax(lon) - np.nanmin(lon))
        if lat_span > 0 and lon_span > 0:
            ratio = lat_span * _geo_aspect(lat) / lon_span
    panel_w = 3.1
    return panel_w, float(min(max(panel_w * ratio, 1.2), 4.2))


def _rmse(pred: np.ndarray, truth: np.ndarray) -> float | None:
    mask = np.isfinite(truth) & np.isfinite(pred)
    if not mask.any():
        return None
    diff = (pred[mask] - truth[mask]).astype(np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def plot_sample_maps(fields: TestFields, var_index: int, path: Path, *, num_maps: int) -> JsonDict:
    """LR, bicubic, SR, HR and both errors for ``num_maps`` evenly spaced test fields."""
    var = fields.variables[var_index]
    unit = fields.unit(var_index)
    spec = colour_map_for(var, unit)
    field_cmap, error_cmap = _cmap(spec.name), _cmap("balance")
    picks = [fields.indices.index(i) for i in _pick_map_fields(fields, num_maps)]
    panel_w, panel_h = _panel_size(fields)
    fig = _figure(panel_w * len(MAP_PANELS) + 1.6, (panel_h + 0.95) * len(picks) + 0.5)
    subfigs = fig.subfigures(len(picks), 1, squeeze=False)[:, 0]
    rows_meta = []
    lat_label = "latitude [°N]" if fields.lat is not None else "row"
    lon_label = "longitude [°E]" if fields.lon is not None else "column"
    scale = fields.scale
    for subfig, k in zip(subfigs, picks, strict=True):
        hr = fields.hr[k, var_index]
        ocean = np.isfinite(hr)
        sr = np.where(ocean, fields.sr[k, var_index], np.nan)
        bic = np.where(ocean, fields.bicubic[k, var_index], np.nan)
        lr_up = np.repeat(np.repeat(fields.lr[k, var_index], scale, axis=0), scale, axis=1)
        lr_up = lr_up[: hr.shape[0], : hr.shape[1]]
        panels = [lr_up, bic, sr, hr, bic - hr, sr - hr]
        vlim = robust_limits(hr, symmetric=spec.symmetric)
        elim = robust_limits(np.concatenate([(bic - hr).ravel(), (sr - hr).ravel()]), high=99.0)
        elim = (-max(abs(elim[0]), abs(elim[1])), max(abs(elim[0]), abs(elim[1])))
        axes = subfig.subplots(1, len(MAP_PANELS), sharex=True, sharey=True)
        images = []
        for j, (ax, title, data) in enumerate(zip(axes, MAP_PANELS, panels, strict=True)):
            is_error = j >= 4
            image = _draw_field(
                ax, data, fields, error_cmap if is_error else field_cmap, elim if is_error else vlim
            )
            images.append(image)
            ax.set_title(title, fontsize=10)
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel(lat_label, fontsize=8)
            ax.set_xlabel(lon_label, fontsize=8)
            if is_error:
                value = _rmse(bic if j == 4 else sr, hr)
                ax.text(
                    0.02,
                    0.03,
                    f"RMSE {format_value(value, 3)} {unit}".rstrip(),
                    transform=ax.transAxes,
                    fontsize=7,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
                )
        field_bar = subfig.colorbar(images[3], ax=list(axes[:4]), shrink=0.85, pad=0.01)
        field_bar.set_label(f"{var} [{unit}]" if unit else var, fontsize=8)
        error_bar = subfig.colorbar(images[5], ax=list(axes[4:]), shrink=0.85, pad=0.01)
        error_bar.set_label(f"error [{unit}]" if unit else "error", fontsize=8)
        for bar in (field_bar, error_bar):
            bar.ax.tick_params(labelsize=7)
        label = fields.labels[k]
        subfig.suptitle(
            f"{var}, test field {fields.indices[k] + 1}/{fields.total}: {label}",
            fontsize=10,
            x=0.02,
            ha="left",
        )
        rows_meta.append(
            {
                "label": label,
                "test_index": fields.indices[k],
                "panels": [ax.get_title() for ax in axes],
                "rmse": _rmse(sr, hr),
                "rmse_bicubic": _rmse(bic, hr),
                "colour_limits": [float(v) for v in vlim],
                "error_limits": [float(v) for v in elim],
            }
        )
    fig.suptitle(
        f"{var}: LR → bicubic / SR ({fields.model_name}, {fields.checkpoint.name}) vs HR — "
        f"land grey, cmocean {spec.name}",
        fontsize=11,
    )
    return _save(
        fig,
        path,
        variable=var,
        units=unit,
        colour_map=spec.name,
        checkpoint=str(fields.checkpoint),
        panels=list(MAP_PANELS),
        rows=rows_meta,
    )


def _pick_map_fields(fields: TestFields, num_maps: int) -> list[int]:
    """Test-split indices of ``num_maps`` evaluated fields spread over the split."""
    positions = _evenly_spaced(len(fields.indices), num_maps)
    return [fields.indices[p] for p in positions]


# --------------------------------------------------------------------------- error structure


def _distance_to_land(ocean: np.ndarray) -> np.ndarray:
    """Per (field, channel): HR cells from each ocean cell to the nearest land cell
    (``inf`` for a field without land)."""
    from scipy.ndimage import distance_transform_edt

    out = np.full(ocean.shape, np.inf, dtype=np.float32)
    for n in range(ocean.shape[0]):
        for c in range(ocean.shape[1]):
            mask = ocean[n, c]
            if mask.all() or not mask.any():
                continue
            out[n, c] = distance_transform_edt(mask)
    return out


def _latitudes(fields: TestFields) -> tuple[np.ndarray, bool]:
    """Latitude of every HR cell (H, W), or the row index when there is no latitude."""
    height, width = fields.hr.shape[-2:]
    if fields.lat is None:
        rows = np.arange(height, dtype=np.float64)[:, None]
        return np.broadcast_to(rows, (height, width)), False
    lat = np.asarray(fields.lat, dtype=np.float64)
    if lat.ndim == 1:
        return np.broadcast_to(lat[:height, None], (height, width)), True
    return lat[:height, :width], True


def _band_edges(values: np.ndarray, is_lat: bool) -> np.ndarray:
    """Latitude bands of 15° (10° or 5° for smaller domains, aligned on multiples of the
    width), or six equal bands of rows when there is no latitude."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    span = hi - lo
    if not is_lat:
        return np.linspace(lo, hi, 1 + max(1, min(6, int(span) + 1)))
    width = 15.0 if span >= 60 else 10.0 if span >= 30 else 5.0 if span >= 12 else span / 4
    if width <= 0:
        return np.array([lo, hi + 1e-6])
    start = math.floor(lo / width) * width
    count = max(1, math.ceil((hi - start) / width))
    return start + width * np.arange(count + 1)


def _stats(err_sr: np.ndarray, err_bic: np.ndarray, mask: np.ndarray) -> JsonDict:
    cells = int(mask.sum())
    if cells == 0:
        return {"cells": 0, "rmse": None, "rmse_bicubic": None}
    sr = err_sr[mask].astype(np.float64)
    bic = err_bic[mask].astype(np.float64)
    return {
        "cells": cells,
        "rmse": float(np.sqrt(np.mean(sr * sr))),
        "rmse_bicubic": float(np.sqrt(np.mean(bic * bic))),
    }


def region_errors(fields: TestFields, coast_cells: int | None = None) -> JsonDict:
    """Where the errors are, per variable, on the evaluated test fields.

    ``coast_cells`` (default: the scale factor, i.e. one LR cell) splits ocean cells into
    coastal (at most that many HR cells from land) and open ocean. Returns per variable the
    RMSE of model and bicubic over all cells, coastal and open cells, per distance to land
    (1 ... 2×coast_cells, then beyond), per latitude band (the worst band, with at least
    2 % of the ocean cells, is named), and the worst field.
    """
    coast = int(coast_cells or fields.scale)
    ocean = fields.ocean
    dist = _distance_to_land(ocean)
    lat_grid, is_lat = _latitudes(fields)
    edges = _band_edges(lat_grid, is_lat)
    out: JsonDict = {
        "coast_cells": coast,
        "fields": len(fields.indices),
        "total_fields": fields.total,
        "checkpoint": str(fields.checkpoint),
        "band_axis": "latitude" if is_lat else "row",
        "variables": {},
    }
    for c, var in enumerate(fields.variables):
        mask = ocean[:, c]
        hr = np.nan_to_num(fields.hr[:, c])
        err_sr = np.where(mask, fields.sr[:, c] - hr, 0.0)
        err_bic = np.where(mask, fields.bicubic[:, c] - hr, 0.0)
        d = dist[:, c]
        entry: JsonDict = {
            "units": fields.unit(c),
            "overall": _stats(err_sr, err_bic, mask),
            "coastal": _stats(err_sr, err_bic, mask & (d <= coast)),
            "open": _stats(err_sr, err_bic, mask & (d > coast)),
        }
        by_distance = []
        for step in range(1, 2 * coast + 1):
            sel = mask & (d > step - 1) & (d <= step)
            by_distance.append({"distance": step, **_stats(err_sr, err_bic, sel)})
        by_distance.append(
            {"distance": f">{2 * coast}", **_stats(err_sr, err_bic, mask & (d > 2 * coast))}
        )
        entry["by_distance"] = by_distance
        bands = []
        total_cells = max(int(mask.sum()), 1)
        for lo, hi in itertools.pairwise(edges):
            last = hi == edges[-1]
            in_band = (lat_grid >= lo) & ((lat_grid <= hi) if last else (lat_grid < hi))
            stats = _stats(err_sr, err_bic, mask & in_band[None])
            if stats["cells"]:
                bands.append({"low": float(lo), "high": float(hi), **stats})
        entry["bands"] = bands
        candidates = [b for b in bands if b["cells"] >= 0.02 * total_cells] or bands
        entry["worst_band"] = max(candidates, key=lambda b: b["rmse"]) if candidates else None
        per_field = []
        for n in range(mask.shape[0]):
            stats = _stats(err_sr[n], err_bic[n], mask[n])
            if stats["cells"]:
                per_field.append({"label": fields.labels[n], **stats})
        entry["worst_field"] = max(per_field, key=lambda f: f["rmse"]) if per_field else None
        out["variables"][var] = entry
    return out


def band_label(band: Mapping[str, Any], axis: str = "latitude") -> str:
    """``30°S–15°S`` for latitude bands, ``rows 0–14`` otherwise."""
    if axis != "latitude":
        return f"rows {band['low']:.0f}–{band['high']:.0f}"

    def deg(value: float) -> str:
        hemi = "N" if value > 0 else "S" if value < 0 else ""
        return f"{abs(value):g}°{hemi}"

    return f"{deg(band['low'])}–{deg(band['high'])}"


def plot_errors_by_region(fields: TestFields, path: Path, regions: JsonDict | None = None):
    """RMSE of model and bicubic against distance to land and per latitude band."""
    from matplotlib.patches import Patch

    regions = regions or region_errors(fields)
    variables = list(regions["variables"])[:MAX_PLOT_VARIABLES]
    fig = _figure(12.0, 3.3 * len(variables) + 0.7)
    axes = fig.subplots(len(variables), 2, squeeze=False)
    coast = regions["coast_cells"]
    for r, var in enumerate(variables):
        entry = regions["variables"][var]
        unit = entry["units"]
        ax = axes[r][0]
        rows = [row for row in entry["by_distance"] if row["cells"]]
        labels = [str(row["distance"]) for row in rows]
        xs = np.arange(len(rows))
        ax.plot(xs, [row["rmse"] for row in rows], "o-", color=SR_COLOUR, label="model")
        ax.plot(xs, [row["rmse_bicubic"] for row in rows], "s--", color=BIC_COLOUR, label="bicubic")
        ax.set_xticks(xs, labels)
        if any(str(row["distance"]) == str(coast) for row in rows):
            ax.axvline(
                labels.index(str(coast)) + 0.5,
                color="#e67e22",
                linestyle=":",
                label=f"coastal ≤ {coast} cells",
            )
        ax.set_xlabel("distance to land [HR cells]")
        ax.set_title(f"{var} — RMSE{f' [{unit}]' if unit else ''} vs distance to land", fontsize=10)
        _style(ax)
        _legend(ax)
        ax = axes[r][1]
        bands = entry["bands"]
        worst = entry.get("worst_band")
        centres = np.array([(b["low"] + b["high"]) / 2 for b in bands])
        half = np.array([(b["high"] - b["low"]) * 0.4 for b in bands])
        colours = [SR_COLOUR if b is worst else SR_LIGHT for b in bands]
        ax.barh(centres + half / 2, [b["rmse"] for b in bands], height=half, color=colours)
        bicubic = [b["rmse_bicubic"] for b in bands]
        ax.barh(centres - half / 2, bicubic, height=half, color=BIC_LIGHT)
        handles = [Patch(color=SR_LIGHT, label="model"), Patch(color=BIC_LIGHT, label="bicubic")]
        if worst:
            handles.append(
                Patch(color=SR_COLOUR, label=f"worst: {band_label(worst, regions['band_axis'])}")
            )
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="best")
        ax.set_ylabel("latitude [°N]" if regions["band_axis"] == "latitude" else "row")
        ax.set_xlabel(f"RMSE{f' [{unit}]' if unit else ''}")
        ax.set_title(f"{var} — RMSE per {regions['band_axis']} band", fontsize=10)
        _style(ax)
    fig.suptitle(
        f"Where the errors are — {regions['fields']} of {regions['total_fields']} test fields, "
        f"{Path(regions['checkpoint']).name}",
        fontsize=11,
    )
    return _save(fig, path, regions=regions)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "var"


__all__ = [
    "MAP_PANELS",
    "ColourMap",
    "PlotSkipped",
    "TestFields",
    "band_label",
    "colour_map_for",
    "load_test_fields",
    "make_plots",
    "region_errors",
    "robust_limits",
    "summary_lines",
    "write_plots",
]
