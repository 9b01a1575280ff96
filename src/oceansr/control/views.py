"""Reply builders shared by the queries, the launcher and kill: the status reply and
the suggested next calls an agent or a user can make from it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from oceansr.runs import RunPaths, duration_s, is_terminal, override_key, read_events, with_override
from oceansr.runs.checkpoint_file import resume_blocker

from .observe import read_run_doc

JsonDict = dict[str, Any]

DEFAULT_TAIL_LINES = 50
#: Statuses :func:`oceansr.control.resume` accepts.
RESUMABLE: tuple[str, ...] = ("killed", "failed")
#: A failure suggestion that starts with a Hydra override (``data.batch_size=4 ...``).
_OVERRIDE_SUGGESTION = re.compile(r"^[+~]{0,2}[A-Za-z_][\w.]*=\S+$")


def call(action: str, why: str, **args: Any) -> JsonDict:
    """A suggested next call: the control function, its arguments and why to make it."""
    return {"action": action, "args": args, "why": why}


def next_calls(paths: RunPaths, doc: Mapping[str, Any]) -> list[JsonDict]:
    """What to do next with a run in the state ``doc`` describes."""
    run_id = paths.run_id
    state = doc.get("status")
    if not is_terminal(doc):
        return [
            call("wait", "block until the status changes (or the timeout)", process_id=run_id),
            call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES),
            call("kill", "stop it (checkpoints last.ckpt, resumable)", process_id=run_id),
        ]
    calls = [call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES)]
    # Offered only from a checkpoint that loads (docs/architecture.md, checkpoints).
    if state in RESUMABLE and resume_blocker(paths.last_ckpt) is None:
        calls.append(call("resume", "continue from checkpoints/last.ckpt", process_id=run_id))
    if state == "failed":
        calls.extend(_retry_calls(paths, doc))
    return calls


def _retry_calls(paths: RunPaths, doc: Mapping[str, Any]) -> list[JsonDict]:
    """One ``start`` per failure suggestion that is a Hydra override, applied to the
    run's own overrides (so an agent can retry with the fix in one call)."""
    overrides = list(read_run_doc(paths).get("overrides") or [])
    summary = doc.get("error_summary") or {}
    calls = []
    for suggestion in summary.get("suggestions") or []:
        first = str(suggestion).split(" ", 1)[0]
        if _OVERRIDE_SUGGESTION.match(first):
            calls.append(call("start", str(suggestion), overrides=with_override(overrides, first)))
    return calls


def _test_metrics(paths: RunPaths, doc: Mapping[str, Any]) -> JsonDict:
    test = (doc.get("metrics") or {}).get("test") or {}
    if test:
        return dict(test)
    for event in reversed(read_events(paths, names="training_end")):
        for key in ("test", "test_metrics"):
            if isinstance(event.get(key), Mapping):
                return dict(event[key])
    return {}


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
    reply = dict(doc)
    reply["process_id"] = paths.run_id
    reply["run_dir"] = str(paths.dir)
    reply["log_path"] = str(paths.train_log)
    reply["duration_s"] = duration_s(doc, read_run_doc(paths))
    if doc.get("status") == "completed" and doc.get("kind") == "predict":
        reply["prediction"] = _prediction(paths)
    elif doc.get("status") == "completed":
        reply["test_metrics"] = _test_metrics(paths, doc)
        reply["units"] = _units(paths)
    if doc.get("status") == "killed":
        reply["kill_reason"] = kill_reason(paths)
    reply.update(checkpoint_fields(paths))
    reply["next"] = next_calls(paths, doc)
    return reply


#: Who stopped a killed run, recognised from the ``killed`` event's reason text
#: (written by the trainer's session or by the control plane; docs/architecture.md).
_KILLERS: tuple[tuple[str, str], ...] = (
    ("time limit", "time_limit"),
    ("controller", "controller_exit"),
    ("kill requested", "user"),
    ("sigterm", "system"),
    ("preempt", "system"),
)


def kill_reason(paths: RunPaths) -> JsonDict:
    """``{"by": user|controller_exit|system|time_limit, "detail"}`` for a killed run, so
    an agent can tell the user why it stopped without reading events.jsonl."""
    for event in reversed(read_events(paths, names=["killed"])):
        detail = str(event.get("reason") or "")
        lowered = detail.lower()
        by = next((who for needle, who in _KILLERS if needle in lowered), "system")
        return {"by": by, "detail": detail or None}
    return {"by": "system", "detail": None}


def checkpoint_fields(paths: RunPaths) -> JsonDict:
    """Absolute checkpoint paths for every checkpoint file that exists (whatever the
    status doc recorded: a failed run still has the ``last.ckpt`` it wrote)."""
    out: JsonDict = {}
    for key, path in (("best_checkpoint", paths.best_ckpt), ("last_checkpoint", paths.last_ckpt)):
        if path.is_file():
            out[key] = str(path.resolve())
    return out


def model_of(paths: RunPaths, run_doc: Mapping[str, Any]) -> str | None:
    """The model name of a run, for list rows: run.json, else its overrides, else
    config.yaml (read as text: no YAML parser for one field)."""
    if isinstance(run_doc.get("model"), str):
        return str(run_doc["model"])
    for item in reversed(run_doc.get("overrides") or []):
        if override_key(item) in ("model", "model.name"):
            return str(item.split("=", 1)[1])
    try:
        match = _CONFIG_MODEL.search(paths.config_yaml.read_text(encoding="utf-8"))
    except OSError:
        return None
    return match.group(1) if match else None


_CONFIG_MODEL = re.compile(r"^model:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([\w.\-]+)", re.M)
