"""Does the predict input look like LR made by the checkpoint's operator?

The checkpoint records its training data's LR operator (``degradation`` hparam,
:mod:`oceansr.data.degrade`). With an ``hr_mask`` the first input field's land is
compared with what each operator makes of that mask (:func:`~oceansr.data.degrade.
operator_check`); an input that fits another operator better is warned about, since a
model trained on, say, NaN-aware block means sees a different coast in a strict block
mean (issue 20: 0.815x -> 0.974x bicubic on Levitus' own LR). Without a mask the facts
say it was not checked. The facts go into ``predict_start`` and the summary.
"""

from __future__ import annotations

from typing import Any

from oceansr.data.degrade import operator_check
from oceansr.i18n import text


def check_input_operator(job: Any) -> dict[str, Any]:
    """The operator facts of ``job`` (a :class:`~oceansr.predict.core.PredictJob` whose
    fields and mask are read): one LR field is read when there is a mask."""
    recorded = job.module.hparams.get("degradation")
    if job.ocean is None:
        return operator_check(recorded, None, None, job.scale)
    first = job.lr.data[0:1][0]
    return operator_check(recorded, first, job.ocean[0], job.scale)


def operator_warnings(facts: dict[str, Any]) -> list[str]:
    """A warning when the input fits another operator strictly better than the recorded
    one (English, ``warn.degradation``; the MCP server says it in its language)."""
    if not facts.get("checked") or facts["operator"] in facts["matches"]:
        return []
    counts, operator, matches = facts["mismatches"], facts["operator"], facts["matches"][0]
    return [
        text(
            "warn.degradation",
            "en",
            matches=matches,
            operator=operator,
            mismatched=str(counts[operator]),
            matched=str(counts[matches]),
        )
    ]
