"""Reply builders shared by the queries, the launcher and kill: the status reply and
the suggested next calls an agent or a user can make from it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from oceansr.runs import (
    CorruptRunFileError,
    KilledBy,
    KillKind,
    RunPaths,
    RunRecord,
    RunStatus,
    StatusRecord,
    duration_s,
    override_key,
    read_events,
    read_regular,
    read_status,
    run_identity,
    with_override,
)
from oceansr.runs.checkpoint_file import resume_blocker
from oceansr.runs.failures import OVERRIDE_RE

from .observe import read_run_doc

JsonDict = dict[str, Any]

DEFAULT_TAIL_LINES = 50
#: Statuses :func:`oceansr.control.resume` accepts.
RESUMABLE: tuple[RunStatus, ...] = (RunStatus.KILLED, RunStatus.FAILED)
#: Override keys that inject faults (``debug.nan_step=3``): never carried into a retry.
DEBUG_PREFIX = "debug."


def call(action: str, why: str, **args: Any) -> JsonDict:
    """A suggested next call: the control function, its arguments and why to make it."""
    return {"action": action, "args": args, "why": why}


def status_record(paths: RunPaths, doc: Mapping[str, Any]) -> StatusRecord:
    """The typed record of the run's status document; a damaged one (a field of the wrong
    type, an unknown status) is a :class:`CorruptRunFileError` naming the file, which
    every reply reports as a damaged run directory and ``list`` as an unreadable row."""
    try:
        return StatusRecord.from_json(doc)
    except (TypeError, ValueError) as exc:
        raise CorruptRunFileError(f"{paths.status_json} has ill-typed fields: {exc}") from exc


def next_calls(paths: RunPaths, doc: Mapping[str, Any]) -> list[JsonDict]:
    """What to do next with a run in the state ``doc`` describes."""
    return _next_calls(paths, status_record(paths, doc))


def _next_calls(paths: RunPaths, record: StatusRecord) -> list[JsonDict]:
    run_id = paths.run_id
    state = record.status
    if not state.is_terminal:
        return [
            call("wait", "block until the status changes (or the timeout)", process_id=run_id),
            call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES),
            call("kill", "stop it (checkpoints last.ckpt, resumable)", process_id=run_id),
        ]
    calls = [call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES)]
    # Offered only from a checkpoint that loads (docs/architecture.md, checkpoints).
    if state in RESUMABLE and resume_blocker(paths.last_ckpt) is None:
        resume = call("resume", "continue from checkpoints/last.ckpt", process_id=run_id)
        # Resuming a failed run retries it: the user decides (rule 3).
        calls.append({**resume, "confirm": True} if state is RunStatus.FAILED else resume)
    if state is RunStatus.FAILED:
        calls.extend(_retry_calls(paths, record))
    return calls


def _retry_calls(paths: RunPaths, record: StatusRecord) -> list[JsonDict]:
    """One ``start`` per failure suggestion that is a Hydra override, applied to the
    run's own overrides without its fault injection (``debug.*``): a retry the agent
    offers, marked ``confirm`` because only the user may choose it (rule 3)."""
    overrides = [
        item
        for item in run_record(read_run_doc(paths)).overrides
        if not override_key(item).startswith(DEBUG_PREFIX)
    ]
    summary = fresh_suggestions(paths, record.error_summary or {})
    return [
        {
            **call(
                "start",
                f"ask the user first, then retry with {item}",
                overrides=with_override(overrides, item),
            ),
            "confirm": True,
            "override": item,
        }
        for item in summary.get("suggestions") or []
        if OVERRIDE_RE.match(str(item))
    ]


def fresh_suggestions(paths: RunPaths, summary: Mapping[str, Any]) -> JsonDict:
    """``summary`` without the suggestions the run already has (its overrides, else its
    config.yaml): advice to set ``trainer.precision=32-true`` on a run that ran in
    32-true is noise an agent would pass on."""
    suggestions = summary.get("suggestions")
    if not suggestions:
        return dict(summary)
    current = _current_settings(paths)
    kept = [item for item in suggestions if not _already_set(str(item), current)]
    return {**summary, "suggestions": kept}


def _current_settings(paths: RunPaths) -> tuple[list[str], Mapping[str, Any]]:
    """The run's overrides and resolved config (empty when unreadable)."""
    import yaml

    overrides = run_record(read_run_doc(paths)).overrides
    try:
        config = yaml.safe_load(paths.config_yaml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        config = None
    return overrides, config if isinstance(config, Mapping) else {}


def _already_set(item: str, current: tuple[list[str], Mapping[str, Any]]) -> bool:
    """Whether override ``item`` (``key=value``) equals what the run already used."""
    if "=" not in item:
        return False
    key, wanted = override_key(item), item.split("=", 1)[1]
    overrides, config = current
    for given in reversed(overrides):
        if override_key(given) == key:
            return _same(given.split("=", 1)[1], wanted)
    value: Any = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):  # a config group (``model=srcnn``): its name
        value = value.get("name")
    return value is not None and _same(value, wanted)


