"""The report's Markdown sections: summary, configuration, data, timeline, curves and
maps, metrics vs bicubic, checkpoints, compute, analysis and the preserved notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.core.metric_names import HIGHER_IS_BETTER, gain_kind, strongest_baseline
from oceansr.i18n import tr, writing_lang
from oceansr.report.formatting import (
    format_bytes,
    format_count,
    format_duration,
    format_gain,
    format_value,
    variable_title,
    with_unit,
)
from oceansr.report.history import (
    METRIC_LABELS,
    METRICS,
    UNIT_METRICS,
    RunHistory,
    finite,
    metric_value,
)
from oceansr.report.plots import (
    summary_lines,
)
from oceansr.report.regions import describe_distance_bands
from oceansr.report.spectra import describe_spectra
from oceansr.report.verdict import baseline_label, section_breakdown
from oceansr.runs import read_regular

JsonDict = dict[str, Any]


NOTES_MARKER = "<!-- notes: add your notes below -->"


def _cell(value: Any) -> str:
    text = str(value if value is not None else "n/a")
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(tr(h)) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]  # values as is
    return [*lines, ""]


def _when(ts: Any) -> str:
    if not isinstance(ts, str) or not ts:
        return "n/a"
    return ts.replace("T", " ").replace("Z", " UTC")


def _code(value: Any) -> str:
    text = str(value)
    return f"`{text}`" if "`" not in text else text


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value_text(v)}" for k, v in value.items())
    return str(value)


def _split_text(value: Any) -> str:
    if isinstance(value, Mapping) and ("start" in value or "stop" in value):
        return f"{_value_text(value.get('start'))}–{_value_text(value.get('stop'))}"
    return _value_text(value)


def _config_rows(cfg: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []

    def add(group: str, section: Mapping[str, Any] | None, keys: Sequence[str] | None = None):
        section = section or {}
        for key in keys if keys is not None else list(section):
            if key in section and section[key] is not None and not isinstance(section[key], dict):
                rows.append([tr(group), _code(key), _code(_value_text(section[key]))])

    add("model", cfg.get("model"))
    data = cfg.get("data") or {}
    add(
        "data",
        data,
        ["source", "path", "variables", "scale", "patch_size", "patches_per_field",
         "min_ocean_fraction", "batch_size", "eval_batch_size", "num_workers"],
    )  # fmt: skip
    split = data.get("split") or {}
    if isinstance(split, Mapping) and split:
        parts = [
            f"{tr(k)} {_split_text(split[k])}" for k in ("train", "valid", "test") if k in split
        ]
        how = (
            tr("{dim} by {by}", dim=_code(split.get("dim")), by=_code(split.get("by")))
            if split.get("dim")
            else tr("given")
        )
        rows.append(
            [tr("data"), _code("split"), tr("{how}: {parts}", how=how, parts=", ".join(parts))]
        )
    add(
        "trainer",
        cfg.get("trainer"),
        ["accelerator", "devices", "strategy", "precision", "max_epochs", "max_steps",
         "limit_train_batches", "limit_val_batches", "limit_test_batches",
         "accumulate_grad_batches", "gradient_clip_val"],
    )  # fmt: skip
    optim = cfg.get("optim") or {}
    add("optim", optim, ["name", "lr", "weight_decay", "betas"])
    scheduler = optim.get("scheduler") or {}
    if scheduler:
        name = scheduler.get("name")
        keys = {
            "cosine": ["warmup_epochs", "min_lr"],
            "step": ["warmup_epochs", "step_size", "gamma"],
            "plateau": ["gamma", "patience", "min_lr"],
        }.get(str(name), [])
        detail = ", ".join(f"{k}={_value_text(scheduler[k])}" for k in keys if k in scheduler)
        scheduler_text = _code(f"{name}" + (f" ({detail})" if detail else ""))
        rows.append([tr("optim"), _code("scheduler"), scheduler_text])
    add("loss", cfg.get("loss"), ["name"])
    training = tr("training")
    rows.append([training, _code("residual_learning"), _code(cfg.get("residual_learning"))])
    rows.append([training, _code("seed"), _code(cfg.get("seed"))])
    ckpt = cfg.get("checkpoint") or {}
    if ckpt:
        monitor = f"{ckpt.get('monitor')} ({ckpt.get('mode')})"
        rows.append([training, _code("checkpoint.monitor"), _code(monitor)])
    for group in ("ema", "early_stopping"):
        section = cfg.get(group) or {}
        if section:
            state = tr("enabled") if section.get("enabled") else tr("disabled")
            rows.append([training, _code(group), state])
    return rows


def _section_summary(history: RunHistory, analysis: list[tuple[str, str]]) -> list[str]:
    lines = [f"## {tr('Summary')}", ""]
    lines += [f"- **{tr(label)}**{tr(': ')}{text}" for label, text in summary_lines(history)]
    verdicts = [text for label, text in analysis if label in ("Trend", "Baselines")]
    if verdicts:
        lines += ["", " ".join(verdicts)]
    return [*lines, ""]


def _section_config(history: RunHistory) -> list[str]:
    cfg = history.config or {}
    lines = [f"## {tr('Configuration')}", ""]
    if not cfg:
        return [*lines, "config.yaml was not written (the run stopped before it).", ""]
    overrides = history.run_doc.get("overrides") or []
    if overrides:
        lines += [tr("Overrides: {overrides}", overrides=" ".join(_code(o) for o in overrides)), ""]
    lines += _table(["group", "setting", "value"], _config_rows(cfg))
    full = read_regular(history.paths.config_yaml).decode("utf-8", errors="replace").rstrip("\n")
    lines += [
        "<details>",
        f"<summary>{tr('Full resolved configuration (config.yaml)')}</summary>",
        "",
        "```yaml",
        full,
        "```",
        "",
        "</details>",
        "",
    ]
    return lines


def _section_data(history: RunHistory) -> list[str]:
    derived = history.derived
    lines = [f"## {tr('Data')}", ""]
    if not derived:
        return [*lines, "No resolved data description (config.yaml has no `derived` block).", ""]
    variables = derived.get("variables") or []
    names = ", ".join(
        with_unit(variable_title(v, history.long_name(v)), history.unit(v)) for v in variables
    )
    cells = tr("{shape} cells", shape="×".join(map(str, derived.get("hr_shape") or [])))
    lr_cells = tr("{shape} cells", shape="×".join(map(str, derived.get("lr_shape") or [])))
    rows: list[list[Any]] = [
        [tr("source"), _code(derived.get("source"))],
        [tr("variables"), names],
        [tr("HR grid"), cells],
        [tr("LR grid"), lr_cells],
        [tr("scale factor"), derived.get("scale")],
    ]
    samples = derived.get("samples") or {}
    per_split = tr(", ").join(f"{tr(k)}{tr(': ')}{v}" for k, v in samples.items())
    rows.append([tr("samples per split"), per_split])
    fraction = finite(derived.get("ocean_fraction"))
    if fraction is not None:
        rows.append([tr("ocean fraction (train HR cells)"), f"{100 * fraction:.1f} %"])
    for i, var in enumerate(variables):
        unit = history.unit(var)
        mean = (derived.get("mean") or [None] * len(variables))[i]
        std = (derived.get("std") or [None] * len(variables))[i]
        rng = (derived.get("data_range") or [None] * len(variables))[i]
        stats = tr(
            "mean {mean} {unit}, std {std} {unit} (ocean cells of the training split)",
            mean=format_value(mean),
            std=format_value(std),
            unit=unit,
        ).replace("  ", " ")
        rows.append([tr("normalisation {var}", var=var), stats])
        fixed = tr("{value} {unit} (fixed, from train)", value=format_value(rng), unit=unit)
        rows.append([tr("PSNR data range {var}", var=var), fixed.replace("  ", " ")])
    for note in derived.get("notes") or []:
        rows.append([tr("note"), _code(note)])
    return [*lines, *_table(["item", "value"], rows)]


def _timeline_detail(entry: Mapping[str, Any]) -> str:
    if entry["event"] == "epochs":
        epochs = [e for e in entry["epochs"] if e is not None]
        if len(epochs) > 1:
            span = tr("epochs {first}–{last} finished", first=epochs[0], last=epochs[-1])
        else:
            span = tr("epoch {epoch} finished", epoch=epochs[0]) if epochs else tr("checkpoints")
        end = entry.get("end_t_s")
        if end is not None:
            span += tr(" (until t = {t} s)", t=f"{end:.1f}")
        return span + tr(", {count} checkpoint(s) saved", count=entry["checkpoints"])
    detail = entry.get("detail") or {}
    return ", ".join(f"{k}={_value_text(v)}" for k, v in detail.items())


def _section_timeline(history: RunHistory) -> list[str]:
    status = history.status_doc
    attempts = history.attempts
    rows = [
        [tr("created"), _when(status.get("created_at"))],
        [tr("started"), _when(status.get("started_at"))],
        [tr("ended"), _when(status.get("ended_at"))],
        [tr("duration"), format_duration(history.duration_s)],
        [
            tr("final state"),
            tr("{state} (exit code {code})", state=tr(history.state), code=status.get("exit_code")),
        ],
    ]
    resumes = sum(1 for e in history.events if e.get("event") == "resumed")
    total = max(len(attempts), 1 + resumes)
    rows.append(
        [
            tr("attempts"),
            f"{total}" + (tr(" ({count} resume(s))", count=resumes) if resumes else ""),
        ]
    )
    for attempt in attempts:
        detail = tr("started {when}", when=_when(attempt.get("started_at")))
        for key in ("backend", "ckpt_path", "resumed_from", "pid"):
            if attempt.get(key) is not None:
                detail += f", {_code(f'{key}={attempt[key]}')}"
        rows.append([tr("attempt {n}", n=attempt.get("attempt")), detail])
    lines = [f"## {tr('Timeline')}", "", *_table(["item", "value"], rows)]
    events = [
        [
            f"{e['t_s']:.1f}" if e.get("t_s") is not None else "",
            _when(e.get("ts")),
            _code(e["event"]),
            _timeline_detail(e),
        ]
        for e in history.timeline
    ]
    if events:
        lines += [tr("Events (from events.jsonl):"), ""]
        lines += _table(["t [s]", "time", "event", "details"], events)
    summary = history.error_summary
    if summary:
        lines += [f"### {tr('Error')}", ""]
        lines += [
            f"- **failure type**: {summary.get('failureType')}",
            f"- **message**: {summary.get('message')}",
        ]
        if summary.get("suggestions"):  # one list of next steps: the Analysis section's
            lines.append(f"- **{tr('suggestions')}**: {tr('see the next steps under Analysis')}")
        tail = summary.get("traceback_tail")
        if tail:
            lines += ["", "<details>", "<summary>Traceback (tail)</summary>", "", "```text"]
            lines += [str(tail).rstrip("\n"), "```", "", "</details>"]
        lines.append("")
    return lines


_CAPTIONS = {
    "loss": "Training loss per step (light) and per epoch, validation loss per epoch; the "
    "dotted line marks the best epoch.",
    "metrics": "Validation metrics per epoch; dashed: the bicubic baseline on the same cells.",
    "lr": "Learning rate in effect during each epoch.",
    "metric_bars": "Final validation and test metrics of the model next to bicubic.",
    "errors_by_region": "RMSE of model and baselines per band of distance to land and per "
    "latitude band, on the evaluated test fields.",
}


_TITLES = {
    "loss": "Loss",
    "metrics": "Validation metrics",
    "lr": "Learning rate",
    "metric_bars": "Final metrics vs bicubic",
    "errors_by_region": "Errors by region",
}


def _image(history: RunHistory, plot: Mapping[str, Any], alt: str) -> str:
    rel = Path(plot["path"]).relative_to(history.run_dir).as_posix()
    return f"![{alt}]({rel})"


def _section_plots(history: RunHistory, plots: Mapping[str, Any]) -> list[str]:
    by_name = {p["name"]: p for p in plots["plots"]}
    skipped = {s["name"]: s["reason"] for s in plots["skipped"]}
    lines = [f"## {tr('Curves')}", ""]
    for name in ("loss", "metrics", "lr", "metric_bars"):
        title = tr(_TITLES[name])
        lines += [f"### {title}", ""]
        if name in by_name:
            lines += [tr(_CAPTIONS[name]), "", _image(history, by_name[name], title), ""]
        else:
            lines += [tr("Not drawn: {reason}.", reason=skipped.get(name, "no data")), ""]
    lines += [f"## {tr('Sample maps')}", ""]
    maps = [p for name, p in by_name.items() if name.startswith("maps_")]
    if not maps:
        lines += [tr("Not drawn: {reason}.", reason=skipped.get("sample_maps", "no test fields"))]
    for plot in maps:
        rows = plot.get("rows") or []
        labels = tr(", ").join(f"`{r['label']}`" for r in rows)
        lines += [
            f"### {plot['variable']}",
            "",
            tr(
                "Test fields {labels}: {panels} (checkpoint {ckpt}; cmocean {cmap}; land grey; "
                "colour limits from the 2nd–98th percentiles of the ocean cells, arrows on the "
                "colour bars where values go beyond them; errors symmetric).",
                labels=labels,
                panels=tr(", ").join(plot["panels"]),
                ckpt=Path(plot["checkpoint"]).name,
                cmap=plot["colour_map"],
            ),
            "",
            _image(history, plot, tr("Sample maps: {var}", var=plot["variable"])),
            "",
        ]
    if "errors_by_region" in by_name:
        lines += [
            f"### {tr(_TITLES['errors_by_region'])}",
            "",
            tr(_CAPTIONS["errors_by_region"])
            + _bands_note(by_name["errors_by_region"].get("regions")),
            "",
            _image(history, by_name["errors_by_region"], tr(_TITLES["errors_by_region"])),
            "",
        ]
    return lines + _section_spectra(history, by_name)


def _bands_note(regions: Mapping[str, Any] | None) -> str:
    """How the distance-to-land bands were made, after the figure's caption."""
    if not regions or "distance_bands" not in regions:
        return ""
    return ("" if writing_lang() == "zh" else " ") + describe_distance_bands(dict(regions))


