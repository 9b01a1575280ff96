"""The run report: ``<run>/report.md`` and a self-contained ``<run>/report.html``.

:func:`make_report` writes the plots (:mod:`oceansr.report.plots`) and a Markdown report
with: summary, configuration (key values and the full resolved config, collapsed), data,
timeline, curves, sample maps, final validation/test metrics per variable next to
bicubic with the gain, checkpoints, compute cost, an analysis written from the numbers
(val-RMSE trend, over-fitting signs, gain over bicubic, where errors concentrate: coast
vs open ocean and the worst latitude band, on test fields run through the best
checkpoint) and a ``Notes`` section that survives regeneration.

The HTML file is converted from the same Markdown by a small converter for exactly
the subset written here (headings, paragraphs, lists, tables, fenced code, images,
``<details>`` blocks, inline code/bold/italics); images are embedded as base64 data
URIs and the page references nothing outside itself.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.metric_names import HIGHER_IS_BETTER
from oceansr.report.history import (
    METRIC_LABELS,
    METRICS,
    UNIT_METRICS,
    RunHistory,
    finite,
    format_bytes,
    format_count,
    format_duration,
    format_gain,
    format_value,
    load_history,
    metric_value,
    require_finished,
)
from oceansr.report.plots import (
    PlotSkipped,
    TestFields,
    band_label,
    load_test_fields,
    region_errors,
    summary_lines,
    write_plots,
)

JsonDict = dict[str, Any]

NOTES_MARKER = "<!-- notes: add your notes below -->"
REPORT_HTML = "report.html"
#: Relative change (in %) of a quantity over the trend window below which it "plateaued".
TREND_TOLERANCE_PCT = 1.0
#: Number of final epochs the trend and over-fitting checks look at.
TREND_WINDOW = 5
#: Epochs (with train loss and val RMSE) needed before over-fitting is called.
MIN_OVERFIT_EPOCHS = 3
#: Coastal/open RMSE ratio beyond which errors are said to concentrate on one side.
CONCENTRATION_RATIO = 1.1


# --------------------------------------------------------------------------- public API


def make_report(
    run: str | os.PathLike[str], *, runs_root: str | os.PathLike[str] | None = None
) -> JsonDict:
    """Write ``<run>/report.md``, ``<run>/report.html`` and the plots of a finished run.

    ``run`` is a run id (under ``runs_root``) or a run directory. Notes written below
    the ``<!-- notes: ... -->`` marker of an existing ``report.md`` are kept. Returns
    ``{"run_id", "run_dir", "status", "report_md", "report_html", "plots": [paths],
    "skipped": [{"name", "reason"}], "analysis": [sentences], "notes_preserved"}``.

    Raises :class:`~oceansr.errors.DataNotFoundError` for an unknown run and
    :class:`~oceansr.errors.RunStateError` for a run still ``pending``/``running``.
    """
    history = load_history(run, runs_root=runs_root)
    require_finished(history, "reports")
    fields: TestFields | None = None
    fields_error: str | None = None
    try:
        fields = load_test_fields(history)
    except PlotSkipped as exc:
        fields_error = str(exc)
    regions = region_errors(fields) if fields is not None else None
    plots = write_plots(history, fields=fields, fields_error=fields_error, regions=regions)
    notes = read_notes(history.paths.report_md)
    analysis = analyse(history, regions, fields_error)
    markdown = render_markdown(history, plots, analysis, regions, notes)
    md_path = history.paths.report_md
    html_path = history.run_dir / REPORT_HTML
    _atomic_write(md_path, markdown)
    title = f"oceansr report — {history.run_id}"
    _atomic_write(html_path, markdown_to_html(markdown, base_dir=history.run_dir, title=title))
    return {
        "run_id": history.run_id,
        "run_dir": str(history.run_dir),
        "status": history.state,
        "report_md": str(md_path),
        "report_html": str(html_path),
        "plots": list(plots["files"]),
        "skipped": list(plots["skipped"]),
        "analysis": [f"{label}: {_strip_md(text)}" for label, text in analysis],
        "notes_preserved": bool(notes.strip()),
    }


def read_notes(path: Path) -> str:
    """The user's notes: everything after :data:`NOTES_MARKER` in an existing report."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return ""
    if NOTES_MARKER in text:
        return text.split(NOTES_MARKER, 1)[1].strip("\n")
    match = re.search(r"^## Notes[ \t]*\n", text, flags=re.MULTILINE)  # marker deleted by hand
    return text[match.end() :].strip("\n") if match else ""


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _strip_md(text: str) -> str:
    return re.sub(r"\*\*|`", "", text)


