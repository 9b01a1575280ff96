"""The report's analysis, written from the numbers: val-RMSE trend, over-fitting signs,
gain over bicubic, where errors concentrate (coast vs open ocean, latitude bands) and
what to try next.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oceansr.report.formatting import (
    format_gain,
    format_value,
)
from oceansr.report.history import (
    METRIC_LABELS,
    METRICS,
    RunHistory,
    finite,
    metric_value,
)
from oceansr.report.plots import (
    band_label,
)

JsonDict = dict[str, Any]


#: Relative change (in %) of a quantity over the trend window below which it "plateaued".
TREND_TOLERANCE_PCT = 1.0


#: Number of final epochs the trend and over-fitting checks look at.
TREND_WINDOW = 5


#: Epochs (with train loss and val RMSE) needed before over-fitting is called.
MIN_OVERFIT_EPOCHS = 3


#: Coastal/open RMSE ratio beyond which errors are said to concentrate on one side.
CONCENTRATION_RATIO = 1.1


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
    beats_by_var: dict[str, bool] = {}
    sentences: list[str] = []
    facts: JsonDict = {"stage": stage, "beats": beats_by_var}
    for var in variables:
        model = metric_value(metrics, stage, "rmse", var)
        bicubic = metric_value(metrics, stage, "rmse", var, "bicubic")
        if model is None or bicubic is None:
            continue
        unit = history.unit(var) if var else ""
        gain = metric_value(metrics, stage, "rmse", var, "gain")
        beats = model < bicubic
        beats_by_var[var or "all"] = beats
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