def _section_spectra(history: RunHistory, by_name: Mapping[str, Any]) -> list[str]:
    """Zonal power spectra (effective resolutions, LR Nyquist) and RMSE by depth level."""
    lines: list[str] = []
    for name, plot in by_name.items():
        if name.startswith("spectra_"):
            lines += [
                f"### {tr('Power spectra: {var}', var=plot['variable'])}",
                "",
                tr(
                    "Zonal power spectra of HR, SR and the baselines along latitude bands, each "
                    "row with its true zonal spacing, on ocean runs of at least {cells} HR "
                    "cells (detrended, Hann taper). Effective resolution: the largest "
                    "wavelength below which the error spectrum (SR − HR, baseline − HR) stays "
                    "at or above {fraction} of HR's.",
                    cells=plot.get("min_segment_cells", 16),
                    fraction=f"{plot['fraction']:.0%}",
                ),
                "",
                *[f"- {sentence}" for sentence in describe_spectra(plot)],
                "",
                _image(history, plot, tr("Power spectra: {var}", var=plot["variable"])),
                "",
            ]
        elif name.startswith("rmse_by_depth_"):
            lines += [
                f"### {tr('RMSE by depth: {var}', var=plot['variable'])}",
                "",
                tr("RMSE of SR and bicubic per depth level on the evaluated test fields."),
                "",
                _image(history, plot, tr("RMSE by depth: {var}", var=plot["variable"])),
                "",
            ]
    return lines