# --------------------------------------------------------------------------- analysis


def _epochs(count: int) -> str:
    return f"{count} finished epoch" + ("" if count == 1 else "s")


def _pct_change(first: float, last: float) -> float:
    return 100.0 * (last - first) / abs(first) if first else 0.0


def _headline_unit(history: RunHistory) -> str:
    units = {u for u in history.units if u}
    return units.pop() if len(units) == 1 and len(history.variables) >= 1 else ""


def _trend(history: RunHistory) -> tuple[str, JsonDict]:
    """(sentence, facts) about the monitored val RMSE over the last epochs."""
    xs, ys = history.series("val/rmse")
    unit = _headline_unit(history)
    if not xs:
        return "No validation epoch finished, so there is no trend to read.", {"verdict": None}
    if len(xs) < 2:
        return (
            f"Only one validation epoch was recorded (val RMSE {format_value(ys[0])} {unit}), "
            "so no trend can be read yet.".replace("  ", " "),
            {"verdict": None},
        )
    window = min(TREND_WINDOW, len(xs))
    first, last = ys[-window], ys[-1]
    change = _pct_change(first, last)
    if change < -TREND_TOLERANCE_PCT:
        verdict = "still improving"
    elif change > TREND_TOLERANCE_PCT:
        verdict = "worsening"
    else:
        verdict = "plateaued"
    best_note = ""
    if history.best_epoch is not None and history.best_epoch < xs[-1]:
        best_note = (
            f" The best epoch was {history.best_epoch} "
            f"({xs[-1] - history.best_epoch} before the last one)."
        )
    elif history.best_epoch == xs[-1]:
        best_note = " The last epoch is also the best one."
    what = "Validation RMSE"
    if len(history.variables) > 1:
        what += f" (val/rmse, the mean over {len(history.variables)} variables)"
    sentence = (
        f"{what} is **{verdict}** over the last {window} epochs "
        f"({xs[-window]}–{xs[-1]}): {format_value(first)} → {format_value(last)} {unit} "
        f"({change:+.1f} %).".replace("  ", " ")
        + best_note
    )
    return sentence, {"verdict": verdict, "window": window, "change_pct": change}


def _overfitting(history: RunHistory) -> tuple[str, bool]:
    tx, ty = history.series(history.train_loss_key)
    vx, vy = history.series("val/rmse")
    common = sorted(set(tx) & set(vx))
    if len(common) < 2:
        return (
            "Too few epochs with both training loss and validation RMSE to judge over-fitting.",
            False,
        )
    common = common[-TREND_WINDOW:]
    train = dict(zip(tx, ty, strict=True))
    val = dict(zip(vx, vy, strict=True))
    t_change = _pct_change(train[common[0]], train[common[-1]])
    v_change = _pct_change(val[common[0]], val[common[-1]])
    span = f"epochs {common[0]}–{common[-1]}"
    if len(common) < MIN_OVERFIT_EPOCHS:
        return (
            f"Only {len(common)} epochs, too few to judge over-fitting: over {span} the training "
            f"loss changed {t_change:+.1f} % and validation RMSE {v_change:+.1f} %.",
            False,
        )
    if t_change < -TREND_TOLERANCE_PCT and v_change > TREND_TOLERANCE_PCT:
        return (
            f"**Signs of over-fitting**: the training loss fell {abs(t_change):.1f} % while "
            f"validation RMSE rose {v_change:.1f} % over {span}.",
            True,
        )
    if v_change > TREND_TOLERANCE_PCT:
        return (
            f"No over-fitting signature, but validation RMSE rose {v_change:.1f} % over {span} "
            f"while the training loss changed {t_change:+.1f} %: training is unstable or "
            "noisy rather than over-fitted.",
            False,
        )
    return (
        f"No sign of over-fitting: over {span} the training loss changed {t_change:+.1f} % and "
        f"validation RMSE {v_change:+.1f} %.",
        False,
    )


