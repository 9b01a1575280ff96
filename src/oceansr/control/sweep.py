"""Sweeps (``oceansr start -m``): one run per combination of swept override values,
with Hydra's basic-sweeper semantics, every combination validated before any starts."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from .args import PathLike, normalise_overrides
from .backend_choice import select_backend
from .launch import (
    DEFAULT_STARTUP_TIMEOUT_S,
    check_start_args,
    start_checked,
    validate_config,
)
from .replies import RequestError, replies

JsonDict = dict[str, Any]

#: Start replies of a run that was launched: ``queued`` is a Slurm job still waiting in
#: its queue at the start-up timeout, which is no failure of the sweep.
LAUNCHED: tuple[str, ...] = ("started", "starting", "queued")


def expand_sweep(overrides: Sequence[str] | str) -> list[list[str]]:
    """Hydra basic-sweeper semantics: ``model=srcnn,edsr_baseline seed=1,2`` → the
    cartesian product of the comma-separated (and ``choice``/``range``) values, first
    override varying slowest. Lists (``data.variables=[temp,salt]``) are not sweeps."""
    overrides = normalise_overrides(overrides)
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise RequestError(f"invalid sweep override: {exc}", field="overrides") from None
    axes: list[list[str]] = []
    for override in parsed:
        key = override.get_key_element()
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                raise RequestError(
                    f"{override.input_line!r}: only discrete sweeps (a,b,c / choice / range) "
                    "can be launched"
                )
            axes.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            axes.append([f"{key}={override.get_value_element_as_str()}"])
    return [list(combo) for combo in itertools.product(*axes)]


@replies
def sweep(
    overrides: Sequence[str] | str = (),
    *,
    runs_root: PathLike | None = None,
    wait_for_start: bool = False,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str = "keep",
    backend: str = "local",
    kind: str = "train",
) -> JsonDict:
    """Start one run per combination of the swept overrides (``oceansr start -m``).

    Every combination is validated first; if any is invalid nothing is started and the
    reply lists the bad ones. Otherwise all are launched (by default without waiting for
    ``training_start``) and the reply carries every ``process_id`` at once:
    ``{"status": "started"|"partial"|"error", "process_ids", "runs": [start replies],
    "count"}``. A run whose start reply is ``started``, ``starting`` or ``queued`` counts
    as launched; ``partial``/``error`` mean some or all of them failed to start.
    """
    timeout = check_start_args(on_exit, backend, kind, startup_timeout)
    overrides, backend = select_backend(normalise_overrides(overrides), backend, on_exit)
    combos = expand_sweep(overrides)
    checks = [validate_config(kind, combo) for combo in combos]
    bad = [
        {"overrides": combo, "error_summary": check["error_summary"]}
        for combo, check in zip(combos, checks, strict=True)
        if not check.get("ok")
    ]
    if bad:
        first = bad[0]["error_summary"]
        summary = dict(first)
        summary["message"] = (
            f"{len(bad)} of {len(combos)} sweep combinations are invalid; nothing was "
            f"started. First: {first.get('message')}"
        )
        return {
            "status": "error",
            "process_id": None,
            "process_ids": [],
            "error_summary": summary,
            "invalid": bad,
            "count": 0,
        }
    replies = [
        start_checked(
            combo,
            check,
            runs_root=runs_root,
            wait_for_start=bool(wait_for_start),
            startup_timeout=timeout,
            on_exit=on_exit,
            backend=backend,
            kind=kind,
        )
        for combo, check in zip(combos, checks, strict=True)
    ]
    ok = [r for r in replies if r.get("status") in LAUNCHED]
    state = "started" if len(ok) == len(replies) else "partial" if ok else "error"
    reply: JsonDict = {
        "status": state,
        "process_ids": [r.get("process_id") for r in replies if r.get("process_id")],
        "runs": replies,
        "count": len(replies),
    }
    if state != "started":
        failed = next(r for r in replies if r.get("status") not in LAUNCHED)
        reply["error_summary"] = failed.get("error_summary")
    return reply