def _metric_label(metric: str, unit: str) -> str:
    label = tr(METRIC_LABELS[metric])
    if metric in UNIT_METRICS and unit:
        return f"{label} [{unit}]"
    return f"{label} [dB]" if metric == "psnr" else label


def _section_metrics(history: RunHistory) -> list[str]:
    lines = [f"## {tr('Final metrics')}", ""]
    if not (history.final_val or history.test):
        return [*lines, tr("No validation or test metrics were recorded."), ""]
    lines += [
        tr(
            "Validation: the last finished epoch; test: the best checkpoint on the test split. "
            "Gain over the stronger baseline of each split (named in the header): error "
            "reduction in % for RMSE/MAE, |bias| reduction in the variable's unit, dB for "
            "PSNR, difference for SSIM; positive means the model is better."
        ),
        "",
    ]
    stages = (("val", history.final_val), ("test", history.test))
    bases = {stage: strongest_baseline(metrics, stage) for stage, metrics in stages}
    rows = []
    per_variable: list[str | None] = list(history.variables) or [None]
    for var in per_variable:
        unit = history.unit(var) if var else ""
        for metric in METRICS:
            row = [var or "all", _metric_label(metric, unit)]
            for stage, metrics in stages:
                kind = gain_kind(bases[stage])
                row += [
                    format_value(metric_value(metrics, stage, metric, var)),
                    format_value(metric_value(metrics, stage, metric, var, "bicubic")),
                    format_value(metric_value(metrics, stage, metric, var, "spline")),
                    format_gain(metric_value(metrics, stage, metric, var, kind), metric, unit),
                ]
            rows.append(row)
    header = ["variable", "metric"]
    for stage, _ in stages:
        name = baseline_label(bases[stage])
        header += [stage, f"{stage} bicubic", f"{stage} spline"]
        header.append(tr("{stage} gain over {baseline}", stage=tr(stage), baseline=name))
    lines += _table(header, rows)
    lower = [f"|{tr('bias')}|" if m == "bias" else tr(METRIC_LABELS[m]) for m in METRICS]
    lower = [label for label, m in zip(lower, METRICS, strict=True) if m not in HIGHER_IS_BETTER]
    higher = [tr(METRIC_LABELS[m]) for m in METRICS if m in HIGHER_IS_BETTER]
    lines += [
        tr(
            "Better is lower {lower}; higher {higher}.",
            lower=tr(", ").join(lower),
            higher=tr(", ").join(higher),
        ),
        "",
    ]
    return [*lines, *section_breakdown(history)]