def _baseline(history: RunHistory) -> tuple[list[str], JsonDict]:
    """Sentences on the gain over bicubic (test set, else validation), per variable."""
    stage, metrics = ("test", history.test) if history.test else ("val", history.final_val)
    where = "On the test set" if stage == "test" else "On the validation set (no test metrics)"
    variables: list[str | None] = list(history.variables) or [None]
    sentences, facts = [], {"stage": stage, "beats": {}}
    for var in variables:
        model = metric_value(metrics, stage, "rmse", var)
        bicubic = metric_value(metrics, stage, "rmse", var, "bicubic")
        if model is None or bicubic is None:
            continue
        unit = history.unit(var) if var else ""
        gain = metric_value(metrics, stage, "rmse", var, "gain")
        beats = model < bicubic
        facts["beats"][var or "all"] = beats
        name = f" for {var}" if var and len(variables) > 1 else ""
        verb = "**beats bicubic**" if beats else "does **not** beat bicubic"
        better = [
            METRIC_LABELS[m]
            for m in METRICS
            if (g := metric_value(metrics, stage, m, var, "gain")) is not None and g > 0
        ]
        counted = [m for m in METRICS if metric_value(metrics, stage, m, var, "gain") is not None]
        sentences.append(
            f"{where} the model {verb}{name}: RMSE {format_value(model)} vs "
            f"{format_value(bicubic)} {unit} (gain {format_gain(gain, 'rmse')}); it is better "
            f"than bicubic on {len(better)} of {len(counted)} metrics"
            + (f" ({', '.join(better)})." if better else ".")
        )
    if not sentences:
        sentences.append(
            "No validation or test metrics were recorded, so the gain over bicubic is unknown."
        )
    return sentences, facts


def _where_errors(regions: JsonDict | None, fields_error: str | None) -> list[str]:
    if regions is None:
        return [f"The spatial error analysis was not made: {fields_error}."]
    coast = regions["coast_cells"]
    intro = (
        f"On {regions['fields']} of {regions['total_fields']} test fields run through "
        f"{Path(regions['checkpoint']).name}"
    )
    out = []
    for var, entry in regions["variables"].items():
        unit = entry["units"]
        coastal, open_ = entry["coastal"], entry["open"]
        name = f" ({var})" if len(regions["variables"]) > 1 else ""
        if not coastal["cells"] or not open_["cells"]:
            where = "no land" if not coastal["cells"] else "no ocean farther from land"
            out.append(
                f"{intro}{name}, the coast/open-ocean split is undefined ({where} within "
                f"{coast} HR cells); overall RMSE {format_value(entry['overall']['rmse'])} {unit}."
            )
        else:
            ratio = coastal["rmse"] / open_["rmse"] if open_["rmse"] else float("inf")
            if ratio > CONCENTRATION_RATIO:
                verdict = "errors **concentrate near the coast**"
            elif ratio < 1 / CONCENTRATION_RATIO:
                verdict = "errors are **larger in the open ocean** than near the coast"
            else:
                verdict = "errors are **spread evenly** between coast and open ocean"
            c_gain = _gain_pct(coastal)
            o_gain = _gain_pct(open_)
            out.append(
                f"{intro}{name}, {verdict}: RMSE within {coast} HR cells (one LR cell) of land "
                f"is {format_value(coastal['rmse'])} {unit} against "
                f"{format_value(open_['rmse'])} {unit} in the open ocean (×{ratio:.2f}); "
                f"bicubic has {format_value(coastal['rmse_bicubic'])} and "
                f"{format_value(open_['rmse_bicubic'])} {unit}, so the model's gain over "
                f"bicubic is {c_gain:+.1f} % near the coast and {o_gain:+.1f} % offshore."
            )
        worst = entry.get("worst_band")
        if worst:
            out.append(
                f"The worst {regions['band_axis']} band{name} is "
                f"{band_label(worst, regions['band_axis'])}: RMSE {format_value(worst['rmse'])} "
                f"{unit} (bicubic {format_value(worst['rmse_bicubic'])} {unit}) against "
                f"{format_value(entry['overall']['rmse'])} {unit} over all evaluated cells."
            )
        field = entry.get("worst_field")
        if field and regions["fields"] > 1:
            out.append(
                f"The worst test field{name} is `{field['label']}`: RMSE "
                f"{format_value(field['rmse'])} {unit} (bicubic "
                f"{format_value(field['rmse_bicubic'])} {unit})."
            )
    return [s.replace("  ", " ").replace(" )", ")").replace(" ;", ";") for s in out]


