"""Plots drawn from a run's history alone (events.jsonl + metrics.csv): loss, metric
curves with the bicubic level, learning rate, final metric bars and the summary card.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.core.metric_names import HIGHER_IS_BETTER
from oceansr.i18n import tr
from oceansr.report.figures import (
    BIC_COLOUR,
    BIC_LIGHT,
    MAX_PLOT_VARIABLES,
    SR_COLOUR,
    SR_LIGHT,
    VAR_COLOURS,
    JsonDict,
    PlotSkipped,
    add_legend,
    new_figure,
    save_figure,
    style_axes,
)
from oceansr.report.formatting import (
    format_count,
    format_duration,
    format_gain,
    format_value,
    variable_title,
    with_unit,
)
from oceansr.report.history import METRIC_LABELS, UNIT_METRICS, RunHistory, metric_value

CURVE_METRICS: tuple[str, ...] = ("rmse", "mae", "psnr", "ssim")


BAR_METRICS: tuple[str, ...] = ("rmse", "mae", "bias", "psnr", "ssim")


def _mark_best(ax: Any, history: RunHistory, *, label: bool = True) -> None:
    if history.best_epoch is None:
        return
    text = None
    if label:
        value = format_value(history.best_value) if history.best_value is not None else ""
        text = tr("best epoch {epoch}", epoch=history.best_epoch) + (
            tr(" ({monitor} {value})", monitor=history.monitor, value=value) if value else ""
        )
    ax.axvline(history.best_epoch, color="#e67e22", linestyle=":", linewidth=1.5, label=text)


def _epoch_axis(ax: Any, history: RunHistory) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Epochs are counted from 1 everywhere the report shows them (history.py turns
    # metrics.csv's 0-based epochs into 1-based ones); x = n is the end of epoch n.
    ax.set_xlabel(tr("epoch (1-based; n = end of epoch n)"))


def _run_title(history: RunHistory, what: str) -> str:
    model = history.model_name or tr("model")
    return tr(
        "{what} — {model}, run {run_id} ({state})",
        what=tr(what),
        model=model,
        run_id=history.run_id,
        state=tr(history.state),
    )


def log_interval(history: RunHistory) -> int | None:
    """Optimiser steps between two logged training losses: the most common spacing of
    the logged steps, else ``trainer.log_every_n_steps``; None when unknown."""
    steps = [int(s["step"]) for s in history.train_steps if "step" in s]
    gaps = [b - a for a, b in itertools.pairwise(steps) if b > a]
    if gaps:
        return max(set(gaps), key=gaps.count)
    value = ((history.config or {}).get("trainer") or {}).get("log_every_n_steps")
    return int(value) if isinstance(value, int) and value > 0 else None


def _positive_span(values: Sequence[float]) -> float:
    finite_values = [v for v in values if v is not None and math.isfinite(v)]
    if not finite_values or min(finite_values) <= 0:
        return 0.0
    return max(finite_values) / min(finite_values)


def plot_loss(history: RunHistory, path: Path) -> JsonDict:
    """Training loss (per step and per epoch) and validation loss; best epoch marked."""
    train_key = history.train_loss_key
    tx, ty = history.series(train_key)
    vx, vy = history.series("val/loss")
    steps = history.train_steps
    if not (tx or vx or steps):
        raise PlotSkipped("no finished epoch and no logged training step to plot")
    fig = new_figure(7.5, 4.4)
    ax = fig.add_subplot()
    if steps:
        ax.plot(
            [s["epoch"] for s in steps],
            [s["loss"] for s in steps],
            color=SR_LIGHT,
            linewidth=0.9,
            alpha=0.8,
            label=_step_label(history),
        )
    if tx:
        ax.plot(
            tx, ty, "o-", color=SR_COLOUR, linewidth=1.8, markersize=4, label=tr("train (epoch)")
        )
    if vx:
        ax.plot(vx, vy, "s-", color="#c0392b", linewidth=1.8, markersize=4, label=tr("validation"))
    _mark_best(ax, history)
    values = ty + vy + [s["loss"] for s in steps]
    if _positive_span(values) > 20:
        ax.set_yscale("log")
    loss_name = ((history.config or {}).get("loss") or {}).get("name", "")
    ax.set_ylabel(
        tr("loss ({name}, normalised units)", name=loss_name) if loss_name else tr("loss")
    )
    _epoch_axis(ax, history)
    style_axes(ax)
    add_legend(ax)
    fig.suptitle(_run_title(history, "Loss"), fontsize=11)
    return save_figure(fig, path, epochs=len(set(tx) | set(vx)))


def _step_label(history: RunHistory) -> str:
    """The legend of the logged training losses: one point per logging interval, so
    the legend says how many steps apart they are (not "per step")."""
    every = log_interval(history)
    if every is None or every == 1:
        return tr("train, every step")
    return tr("train, every {n} steps", n=every)


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
    fig = new_figure(13.0, 3.0 * rows + 0.7)
    axes = fig.subplots(rows, len(CURVE_METRICS), squeeze=False)
    for r, var in enumerate(variables):
        unit = history.unit(var) if var else ""
        for c, metric in enumerate(CURVE_METRICS):
            ax = axes[r][c]
            xs, ys = history.series(_key_for(history, "val", metric, var))
            bx, by = history.series(_key_for(history, "val", metric, var, "bicubic"))
            if xs:
                ax.plot(
                    xs, ys, "o-", color=SR_COLOUR, linewidth=1.8, markersize=4, label=tr("model")
                )
            if len(bx) > 1:
                ax.plot(bx, by, "--", color=BIC_COLOUR, linewidth=1.5, label=tr("bicubic"))
            elif by:
                ax.axhline(
                    by[0], linestyle="--", color=BIC_COLOUR, linewidth=1.5, label=tr("bicubic")
                )
            _mark_best(ax, history, label=False)
            ax.set_title(_metric_title(metric, _var_title(history, var), unit), fontsize=10)
            _epoch_axis(ax, history)
            style_axes(ax)
            if r == 0 and c == 0:
                add_legend(ax)
    fig.suptitle(
        _run_title(history, "Validation metrics")
        + (
            tr("; dotted: best epoch {epoch}", epoch=history.best_epoch)
            if history.best_epoch
            else ""
        ),
        fontsize=11,
    )
    return save_figure(fig, path, variables=[v for v in variables if v])


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
    label = tr(METRIC_LABELS[metric])
    if metric in UNIT_METRICS and unit:
        label += f" [{unit}]"
    elif metric == "psnr":
        label += " [dB]"
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    better = "closer to 0" if metric == "bias" else better
    prefix = f"{var} — " if var else ""
    return f"{prefix}{label} " + tr("({better} is better)", better=tr(better))


def _var_title(history: RunHistory, var: str | None) -> str | None:
    """A variable as plot titles name it: its CF long_name with the short name."""
    return variable_title(var, history.long_name(var)) if var else None


def plot_lr(history: RunHistory, path: Path) -> JsonDict:
    """Learning rate in effect during each epoch (one line per parameter group)."""
    if not history.lr:
        raise PlotSkipped("no learning rate was recorded (no finished epoch)")
    fig = new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    names = sorted({row["name"] for row in history.lr})
    for i, name in enumerate(names):
        rows = [row for row in history.lr if row["name"] == name]
        xs = [row["epoch"] for row in rows]
        ys = [row["lr"] for row in rows]
        colour = VAR_COLOURS[i % len(VAR_COLOURS)]
        # The rate of epoch n holds from the end of epoch n-1 to the end of epoch n
        # (x = n is the end of epoch n, as on the other curves): an epoch scheduler
        # changes it at the epoch boundaries, where the steps are drawn.
        edges = [xs[0] - 1, *xs]
        ax.stairs(ys, edges, color=colour, linewidth=1.8, baseline=None, label=name)
        ax.plot([x - 0.5 for x in xs], ys, "o", color=colour, markersize=4)
    if _positive_span([row["lr"] for row in history.lr]) > 10:
        ax.set_yscale("log")
    else:
        # 1e-4-sized rates read as "0.0001": scientific notation on a linear axis.
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0), useMathText=True)
    _mark_best(ax, history)
    ax.set_ylabel(tr("learning rate"))
    _epoch_axis(ax, history)
    style_axes(ax)
    add_legend(ax)
    scheduler = (((history.config or {}).get("optim") or {}).get("scheduler") or {}).get("name")
    what = tr("Learning rate ({name} schedule)", name=scheduler) if scheduler else "Learning rate"
    fig.suptitle(_run_title(history, what), fontsize=11)
    return save_figure(fig, path, source=history.sources.get("lr"))


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
    fig = new_figure(15.0, 3.1 * rows + 0.8)
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
                    label=tr(label),
                )
                ax.bar_label(bar, labels=[f"{value:.4g}"], fontsize=7, padding=2)
            ax.set_xticks([])
            ax.set_title(_metric_title(metric, _var_title(history, var), unit), fontsize=9)
            if values and metric in ("psnr", "ssim"):
                low, high = min(values), max(values)
                pad = max((high - low) * 0.6, abs(high) * 0.01, 1e-6)
                ax.set_ylim(low - pad, high + pad)
                ax.set_xlabel(tr("(axis zoomed)"), fontsize=7)
            elif values:
                low, high = min(0.0, *values), max(0.0, *values)
                pad = max((high - low) * 0.15, 1e-9)
                ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
            if metric == "bias":
                ax.axhline(0, color="0.2", linewidth=0.8)
            style_axes(ax)
            ax.grid(False, axis="x")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), fontsize=8)
    fig.suptitle(_run_title(history, "Final metrics vs bicubic"), fontsize=11)
    return save_figure(fig, path, variables=[v for v in variables if v])


def _data_row(history: RunHistory, data_cfg: Mapping[str, Any]) -> tuple[str, str]:
    """The card's data row: source (file name) and variables with units."""
    if not data_cfg:
        return ("Data", tr("not recorded (no config.yaml: the run stopped before loading data)"))
    variables = ", ".join(
        with_unit(variable_title(v, history.long_name(v)), history.unit(v))
        for v in history.variables
    )
    source = str(data_cfg.get("source") or tr("n/a"))
    if data_cfg.get("path"):
        source += tr(" ({name})", name=Path(str(data_cfg["path"])).name)
    elif source == "sample":
        source += tr(" (World Ocean Atlas temperature)")
    return ("Data", tr("{source}: {variables}", source=source, variables=variables or tr("n/a")))