def _section_checkpoints(history: RunHistory) -> list[str]:
    rows: list[list[Any]] = []
    for kind, info in history.checkpoints.items():
        rel = Path(info["path"]).relative_to(history.run_dir).as_posix()
        if not info["exists"]:
            rows.append([kind, _code(rel), "missing", "", "", ""])
            continue
        rows.append(
            [
                kind,
                _code(rel),
                format_bytes(info.get("size_bytes")),
                info.get("epoch") if info.get("epoch") is not None else "n/a",
                info.get("step") if info.get("step") is not None else "n/a",
                _when(info.get("saved_at")),
            ]
        )
    lines = [f"## {tr('Checkpoints')}", ""]
    lines += _table(["checkpoint", "path", "size", "epoch", "step", "saved"], rows)
    lines += [tr("Run directory: {path}", path=_code(history.run_dir)), ""]
    return lines


def _section_compute(history: RunHistory) -> list[str]:
    start = history.training_start or {}
    elapsed = [e for r in history.epochs if (e := finite(r.get("elapsed_s"))) is not None]
    per_epoch = None
    if len(elapsed) >= 2:
        per_epoch = (elapsed[-1] - elapsed[0]) / (len(elapsed) - 1)
    elif elapsed:
        per_epoch = elapsed[0]
    rate = history.samples_per_s
    memory = history.peak_memory()
    rows: list[list[Any]] = [
        [tr("duration"), format_duration(history.duration_s)],
        [tr("time per epoch (train + val)"), format_duration(per_epoch)],
        [tr("epochs / optimiser steps"), f"{history.epochs_done} / {history.steps}"],
        [tr("training samples seen"), history.samples_seen if history.samples_seen else "n/a"],
        [
            tr("throughput"),
            tr("{rate} samples/s", rate=f"{rate:.1f}") if rate else tr("not recorded"),
        ],
        [
            tr("device"),
            f"{start.get('device', tr('n/a'))} ({_code(start.get('accelerator', tr('n/a')))})",
        ],
        [tr("precision"), start.get("precision", "n/a")],
        [tr("processes (world size)"), start.get("world_size", "n/a")],
        [tr("parameters"), format_count(history.params)],
        [
            tr("peak memory"),
            tr(", ").join(f"{tr(k)} = {_value_text(v)}" for k, v in memory.items())
            if memory
            else tr("not recorded"),
        ],
    ]
    return [f"## {tr('Compute cost')}", "", *_table(["item", "value"], rows)]