def _same(value: Any, wanted: str) -> bool:
    """``value`` equals the override text ``wanted`` (``1e-4`` equals ``0.0001``)."""
    try:
        return float(value) == float(wanted)
    except (TypeError, ValueError):
        return str(value).strip("'\"").lower() == wanted.strip("'\"").lower()


def run_record(run_doc: Mapping[str, Any]) -> RunRecord:
    """run.json as a record; a damaged one reads as empty, as :func:`read_run_doc` does
    (what replies take from it are hints: overrides to retry with, a model name)."""
    try:
        return RunRecord.from_json(run_doc)
    except TypeError:
        return RunRecord()


def _test_metrics(paths: RunPaths, record: StatusRecord) -> JsonDict:
    test = record.metrics_of("test")
    if test:
        return test
    for event in reversed(read_events(paths, names="training_end")):
        for key in ("test", "test_metrics"):
            if isinstance(event.get(key), Mapping):
                return dict(event[key])
    return {}


#: Groups named in a reply's verdict; the rest are counted (status.json has them all).
VERDICT_GROUPS = 6


def test_verdict(found: Any) -> JsonDict | None:
    """The test's headline claim in a few keys: the gain over the stronger baseline, its
    95 % interval and word, and the groups where the model loses (status.json's
    ``test_breakdown`` keeps every group's numbers)."""
    if not isinstance(found, Mapping) or found.get("rmse_gain") is None:
        return None
    losing = [str(group) for group in found.get("losing") or []]
    keys = ("baseline", "rmse_gain", "ci95", "verdict", "blocks", "blocks_by")
    return {
        **{key: found.get(key) for key in keys},
        "losing": losing[:VERDICT_GROUPS],
        "losing_count": len(losing),
    }


def _units(paths: RunPaths) -> dict[str, str]:
    """``{variable: unit}`` from the run's ``training_start`` (for displaying metrics)."""
    for event in read_events(paths, names="training_start"):
        data = event.get("data") or {}
        return dict(zip(data.get("variables") or [], data.get("units") or [], strict=False))
    return {}


def _prediction(paths: RunPaths) -> JsonDict:
    """What a finished predict run produced (its ``predict_end`` event)."""
    for event in reversed(read_events(paths, names="predict_end")):
        keep = ("output_path", "format", "hr_shape", "stats", "seconds", "warnings")
        return {k: event.get(k) for k in keep if k in event}
    return {}


