"""The report's analysis, written from the numbers: val-RMSE trend, over-fitting signs,
gain over bicubic, where errors concentrate (coast vs open ocean, latitude bands) and
what to try next.

Every sentence is a template of :data:`oceansr.i18n.report_zh.ANALYSIS` filled in
through :func:`oceansr.i18n.tr`, so ``lang=zh`` writes the analysis in Chinese with the
same numbers; the English templates are the keys, so the English report is unchanged.
Verdict codes in the returned facts stay English (the suggestions branch on them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oceansr.core.metric_names import gain_kind, strongest_baseline
from oceansr.i18n import suggestion, tr, writing_lang
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
from oceansr.report.regions import distance_text
from oceansr.report.verdict import baseline_label, verdict_sentences

JsonDict = dict[str, Any]


#: Relative change (in %) of a quantity over the trend window below which it "plateaued".
TREND_TOLERANCE_PCT = 1.0


#: Number of final epochs the trend and over-fitting checks look at.
TREND_WINDOW = 5


#: Epochs (with train loss and val RMSE) needed before over-fitting is called.
MIN_OVERFIT_EPOCHS = 3


#: Coastal/open-ocean RMSE ratio of the model beyond which errors are said to concentrate
#: on one side (and its inverse for the open ocean): a quarter more, not noise.
CONCENTRATION_RATIO = 1.25


def _epochs(count: int) -> str:
    return tr("{count} finished epoch" if count == 1 else "{count} finished epochs", count=count)


def _clean(sentence: str) -> str:
    """Drop the doubled spaces an empty unit leaves (``5.2  (`` → ``5.2 (``)."""
    return sentence.replace("  ", " ").replace(" )", ")").replace(" ;", ";").replace(" ）", "）")


def _signed(value: float) -> str:
    return f"{value:+.1f}"


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
        return tr("No validation epoch finished, so there is no trend to read."), {"verdict": None}
    if len(xs) < 2:
        only = tr(
            "Only one validation epoch was recorded (val RMSE {value} {unit}), so no trend "
            "can be read yet.",
            value=format_value(ys[0]),
            unit=unit,
        )
        return _clean(only), {"verdict": None}
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
        best_note = tr(
            " The best epoch was {best} ({gap} before the last one).",
            best=history.best_epoch,
            gap=xs[-1] - history.best_epoch,
        )
    elif history.best_epoch == xs[-1]:
        best_note = tr(" The last epoch is also the best one.")
    what = tr("Validation RMSE")
    if len(history.variables) > 1:
        what += tr(" (val/rmse, the mean over {count} variables)", count=len(history.variables))
    sentence = (
        _clean(
            tr(
                "{what} is **{verdict}** over the last {window} epochs ({start}–{end}): {first} → "
                "{last} {unit} ({change} %).",
                what=what,
                verdict=tr(verdict),
                window=window,
                start=xs[-window],
                end=xs[-1],
                first=format_value(first),
                last=format_value(last),
                unit=unit,
                change=_signed(change),
            )
        )
        + best_note
    )
    return sentence, {"verdict": verdict, "window": window, "change_pct": change}


def _overfitting(history: RunHistory) -> tuple[str, bool]:
    tx, ty = history.series(history.train_loss_key)
    vx, vy = history.series("val/rmse")
    common = sorted(set(tx) & set(vx))
    if len(common) < 2:
        return (
            tr("Too few epochs with both training loss and validation RMSE to judge over-fitting."),
            False,
        )
    common = common[-TREND_WINDOW:]
    train = dict(zip(tx, ty, strict=True))
    val = dict(zip(vx, vy, strict=True))
    t_change = _pct_change(train[common[0]], train[common[-1]])
    v_change = _pct_change(val[common[0]], val[common[-1]])
    span = tr("epochs {first}–{last}", first=common[0], last=common[-1])
    if len(common) < MIN_OVERFIT_EPOCHS:
        return (
            tr(
                "Only {count} epochs, too few to judge over-fitting: over {span} the training "
                "loss changed {train} % and validation RMSE {val} %.",
                count=len(common),
                span=span,
                train=_signed(t_change),
                val=_signed(v_change),
            ),
            False,
        )
    if t_change < -TREND_TOLERANCE_PCT and v_change > TREND_TOLERANCE_PCT:
        return (
            tr(
                "**Signs of over-fitting**: the training loss fell {train} % while validation "
                "RMSE rose {val} % over {span}.",
                train=f"{abs(t_change):.1f}",
                val=f"{v_change:.1f}",
                span=span,
            ),
            True,
        )
    if v_change > TREND_TOLERANCE_PCT:
        return (
            tr(
                "No over-fitting signature, but validation RMSE rose {val} % over {span} while "
                "the training loss changed {train} %: training is unstable or noisy rather "
                "than over-fitted.",
                val=f"{v_change:.1f}",
                span=span,
                train=_signed(t_change),
            ),
            False,
        )
    return (
        tr(
            "No sign of over-fitting: over {span} the training loss changed {train} % and "
            "validation RMSE {val} %.",
            span=span,
            train=_signed(t_change),
            val=_signed(v_change),
        ),
        False,
    )


def _baseline(history: RunHistory) -> tuple[list[str], JsonDict]:
    """Sentences on the gain over the stronger baseline (test set, else validation), per
    variable, then the test verdict with its interval and the groups where the model loses.

    Per variable the sentence compares numbers only; "beats" is the verdict's word, said
    when the interval excludes zero (:mod:`oceansr.report.verdict`).
    """
    stage, metrics = ("test", history.test) if history.test else ("val", history.final_val)
    where = tr("On the test set" if stage == "test" else "On the validation set (no test metrics)")
    base = strongest_baseline(metrics, stage)
    kind = gain_kind(base)
    variables: list[str | None] = list(history.variables) or [None]
    beats_by_var: dict[str, bool] = {}
    sentences: list[str] = []
    facts: JsonDict = {"stage": stage, "beats": beats_by_var, "baseline": base}
    sep = "、" if writing_lang() == "zh" else ", "
    for var in variables:
        model = metric_value(metrics, stage, "rmse", var)
        reference = metric_value(metrics, stage, "rmse", var, base)
        if model is None or reference is None:
            continue
        beats_by_var[var or "all"] = model < reference
        better = [
            tr(METRIC_LABELS[m])
            for m in METRICS
            if (g := metric_value(metrics, stage, m, var, kind)) is not None and g > 0
        ]
        counted = [m for m in METRICS if metric_value(metrics, stage, m, var, kind) is not None]
        sentences.append(
            tr(
                "{where}{name} the model's RMSE is {model} {unit} against {baseline}'s "
                "{reference} (bicubic {bicubic}, cubic spline {spline}; gain {gain}); it is "
                "better than {baseline} on {better} of {counted} metrics{listed}.",
                where=where,
                name=tr(" for {var}", var=var) if var and len(variables) > 1 else "",
                model=format_value(model),
                unit=history.unit(var) if var else "",
                baseline=baseline_label(base),
                reference=format_value(reference),
                bicubic=format_value(metric_value(metrics, stage, "rmse", var, "bicubic")),
                spline=format_value(metric_value(metrics, stage, "rmse", var, "spline")),
                gain=format_gain(metric_value(metrics, stage, "rmse", var, kind), "rmse"),
                better=len(better),
                counted=len(counted),
                listed=tr(" ({names})", names=sep.join(better)) if better else "",
            )
        )
    if not sentences:
        sentences.append(
            tr(
                "No validation or test metrics were recorded, so the gain over the baselines "
                "is unknown."
            )
        )
    if stage == "test":
        sentences += verdict_sentences(history)
    return sentences, facts


def _split_sentence(intro: str, name: str, regions: Mapping[str, Any], entry: JsonDict) -> str:
    """Coastal band against open ocean for one variable. Errors are said to concentrate
    near the coast only when the model's coastal RMSE is above :data:`CONCENTRATION_RATIO`
    times its open-ocean RMSE; otherwise the sentence says what the numbers show."""
    unit = entry["units"]
    coastal, open_ = entry["coastal"], entry["open"]
    dist_unit = regions["distance_unit"]
    coast = distance_text(regions["coastal_band"]["high"] or math.inf, dist_unit)
    offshore = distance_text(regions["open_from"], dist_unit)
    if not coastal["cells"] or not open_["cells"]:
        where = (
            tr("no land on the grid")
            if not coastal["cells"]
            else tr("no ocean farther than {offshore} from land", offshore=offshore)
        )
        return tr(
            "{intro}{name}, the coast/open-ocean split is undefined ({where}); overall RMSE "
            "{rmse} {unit}.",
            intro=intro,
            name=name,
            where=where,
            rmse=format_value(entry["overall"]["rmse"]),
            unit=unit,
        )
    ratio = coastal["rmse"] / open_["rmse"] if open_["rmse"] else float("inf")
    if ratio > CONCENTRATION_RATIO:
        verdict = "errors **concentrate near the coast**"
    elif ratio < 1 / CONCENTRATION_RATIO:
        verdict = "errors are **larger in the open ocean** than near the coast"
    else:
        verdict = "coastal and open-ocean errors are **alike**"
    return tr(
        "{intro}{name}, {verdict}: the model's RMSE within {coast} of land is {coastal} "
        "{unit} against {open} {unit} farther than {offshore} (×{ratio}; errors are said to "
        "concentrate only beyond ×{factor}); bicubic has {coastal_bic} and {open_bic} "
        "{unit}, so the model's gain over bicubic is {coastal_gain} % near the coast and "
        "{open_gain} % offshore.",
        intro=intro,
        name=name,
        verdict=tr(verdict),
        coast=coast,
        coastal=format_value(coastal["rmse"]),
        open=format_value(open_["rmse"]),
        offshore=offshore,
        unit=unit,
        ratio=f"{ratio:.2f}",
        factor=f"{CONCENTRATION_RATIO:g}",
        coastal_bic=format_value(coastal["rmse_bicubic"]),
        open_bic=format_value(open_["rmse_bicubic"]),
        coastal_gain=_signed(_gain_pct(coastal)),
        open_gain=_signed(_gain_pct(open_)),
    )


def _where_errors(regions: JsonDict | None, fields_error: str | None) -> list[str]:
    if regions is None:
        return [tr("The spatial error analysis was not made: {reason}.", reason=fields_error)]
    intro = tr(
        "On {fields} of {total} test fields run through {ckpt}",
        fields=regions["fields"],
        total=regions["total_fields"],
        ckpt=Path(regions["checkpoint"]).name,
    )
    out = []
    for var, entry in regions["variables"].items():
        unit = entry["units"]
        name = tr(" ({var})", var=var) if len(regions["variables"]) > 1 else ""
        out.append(_split_sentence(intro, name, regions, entry))
        worst = entry.get("worst_band")
        if worst:
            out.append(
                tr(
                    "The worst {axis} band{name} is {band}: RMSE {rmse} {unit} (bicubic "
                    "{bicubic} {unit}) against {overall} {unit} over all evaluated cells.",
                    axis=tr(regions["band_axis"]),
                    name=name,
                    band=band_label(worst, regions["band_axis"]),
                    rmse=format_value(worst["rmse"]),
                    unit=unit,
                    bicubic=format_value(worst["rmse_bicubic"]),
                    overall=format_value(entry["overall"]["rmse"]),
                )
            )
        field = entry.get("worst_field")
        if field and regions["fields"] > 1:
            out.append(
                tr(
                    "The worst test field{name} is `{label}`: RMSE {rmse} {unit} (bicubic "
                    "{bicubic} {unit}).",
                    name=name,
                    label=field["label"],
                    rmse=format_value(field["rmse"]),
                    unit=unit,
                    bicubic=format_value(field["rmse_bicubic"]),
                )
            )
    return [_clean(sentence) for sentence in out]


def _gain_pct(stats: Mapping[str, Any]) -> float:
    bicubic = stats.get("rmse_bicubic") or 0.0
    return 100.0 * (bicubic - stats["rmse"]) / bicubic if bicubic else 0.0


def _beat_baseline_advice(history: RunHistory, total: int | None, base: str) -> str:
    """What to try when the model's RMSE is not below the stronger baseline's."""
    cfg = history.config or {}
    baseline = baseline_label(base)
    if not cfg.get("residual_learning", True):
        return tr(
            "The model does not beat {baseline}: try `residual_learning=true`.", baseline=baseline
        )
    if history.epochs_done < 20:
        return tr(
            "The model does not beat {baseline} after {epochs}: super-resolution networks "
            "usually need many more epochs (e.g. `trainer.max_epochs={max_epochs}`) to get "
            "past it.",
            baseline=baseline,
            epochs=_epochs(history.epochs_done),
            max_epochs=max(50, 2 * (total or 1)),
        )
    return tr(
        "The model does not beat {baseline}: check the learning rate and the loss "
        "(`loss.name=charbonnier`), or try a larger model (`model=edsr_baseline`).",
        baseline=baseline,
    )


def _suggestions(
    history: RunHistory, trend: JsonDict, overfit: bool, baseline: JsonDict
) -> list[str]:
    cfg = history.config or {}
    out: list[str] = []
    total = history.total_epochs or history.epochs_done
    lr = finite((cfg.get("optim") or {}).get("lr"))
    if history.error_summary:
        failure = history.error_summary.get("failureType", "unknown")
        summary = history.error_summary
        for advice in [*(summary.get("suggestions") or []), *(summary.get("advice") or [])]:
            said = suggestion(str(advice), writing_lang())
            line = tr("Failure `{failure}`: {suggestion}.", failure=failure, suggestion=said)
            out.append(line.replace("..", ".").replace("。。", "。"))
    if trend.get("verdict") == "still improving" and total:
        out.append(
            tr(
                "Validation RMSE was still falling at the end: train longer, e.g. "
                "`trainer.max_epochs={epochs}`.",
                epochs=max(2 * total, total + 10),
            )
        )
    if trend.get("verdict") == "worsening" and lr:
        out.append(
            tr(
                "Validation RMSE got worse at the end: try a lower `optim.lr={lr}`.",
                lr=f"{lr / 2:g}",
            )
        )
    if overfit:
        out.append(
            tr(
                "Over-fitting: enable `early_stopping.enabled=true`, add training fields, or "
                "use a smaller model."
            )
        )
    if baseline.get("beats") and not all(baseline["beats"].values()):
        out.append(_beat_baseline_advice(history, total, str(baseline.get("baseline"))))
    return out


def analyse(
    history: RunHistory, regions: JsonDict | None, fields_error: str | None = None
) -> list[tuple[str, str]]:
    """``(label, sentence)`` pairs written from the run's numbers (no placeholders), in
    the language being written (labels stay English keys: the caller translates them)."""
    trend_text, trend = _trend(history)
    overfit_text, overfit = _overfitting(history)
    baseline_texts, baseline = _baseline(history)
    items = [("Trend", trend_text), ("Over-fitting", overfit_text)]
    items += [("Baselines", text) for text in baseline_texts]
    items += [("Where errors concentrate", text) for text in _where_errors(regions, fields_error)]
    items += [("Next step", text) for text in _suggestions(history, trend, overfit, baseline)]
    if history.state != "completed":
        if history.state in ("failed", "killed"):
            verb = tr({"failed": "**failed**", "killed": "was **killed**"}[history.state])
        else:
            verb = tr("ended as **{state}**", state=history.state)
        said = tr(
            "The run {verb} after {epochs}; these numbers describe what it recorded before it "
            "stopped.",
            verb=verb,
            epochs=_epochs(history.epochs_done),
        )
        items.insert(0, ("Run state", said))
    return items