def _section_analysis(analysis: list[tuple[str, str]]) -> list[str]:
    lines = [f"## {tr('Analysis')}", ""]
    lines += [f"- **{tr(label)}{tr('.')}** {text}" for label, text in analysis]
    return [*lines, ""]


def render_markdown(
    history: RunHistory,
    plots: Mapping[str, Any],
    analysis: list[tuple[str, str]],
    regions: JsonDict | None,
    notes: str = "",
) -> str:
    """The report's Markdown text (see the module docstring for its sections)."""
    from oceansr.runs import now_iso

    lines = [
        f"# {tr('Run report: {run_id}', run_id=history.run_id)}",
        "",
        "> "
        + tr(
            "{model} · {state} · generated {when} by {tool} from {files}.",
            model=history.model_name or tr("model"),
            state=tr(history.state),
            when=_when(now_iso()),
            tool="`oceansr.report`",
            files=tr(", ").join(
                f"`{name}`"
                for name in ("events.jsonl", "metrics.csv", "status.json", "config.yaml")
            ),
        ),
        "",
        f"![{tr('Training summary')}](plots/summary.png)"
        if any(p["name"] == "summary" for p in plots["plots"])
        else "",
        "",
    ]
    lines += _section_summary(history, analysis)
    lines += _section_config(history)
    lines += _section_data(history)
    lines += _section_timeline(history)
    lines += _section_plots(history, plots)
    lines += _section_metrics(history)
    lines += _section_checkpoints(history)
    lines += _section_compute(history)
    lines += _section_analysis(analysis)
    lines += [f"## {tr('Notes')}", "", NOTES_MARKER, ""]
    if notes.strip():
        lines += [notes.strip("\n"), ""]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text)