def _gain_pct(stats: Mapping[str, Any]) -> float:
    bicubic = stats.get("rmse_bicubic") or 0.0
    return 100.0 * (bicubic - stats["rmse"]) / bicubic if bicubic else 0.0


def _suggestions(
    history: RunHistory, trend: JsonDict, overfit: bool, baseline: JsonDict
) -> list[str]:
    cfg = history.config or {}
    out: list[str] = []
    total = history.total_epochs or history.epochs_done
    lr = finite((cfg.get("optim") or {}).get("lr"))
    if history.error_summary:
        failure = history.error_summary.get("failureType", "unknown")
        for suggestion in history.error_summary.get("suggestions") or []:
            out.append(f"Failure `{failure}`: {suggestion}.".replace("..", "."))
    if trend.get("verdict") == "still improving" and total:
        out.append(
            f"Validation RMSE was still falling at the end: train longer, e.g. "
            f"`trainer.max_epochs={max(2 * total, total + 10)}`."
        )
    if trend.get("verdict") == "worsening" and lr:
        out.append(f"Validation RMSE got worse at the end: try a lower `optim.lr={lr / 2:g}`.")
    if overfit:
        out.append(
            "Over-fitting: enable `early_stopping.enabled=true`, add training fields, or use a "
            "smaller model."
        )
    if baseline.get("beats") and not all(baseline["beats"].values()):
        if not cfg.get("residual_learning", True):
            out.append("The model does not beat bicubic: try `residual_learning=true`.")
        elif history.epochs_done < 20:
            out.append(
                f"The model does not beat bicubic after {_epochs(history.epochs_done)}: "
                "super-resolution networks usually need many more epochs "
                f"(e.g. `trainer.max_epochs={max(50, 2 * (total or 1))}`) to get past it."
            )
        else:
            out.append(
                "The model does not beat bicubic: check the learning rate and the loss "
                "(`loss.name=charbonnier`), or try a larger model (`model=edsr_baseline`)."
            )
    return out


def analyse(
    history: RunHistory, regions: JsonDict | None, fields_error: str | None = None
) -> list[tuple[str, str]]:
    """``(label, sentence)`` pairs written from the run's numbers (no placeholders)."""
    trend_text, trend = _trend(history)
    overfit_text, overfit = _overfitting(history)
    baseline_texts, baseline = _baseline(history)
    items = [("Trend", trend_text), ("Over-fitting", overfit_text)]
    items += [("Bicubic baseline", text) for text in baseline_texts]
    items += [("Where errors concentrate", text) for text in _where_errors(regions, fields_error)]
    items += [("Next step", text) for text in _suggestions(history, trend, overfit, baseline)]
    if history.state != "completed":
        verb = {"failed": "**failed**", "killed": "was **killed**"}.get(
            history.state, f"ended as **{history.state}**"
        )
        items.insert(
            0,
            (
                "Run state",
                f"The run {verb} after {_epochs(history.epochs_done)}; these numbers describe "
                "what it recorded before it stopped.",
            ),
        )
    return items


# --------------------------------------------------------------------------- markdown


def _cell(value: Any) -> str:
    text = str(value if value is not None else "n/a")
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
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
                rows.append([group, key, _code(_value_text(section[key]))])

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
        parts = [f"{k} {_split_text(split[k])}" for k in ("train", "valid", "test") if k in split]
        how = f"{split.get('dim')} by {split.get('by')}" if split.get("dim") else "given"
        rows.append(["data", "split", f"{how}: " + ", ".join(parts)])
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
        rows.append(["optim", "scheduler", _code(f"{name}" + (f" ({detail})" if detail else ""))])
    add("loss", cfg.get("loss"), ["name"])
    rows.append(["training", "residual_learning", _code(cfg.get("residual_learning"))])
    rows.append(["training", "seed", _code(cfg.get("seed"))])
    ckpt = cfg.get("checkpoint") or {}
    if ckpt:
        monitor = f"{ckpt.get('monitor')} ({ckpt.get('mode')})"
        rows.append(["training", "checkpoint monitor", _code(monitor)])
    for group in ("ema", "early_stopping"):
        section = cfg.get(group) or {}
        if section:
            state = "enabled" if section.get("enabled") else "disabled"
            rows.append(["training", group, state])
    return rows