def status_reply(paths: RunPaths, doc: Mapping[str, Any]) -> JsonDict:
    """The status doc plus where the run lives, its duration, results and next calls."""
    record = status_record(paths, doc)
    reply = dict(doc)
    if not reply.get("data_progress"):  # null once data preparation ended
        reply.pop("data_progress", None)
    if record.error_summary:
        reply["error_summary"] = fresh_suggestions(paths, record.error_summary)
    run_doc = read_run_doc(paths)
    reply["process_id"] = paths.run_id
    reply["run_dir"] = str(paths.dir)
    reply["log_path"] = str(paths.train_log)
    reply["duration_s"] = duration_s(doc, run_doc)
    job_id = run_identity(run_doc).job_id
    if job_id is not None and not reply.get("job_id"):  # run.json holds the identity
        reply["job_id"] = job_id
    if record.status is RunStatus.COMPLETED and record.kind == "predict":
        reply["prediction"] = _prediction(paths)
    elif record.status is RunStatus.COMPLETED:
        reply["test_metrics"] = _test_metrics(paths, record)
        reply["test_verdict"] = test_verdict(doc.get("test_breakdown"))
        reply["units"] = _units(paths)
    if record.status is RunStatus.KILLED:
        reply["kill_reason"] = kill_reason(paths, record)
    reply.update(checkpoint_fields(paths))
    reply["next"] = _next_calls(paths, record)
    return reply


def kill_reason(paths: RunPaths, record: StatusRecord | None = None) -> JsonDict:
    """``{"by": <KillKind>, "detail"}`` for a killed run, so an agent can tell the user
    why it stopped without reading events.jsonl: the ``killed_by`` the run recorded
    (``record``, else status.json), or for an old run :func:`legacy_kill_cause`."""
    if record is None:
        record = status_record(paths, read_status(paths))
    cause = record.killed_by or legacy_kill_cause(paths)
    return {"by": cause.kind.value, "detail": cause.detail}


#: How :func:`legacy_kill_cause` recognises the killer in the ``killed`` event's reason.
_LEGACY_KILLERS: tuple[tuple[str, KillKind], ...] = (
    ("time limit", KillKind.TIME_LIMIT),
    ("controller", KillKind.CONTROLLER_EXIT),
    ("kill requested", KillKind.USER),
    ("sigterm", KillKind.SYSTEM),
    ("preempt", KillKind.SYSTEM),
)


def legacy_kill_cause(paths: RunPaths) -> KilledBy:
    """Only for runs recorded before ``killed_by`` existed (older oceansr versions): who
    killed the run, recognised from the text of its last ``killed`` event's reason,
    ``system`` when nothing matches. Runs recorded now carry the cause itself."""
    for event in reversed(read_events(paths, names=["killed"])):
        detail = str(event.get("reason") or "")
        lowered = detail.lower()
        kind = next((who for needle, who in _LEGACY_KILLERS if needle in lowered), None)
        return KilledBy(kind or KillKind.SYSTEM, detail or None)
    return KilledBy(KillKind.SYSTEM, None)


def checkpoint_fields(paths: RunPaths) -> JsonDict:
    """Absolute checkpoint paths for every checkpoint file that exists (whatever the
    status doc recorded: a failed run still has the ``last.ckpt`` it wrote); a link in
    place of one is never named (it is not the run's file)."""
    out: JsonDict = {}
    for key, path in (("best_checkpoint", paths.best_ckpt), ("last_checkpoint", paths.last_ckpt)):
        if path.is_file() and not path.is_symlink():
            out[key] = str(path.resolve())
    return out


def model_of(paths: RunPaths, run: RunRecord) -> str | None:
    """The model name of a run, for list rows: run.json, else its overrides, else
    config.yaml (read as text: no YAML parser for one field)."""
    if run.model is not None:
        return run.model
    for item in reversed(run.overrides):
        if override_key(item) in ("model", "model.name"):
            return str(item.split("=", 1)[1])
    try:
        text = read_regular(paths.config_yaml).decode("utf-8", errors="replace")
    except (OSError, CorruptRunFileError):  # missing, or a link / FIFO: not followed
        return None
    match = _CONFIG_MODEL.search(text)
    return match.group(1) if match else None


_CONFIG_MODEL = re.compile(r"^model:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([\w.\-]+)", re.M)