def summary_lines(history: RunHistory) -> list[tuple[str, str]]:
    """``(label, text)`` rows of the training summary card (also used by the report)."""
    cfg = history.config or {}
    data_cfg = cfg.get("data") or {}
    derived = history.derived
    start = history.training_start or {}
    rows: list[tuple[str, str]] = []
    state = tr(history.state)
    exit_code = history.status_doc.get("exit_code")
    if history.error_summary:
        state += f" — {history.error_summary.get('failureType', 'unknown')}"
    elif exit_code is not None:
        state = tr("{state} (exit code {code})", state=state, code=exit_code)
    rows.append(("Status", state))
    model = history.model_name or tr("not recorded (the run stopped before training started)")
    if history.params is not None:
        model += tr(" — {count} parameters", count=format_count(history.params))
    rows.append(("Model", model))
    rows.append(_data_row(history, data_cfg))
    hr, lr = derived.get("hr_shape"), derived.get("lr_shape")
    if hr and lr:
        rows.append(("Grid", f"LR {_shape(lr)} → HR {_shape(hr)} (×{derived.get('scale', '?')})"))
    samples = derived.get("samples") or {}
    if samples:
        rows.append(("Samples", " / ".join(f"{tr(k)} {v}" for k, v in samples.items())))
    total = history.total_epochs
    epochs = f"{history.epochs_done}" + (f" / {total}" if total else "")
    if history.steps is not None:
        epochs += tr(" ({steps} steps)", steps=history.steps)
    rows.append(("Epochs", epochs))
    rows.append(("Duration", format_duration(history.duration_s)))
    rate = history.samples_per_s
    device = start.get("device") or ((cfg.get("trainer") or {}).get("accelerator")) or "n/a"
    precision = start.get("precision") or (cfg.get("trainer") or {}).get("precision")
    if rate or history.training_start:
        throughput = tr("{rate} samples/s", rate=f"{rate:.1f}") if rate else tr("not recorded")
        throughput += tr(" on {device}", device=device)
        throughput += tr(", precision {precision}", precision=precision) if precision else ""
        rows.append(("Throughput", throughput))
    if history.best_epoch is not None:
        rows.append(
            (
                "Best epoch",
                f"{history.best_epoch} ({history.monitor} = {format_value(history.best_value)})",
            )
        )
    per_variable: list[str | None] = list(history.variables) or [None]
    for var in per_variable:
        sr_rmse = metric_value(history.test, "test", "rmse", var)
        bicubic = metric_value(history.test, "test", "rmse", var, "bicubic")
        if sr_rmse is None:
            continue
        unit = history.unit(var) if var else ""
        gain = metric_value(history.test, "test", "rmse", var, "gain")
        # Translated here (tr of a translated text is itself): the label has a value in it.
        label = (
            tr("Test RMSE {var}", var=var) if var and len(history.variables) > 1 else "Test RMSE"
        )
        rows.append(
            (
                label,
                tr(
                    "{sr} {unit} vs bicubic {bicubic} {unit} (gain {gain})",
                    sr=format_value(sr_rmse),
                    unit=unit,
                    bicubic=format_value(bicubic),
                    gain=format_gain(gain, "rmse"),
                ).replace("  ", " "),
            )
        )
    if not history.test:
        rows.append(("Test RMSE", tr("not recorded (the run did not reach testing)")))
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
    fig = new_figure(8.6, 0.8 + 0.24 * n_lines)
    ax = fig.add_subplot()
    ax.set_axis_off()
    colour = {"completed": "#2e8b57", "failed": "#c0392b", "killed": "#d35400"}.get(
        history.state, "0.3"
    )
    y = 1.0
    step = 1.0 / max(n_lines, 1)
    for label, lines in wrapped:
        ax.text(0.0, y, tr(label), fontsize=10, fontweight="bold", va="top", transform=ax.transAxes)
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
    fig.suptitle(
        tr("Training summary — run {run_id}", run_id=history.run_id),
        fontsize=12,
        fontweight="bold",
    )
    return save_figure(fig, path, lines=[f"{label}: {text}" for label, text in rows])