def _section_summary(history: RunHistory, analysis: list[tuple[str, str]]) -> list[str]:
    lines = ["## Summary", ""]
    lines += [f"- **{label}**: {text}" for label, text in summary_lines(history)]
    verdicts = [text for label, text in analysis if label in ("Trend", "Bicubic baseline")]
    if verdicts:
        lines += ["", " ".join(verdicts)]
    return [*lines, ""]


def _section_config(history: RunHistory) -> list[str]:
    cfg = history.config or {}
    lines = ["## Configuration", ""]
    if not cfg:
        return [*lines, "config.yaml was not written (the run stopped before it).", ""]
    overrides = history.run_doc.get("overrides") or []
    if overrides:
        lines += ["Overrides: " + " ".join(_code(o) for o in overrides), ""]
    lines += _table(["group", "setting", "value"], _config_rows(cfg))
    full = history.paths.config_yaml.read_text(encoding="utf-8").rstrip("\n")
    lines += [
        "<details>",
        "<summary>Full resolved configuration (config.yaml)</summary>",
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
    lines = ["## Data", ""]
    if not derived:
        return [*lines, "No resolved data description (config.yaml has no `derived` block).", ""]
    variables = derived.get("variables") or []
    units = derived.get("units") or []
    rows = [
        ["source", derived.get("source")],
        ["variables", ", ".join(f"{v} [{u}]" for v, u in zip(variables, units, strict=False))],
        ["HR grid", "×".join(map(str, derived.get("hr_shape") or [])) + " cells"],
        ["LR grid", "×".join(map(str, derived.get("lr_shape") or [])) + " cells"],
        ["scale factor", derived.get("scale")],
    ]
    samples = derived.get("samples") or {}
    rows.append(["samples per split", ", ".join(f"{k}: {v}" for k, v in samples.items())])
    fraction = finite(derived.get("ocean_fraction"))
    if fraction is not None:
        rows.append(["ocean fraction (train HR cells)", f"{100 * fraction:.1f} %"])
    for i, var in enumerate(variables):
        unit = units[i] if i < len(units) else ""
        mean = (derived.get("mean") or [None] * len(variables))[i]
        std = (derived.get("std") or [None] * len(variables))[i]
        rng = (derived.get("data_range") or [None] * len(variables))[i]
        stats = f"mean {format_value(mean)} {unit}, std {format_value(std)} {unit}"
        rows.append([f"normalisation {var}", f"{stats} (ocean cells of the training split)"])
        rows.append([f"PSNR data range {var}", f"{format_value(rng)} {unit} (fixed, from train)"])
    for note in derived.get("notes") or []:
        rows.append(["note", note])
    return [*lines, *_table(["item", "value"], rows)]


def _timeline_detail(entry: Mapping[str, Any]) -> str:
    if entry["event"] == "epochs":
        epochs = [e for e in entry["epochs"] if e is not None]
        span = f"epochs {epochs[0]}–{epochs[-1]}" if len(epochs) > 1 else f"epoch {epochs[0]}"
        text = f"{span} finished" if epochs else "checkpoints"
        end = entry.get("end_t_s")
        if end is not None:
            text += f" (until t = {end:.1f} s)"
        return text + f", {entry['checkpoints']} checkpoint(s) saved"
    detail = entry.get("detail") or {}
    return ", ".join(f"{k}={_value_text(v)}" for k, v in detail.items())


def _section_timeline(history: RunHistory) -> list[str]:
    status = history.status_doc
    attempts = history.attempts
    rows = [
        ["created", _when(status.get("created_at"))],
        ["started", _when(status.get("started_at"))],
        ["ended", _when(status.get("ended_at"))],
        ["duration (start to end)", format_duration(history.wall_duration_s)],
        ["fit duration", format_duration(history.fit_duration_s)],
        ["final state", f"{history.state} (exit code {status.get('exit_code')})"],
    ]
    resumes = sum(1 for e in history.events if e.get("event") == "resumed")
    total = max(len(attempts), 1 + resumes)
    rows.append(["attempts", f"{total}" + (f" ({resumes} resume(s))" if resumes else "")])
    for attempt in attempts:
        detail = f"started {_when(attempt.get('started_at'))}"
        for key in ("backend", "ckpt_path", "resumed_from", "pid"):
            if attempt.get(key) is not None:
                detail += f", {key}={attempt[key]}"
        rows.append([f"attempt {attempt.get('attempt')}", detail])
    lines = ["## Timeline", "", *_table(["item", "value"], rows)]
    events = [
        [
            f"{e['t_s']:.1f}" if e.get("t_s") is not None else "",
            _when(e.get("ts")),
            e["event"],
            _timeline_detail(e),
        ]
        for e in history.timeline
    ]
    if events:
        lines += ["Events (from events.jsonl):", ""]
        lines += _table(["t [s]", "time", "event", "details"], events)
    summary = history.error_summary
    if summary:
        lines += ["### Error", ""]
        lines += [
            f"- **failure type**: {summary.get('failureType')}",
            f"- **message**: {summary.get('message')}",
        ]
        lines += [f"- **suggestion**: {s}" for s in summary.get("suggestions") or []]
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
    "errors_by_region": "RMSE of model and bicubic against distance to land (HR cells) and per "
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
    lines = ["## Curves", ""]
    for name in ("loss", "metrics", "lr", "metric_bars"):
        lines += [f"### {_TITLES[name]}", ""]
        if name in by_name:
            lines += [_CAPTIONS[name], "", _image(history, by_name[name], _TITLES[name]), ""]
        else:
            lines += [f"Not drawn: {skipped.get(name, 'no data')}.", ""]
    lines += ["## Sample maps", ""]
    maps = [p for name, p in by_name.items() if name.startswith("maps_")]
    if not maps:
        lines += [f"Not drawn: {skipped.get('sample_maps', 'no test fields')}.", ""]
    for plot in maps:
        rows = plot.get("rows") or []
        labels = ", ".join(f"`{r['label']}`" for r in rows)
        lines += [
            f"### {plot['variable']}",
            "",
            f"Test fields {labels}: {', '.join(plot['panels'])} "
            f"(checkpoint {Path(plot['checkpoint']).name}; cmocean {plot['colour_map']}; land "
            "grey; colour limits from the 2nd–98th percentiles of the ocean cells, errors "
            "symmetric).",
            "",
            _image(history, plot, f"Sample maps {plot['variable']}"),
            "",
        ]
    if "errors_by_region" in by_name:
        lines += [
            f"### {_TITLES['errors_by_region']}",
            "",
            _CAPTIONS["errors_by_region"],
            "",
            _image(history, by_name["errors_by_region"], _TITLES["errors_by_region"]),
            "",
        ]
    return lines


def _metric_label(metric: str, unit: str) -> str:
    label = METRIC_LABELS[metric]
    if metric in UNIT_METRICS and unit:
        return f"{label} [{unit}]"
    return f"{label} [dB]" if metric == "psnr" else label


def _section_metrics(history: RunHistory) -> list[str]:
    lines = ["## Final metrics", ""]
    if not (history.final_val or history.test):
        return [*lines, "No validation or test metrics were recorded.", ""]
    lines += [
        "Validation: the last finished epoch; test: the best checkpoint on the test split. "
        "Gain over bicubic: error reduction in % for RMSE/MAE, |bias| reduction in the "
        "variable's unit, dB for PSNR, difference for SSIM; positive means the model is better.",
        "",
    ]
    rows = []
    for var in list(history.variables) or [None]:
        unit = history.unit(var) if var else ""
        for metric in METRICS:
            row = [var or "all", _metric_label(metric, unit)]
            for stage, metrics in (("val", history.final_val), ("test", history.test)):
                row += [
                    format_value(metric_value(metrics, stage, metric, var)),
                    format_value(metric_value(metrics, stage, metric, var, "bicubic")),
                    format_gain(metric_value(metrics, stage, metric, var, "gain"), metric, unit),
                ]
            rows.append(row)
    header = ["variable", "metric", "val", "val bicubic", "val gain"]
    header += ["test", "test bicubic", "test gain"]
    lines += _table(header, rows)
    lower = ["|bias|" if m == "bias" else METRIC_LABELS[m] for m in METRICS]
    lower = [label for label, m in zip(lower, METRICS, strict=True) if m not in HIGHER_IS_BETTER]
    higher = [METRIC_LABELS[m] for m in METRICS if m in HIGHER_IS_BETTER]
    lines += [f"Better is lower {', '.join(lower)}; higher {', '.join(higher)}.", ""]
    return lines


def _section_checkpoints(history: RunHistory) -> list[str]:
    rows = []
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
    lines = ["## Checkpoints", ""]
    lines += _table(["checkpoint", "path", "size", "epoch", "step", "saved"], rows)
    lines += [f"Run directory: {_code(history.run_dir)}", ""]
    return lines


def _section_compute(history: RunHistory) -> list[str]:
    start = history.training_start or {}
    elapsed = [finite(r.get("elapsed_s")) for r in history.epochs]
    elapsed = [e for e in elapsed if e is not None]
    per_epoch = None
    if len(elapsed) >= 2:
        per_epoch = (elapsed[-1] - elapsed[0]) / (len(elapsed) - 1)
    elif elapsed:
        per_epoch = elapsed[0]
    rate = history.samples_per_s
    memory = history.peak_memory()
    rows = [
        ["fit duration", format_duration(history.fit_duration_s)],
        ["wall duration (start to end)", format_duration(history.wall_duration_s)],
        ["time per epoch (train + val)", format_duration(per_epoch)],
        ["epochs / optimiser steps", f"{history.epochs_done} / {history.steps}"],
        ["training samples seen", history.samples_seen if history.samples_seen else "n/a"],
        ["throughput", f"{rate:.1f} samples/s" if rate else "not recorded"],
        ["device", f"{start.get('device', 'n/a')} ({start.get('accelerator', 'n/a')})"],
        ["precision", start.get("precision", "n/a")],
        ["processes (world size)", start.get("world_size", "n/a")],
        ["parameters", format_count(history.params)],
        [
            "peak memory",
            ", ".join(f"{k} = {_value_text(v)}" for k, v in memory.items())
            if memory
            else "not recorded",
        ],
    ]
    return ["## Compute cost", "", *_table(["item", "value"], rows)]


def _section_analysis(analysis: list[tuple[str, str]]) -> list[str]:
    lines = ["## Analysis", ""]
    lines += [f"- **{label}.** {text}" for label, text in analysis]
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
        f"# Run report: {history.run_id}",
        "",
        f"> {history.model_name or 'model'} · {history.state} · generated {_when(now_iso())} "
        "by `oceansr.report` from events.jsonl, metrics.csv, status.json and config.yaml.",
        "",
        "![Training summary](plots/summary.png)"
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
    lines += ["## Notes", "", NOTES_MARKER, ""]
    if notes.strip():
        lines += [notes.strip("\n"), ""]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text)


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733;
       margin: 0; background: #f5f7fa; line-height: 1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.7em; border-bottom: 3px solid #1f5fa8; padding-bottom: 6px; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #d5dde6; padding-bottom: 4px; }
