"""The report's claim about the model, and the breakdown that keeps it honest.

The headline is the RMSE gain over the *stronger* classical baseline (bicubic or cubic
B-spline, whichever has the lower pooled test RMSE), with the block-bootstrap 95 %
interval the trainer recorded (status.json ``test_breakdown``, computed by
:mod:`oceansr.engine.breakdown`). The word "beats" is written only when that interval
excludes zero; every depth level or month where the model's RMSE exceeds the baseline's is
named, and the breakdown table shows all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oceansr.i18n import tr, writing_lang
from oceansr.report.formatting import format_gain, format_value, sample_label_text
from oceansr.report.history import JsonDict, RunHistory

#: Groups named in a sentence before "and N more".
NAMED_GROUPS = 6

_VERDICTS = {
    "beats": "the model **beats {baseline}**",
    "loses": "the model is **worse than {baseline}**",
    "undecided": "the gain is **not distinguishable from zero**",
}


def baseline_label(name: str) -> str:
    """``bicubic`` / ``cubic spline`` as the report writes it."""
    return tr("cubic spline" if name == "spline" else "bicubic")


def dimension_word(dim: str) -> str:
    """A sample dimension's name as the report writes it (``深度`` for depth in Chinese)."""
    return sample_label_text(f"{dim}=").removesuffix("=")


def _group_name(entry: str) -> str:
    """``depth=4000.0`` → ``depth 4000 m`` (``深度 4000 m`` in Chinese); ``month=11``."""
    dim, _, value = entry.partition("=")
    try:
        number = float(value)
    except ValueError:
        return sample_label_text(entry)
    shown = f"{dim} {number:g} m" if dim.startswith("depth") else f"{dim}={number:g}"
    return sample_label_text(shown)


def _named(groups: list[str]) -> str:
    sep = "、" if writing_lang() == "zh" else ", "
    shown = sep.join(_group_name(g) for g in groups[:NAMED_GROUPS])
    if len(groups) > NAMED_GROUPS:
        shown += tr(" and {count} more", count=len(groups) - NAMED_GROUPS)
    return shown


def seam_sentence(history: RunHistory) -> list[str]:
    """On a grid around the globe: RMSE next to the longitude seam against the interior."""
    ratio = history.test.get("test/seam_ratio")
    if not isinstance(ratio, int | float):
        return []
    return [
        tr(
            "The grid spans the globe, so longitude wraps around the seam: the test RMSE on "
            "the columns next to it is {ratio}x the interior's (bicubic {bicubic}x, cubic "
            "spline {spline}x).",
            ratio=format_value(ratio, 3),
            bicubic=format_value(history.test.get("test/seam_ratio_bicubic"), 3),
            spline=format_value(history.test.get("test/seam_ratio_spline"), 3),
        )
    ]


def verdict_sentences(history: RunHistory) -> list[str]:
    """The headline claim with its interval, where the model loses, and the seam (test)."""
    found = history.test_breakdown
    if not found or found.get("rmse_gain") is None:
        return seam_sentence(history)
    baseline = baseline_label(str(found.get("baseline")))
    ci = found.get("ci95")
    if ci:
        interval = tr(
            "95 % interval {lo} to {hi}, block bootstrap over {blocks} blocks of {by}",
            lo=format_gain(ci[0], "rmse"),
            hi=format_gain(ci[1], "rmse"),
            blocks=found.get("blocks"),
            by=dimension_word(str(found.get("blocks_by"))),
        )
    else:
        interval = tr("no interval: the test fields form fewer than two independent blocks")
    verdict = str(found.get("verdict") or "undecided")
    out = [
        tr(
            "Against the stronger baseline ({baseline}) the test RMSE gain is {gain} ({interval}):"
            " {verdict}.",
            baseline=baseline,
            gain=format_gain(found["rmse_gain"], "rmse"),
            interval=interval,
            verdict=tr(_VERDICTS.get(verdict, _VERDICTS["undecided"]), baseline=baseline),
        )
    ]
    losing = [str(g) for g in found.get("losing") or []]
    if losing:
        out.append(
            tr(
                "The model's RMSE is higher than {baseline}'s at {groups}.",
                baseline=baseline,
                groups=_named(losing),
            )
        )
    return [*out, *seam_sentence(history)]


def section_breakdown(history: RunHistory) -> list[str]:
    """Markdown tables of test RMSE per group (depth level, month), worse rows marked."""
    found = history.test_breakdown
    groups: Mapping[str, Any] = (found or {}).get("groups") or {}
    if not groups:
        return []
    base = str((found or {}).get("baseline") or "bicubic")
    lines = [
        f"### {tr('Test RMSE per group')}",
        "",
        tr(
            "Every level and month of the test split on its own (RMSE pooled over its ocean "
            "cells, mean over variables); **worse** marks a group where the model's RMSE "
            "exceeds {baseline}'s.",
            baseline=baseline_label(base),
        ),
        "",
    ]
    for dim, rows in groups.items():
        lines += _group_table(str(dim), rows, base)
    return lines


def _group_table(dim: str, rows: list[JsonDict], base: str) -> list[str]:
    header = [dimension_word(dim), tr("fields"), "RMSE", tr("bicubic"), tr("cubic spline")]
    header.append(tr("gain over {baseline}", baseline=baseline_label(base)))
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        model, reference = row.get("rmse"), row.get(f"rmse_{base}")
        worse = model is not None and reference is not None and model > reference
        cells = [
            str(row.get("value")).replace("|", "\\|"),
            str(row.get("fields")),
            format_value(model) + (f" **{tr('worse')}**" if worse else ""),
            format_value(row.get("rmse_bicubic")),
            format_value(row.get("rmse_spline")),
            format_gain(row.get("rmse_gain"), "rmse"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return [*out, ""]