h3 { font-size: 1.08em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #d5dde6; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
tr:nth-child(even) td { background: #fafbfc; }
code { background: #eef1f4; padding: 1px 4px; border-radius: 3px; font-size: 0.92em; }
pre { background: #f3f5f7; padding: 10px 14px; overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
img { max-width: 100%; height: auto; border: 1px solid #e3e8ee; }
figure { margin: 8px 0 18px; }
figcaption { font-size: 0.85em; color: #5a6877; }
blockquote { margin: 0; padding: 4px 14px; border-left: 4px solid #1f5fa8; color: #44515f;
             background: #f5f8fb; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: #1f5fa8; }
"""

_RAW_HTML = re.compile(r"^\s*(<!--.*-->|</?(details|summary|div|p|br|hr|span)\b.*)$", re.I)
_IMAGE_LINE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)$")
_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*$")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d+[.)])\s+(?P<text>.*)$")


_MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


def _data_uri(path: Path) -> str | None:
    suffix = path.suffix.lower().lstrip(".")
    mime = _MIME_TYPES.get(suffix)
    if mime is None or not path.is_file():
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _is_external(url: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("//"))


def _inline(text: str, base_dir: Path) -> str:
    """Inline Markdown → HTML: code spans, images, links (local text only), bold, italics."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        escaped = html.escape(part, quote=False)
        escaped = re.sub(
            r"!\[([^\]]*)\]\(([^)\s]+)\)",
            lambda m: _img_tag(m.group(1), m.group(2), base_dir),
            escaped,
        )
        escaped = re.sub(
            r"\[([^\]]+)\]\(([^)\s]+)\)",
            lambda m: (
                m.group(1)
                if _is_external(m.group(2))
                else f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>'
            ),
            escaped,
        )
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        escaped = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped)
        out.append(escaped)
    return "".join(out)


def _img_tag(alt: str, src: str, base_dir: Path) -> str:
    if _is_external(src):
        return f"<em>[image not embedded: {alt}]</em>"
    uri = _data_uri((base_dir / src).resolve())
    if uri is None:
        return f"<em>[missing image: {alt}]</em>"
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def markdown_to_html(text: str, *, base_dir: Path, title: str) -> str:
    """A complete HTML page from the Markdown subset written by :func:`render_markdown`
    (and whatever simple Markdown users put in their notes); local images embedded."""
    lines = text.split("\n")
    body: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            body.append("<p>" + " ".join(_inline(p, base_dir) for p in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            lang = stripped[3:].strip()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            cls = f' class="language-{html.escape(lang)}"' if lang else ""
            body.append(f"<pre><code{cls}>{html.escape(chr(10).join(block))}</code></pre>")
            i += 1
            continue
        if not stripped:
            flush()
            i += 1
            continue
        if _RAW_HTML.match(line):
            flush()
            body.append(stripped)
            i += 1
            continue
        if heading := _HEADING.match(line):
            flush()
            level = len(heading["level"])
            content = heading["text"]
            anchor = re.sub(r"[^a-z0-9]+", "-", content.lower()).strip("-")
            body.append(f'<h{level} id="{anchor}">{_inline(content, base_dir)}</h{level}>')
            i += 1
            continue
        if image := _IMAGE_LINE.match(stripped):
            flush()
            tag = _img_tag(image["alt"], image["src"], base_dir)
            caption = html.escape(image["alt"])
            body.append(f"<figure>{tag}<figcaption>{caption}</figcaption></figure>")
            i += 1
            continue
        if stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_split_row(lines[i]))
                i += 1
            body.append(_html_table(rows, base_dir))
            continue
        if stripped.startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip()[1:].strip())
                i += 1
            body.append(f"<blockquote>{_inline(' '.join(quote), base_dir)}</blockquote>")
            continue
        if stripped in ("---", "***"):
            flush()
            body.append("<hr>")
            i += 1
            continue
        if item := _LIST_ITEM.match(line):
            flush()
            ordered = item["marker"][0].isdigit()
            items = []
            while i < len(lines) and (match := _LIST_ITEM.match(lines[i])):
                text_parts = [match["text"]]
                i += 1
                while (
                    i < len(lines)
                    and lines[i].startswith(("  ", "\t"))
                    and lines[i].strip()
                    and not _LIST_ITEM.match(lines[i])
                ):
                    text_parts.append(lines[i].strip())
                    i += 1
                items.append(f"<li>{_inline(' '.join(text_parts), base_dir)}</li>")
            tag = "ol" if ordered else "ul"
            body.append(f"<{tag}>" + "".join(items) + f"</{tag}>")
            continue
        paragraph.append(stripped)
        i += 1
    flush()
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _html_table(rows: list[list[str]], base_dir: Path) -> str:
    if len(rows) >= 2 and all(re.fullmatch(r":?-{3,}:?", c) for c in rows[1] if c):
        header, data = rows[0], rows[2:]
    else:
        header, data = [], rows
    out = ["<table>"]
    if header:
        out.append("<thead><tr>" + "".join(f"<th>{_inline(c, base_dir)}</th>" for c in header))
        out.append("</tr></thead>")
    out.append("<tbody>")
    for row in data:
        out.append("<tr>" + "".join(f"<td>{_inline(c, base_dir)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


__all__ = ["NOTES_MARKER", "analyse", "make_report", "markdown_to_html", "read_notes"]
