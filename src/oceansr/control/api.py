"""The control plane's Python API (DESIGN §4): start, status, logs, wait, kill, list, resume.

Every function answers with a plain JSON-ready dict — the same dict the ``oceansr``
command line prints with ``--json`` and the MCP tools return — and never raises for
bad input: an unknown or malformed run id, a bad override, a run in the wrong state
all come back as ``{"status": "error", "process_id", "error_summary": {...}}`` with a
failureType from the taxonomy, a plain message and concrete suggestions.

State lives only in the run directory (:mod:`oceansr.runs`), so any process — a new
CLI call, a restarted MCP server, a notebook kernel — can answer for any run. The one
thing a reader adds is *liveness*: a run whose status is not terminal but whose process
is gone (dead pid, pid reused, stale heartbeat) is marked ``failed``/``process_lost``
(or ``killed`` when a kill had been requested) by whichever reader notices first, under
the run lock, so it is recorded exactly once.

This module imports no torch; the Hydra validation (``oceansr.validate``) is imported
only by :func:`start`, :func:`resume` and :func:`sweep`.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import shlex
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from oceansr.errors import ConfigError, DataNotFoundError
from oceansr.runs import (
    ON_EXIT_POLICIES,
    STATUSES,
    CorruptRunFileError,
    InvalidRunIdError,
    RunExistsError,
    RunLockTimeoutError,
    RunNotFoundError,
    RunPaths,
    add_attempt,
    append_event,
    create_run,
    default_runs_root,
    heartbeat_age_s,
    is_alive,
    is_terminal,
    is_valid_run_id,
    list_run_dirs,
    new_run_id,
    parse_iso,
    read_events,
    read_run,
    read_status,
    run_lock,
    tail_events,
    to_jsonable,
    transition,
    update_run,
    update_status,
    validate_run_id,
)
from oceansr.runs.failures import (
    MESSAGES,
    classify_exception,
    classify_exit,
    error_summary,
    signal_name,
)

from . import local

JsonDict = dict[str, Any]
F = TypeVar("F", bound=Callable[..., JsonDict])

DEFAULT_STARTUP_TIMEOUT_S = 300.0
DEFAULT_WAIT_TIMEOUT_S = 120.0
DEFAULT_POLL_S = 0.1
DEFAULT_KILL_GRACE_S = 30.0
DEFAULT_TAIL_LINES = 50
DEFAULT_MAX_BYTES = 64 * 1024
#: The smallest reply that always holds one whole UTF-8 character (so reads progress).
MIN_MAX_BYTES = 4
#: A non-terminal run whose heartbeat is older than this is lost (env overrides it).
DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0
HEARTBEAT_TIMEOUT_ENV = "OCEANSR_HEARTBEAT_TIMEOUT"
LOG_TAIL_BYTES = 4000
#: After a run turned terminal during start-up, how long to let the process finish
#: writing its traceback to train.log before answering without its exit status.
_EXIT_GRACE_S = 10.0
_REAPER_WAIT_S = 5.0

#: Module run by each run kind (``python -m <module> run_id=... runs_root=... ...``).
ENTRY_POINTS: dict[str, str] = {"train": "oceansr.train", "predict": "oceansr.predict"}
#: The event that means "the work has begun" for each run kind (what start waits for).
START_EVENTS: dict[str, str] = {"train": "training_start", "predict": "predict_start"}
BACKENDS: tuple[str, ...] = (local.BACKEND,)
#: Overrides the control plane sets itself; a user value would split the run in two.
RESERVED_KEYS: tuple[str, ...] = ("run_id", "runs_root")
_RESUMABLE = ("killed", "failed")
_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9_./\-]+")
_OVERRIDE_SUGGESTION = re.compile(r"^[+~]{0,2}[A-Za-z_][\w.]*=\S+$")


class RequestError(ValueError):
    """A bad argument to an API call; becomes a ``config_error`` reply."""

    def __init__(self, message: str, *, suggestions: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions or [])


# --------------------------------------------------------------------------- replies


def _error(
    failure_type: str,
    message: str,
    *,
    process_id: str | None = None,
    suggestions: Sequence[str] | None = None,
    **extra: Any,
) -> JsonDict:
    summary = error_summary(failure_type, message, suggestions=list(suggestions or []) or None)
    reply = {"status": "error", "process_id": process_id, "error_summary": summary, **extra}
    return to_jsonable(reply)


def _id_of(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    value = kwargs.get("process_id", args[0] if args else None)
    return value if is_valid_run_id(value) else None


def _list_hint(root: Any) -> str:
    where = "" if root is None else f", runs_root={str(root)!r}"
    return f"list_runs({where.lstrip(', ')}) (CLI: oceansr list) shows the known runs"


def _replies(func: F) -> F:
    """Turn every exception into an error reply (adapters must never see a traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> JsonDict:
        process_id = _id_of(args, kwargs)
        try:
            return to_jsonable(func(*args, **kwargs))
        except InvalidRunIdError as exc:
            return _error(
                "config_error",
                str(exc),
                suggestions=[_list_hint(kwargs.get("runs_root"))],
            )
        except RunNotFoundError as exc:
            return _error(
                "config_error",
                f"no run {exc.run_id!r} under {Path(str(exc.run_dir)).parent}",
                process_id=process_id,
                suggestions=[_list_hint(kwargs.get("runs_root")), "check runs_root / OCEANSR_RUNS"],
            )
        except RequestError as exc:
            return _error(
                "config_error", str(exc), process_id=process_id, suggestions=exc.suggestions
            )
        except CorruptRunFileError as exc:
            return _error(
                "data_invalid",
                f"the run directory is damaged: {exc}",
                process_id=process_id,
                suggestions=["inspect the run directory; run files are plain JSON"],
            )
        except RunLockTimeoutError as exc:
            return _error(
                "unknown",
                str(exc),
                process_id=process_id,
                suggestions=["retry in a moment; check for a hung process holding <run>/.lock"],
            )
        except Exception as exc:  # last resort: a classified summary, never a traceback
            summary = classify_exception(exc)
            reply = {"status": "error", "process_id": process_id, "error_summary": summary}
            return to_jsonable(reply)

    return wrapper  # type: ignore[return-value]


# --------------------------------------------------------------------------- arguments


def _root(runs_root: str | os.PathLike[str] | None) -> Path:
    if runs_root is None:
        return default_runs_root()
    return Path(runs_root).expanduser().absolute()


def _paths(process_id: Any, runs_root: str | os.PathLike[str] | None) -> RunPaths:
    """Paths of an existing run; the id is validated before any file-system access."""
    validate_run_id(process_id)
    paths = RunPaths.for_id(process_id, _root(runs_root))
    if not paths.exists():
        raise RunNotFoundError(process_id, paths.dir)
    return paths


def _choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise RequestError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def _seconds(name: str, value: Any, *, minimum: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{name} must be a number of seconds, got {value!r}") from None
    if number != number or number < minimum:  # NaN or too small
        raise RequestError(f"{name} must be >= {minimum:g} seconds, got {value!r}")
    return number


def _count(name: str, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or float(value) != int(value):
                raise ValueError
            value = int(value)
        except (TypeError, ValueError):
            raise RequestError(f"{name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise RequestError(f"{name} must be >= {minimum}, got {value}")
    return value


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _normalise_overrides(overrides: Any) -> list[str]:
    """A list of ``key=value`` strings; one string is split like a shell would."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        overrides = shlex.split(overrides)
    if not isinstance(overrides, Iterable) or isinstance(overrides, Mapping):
        raise RequestError(f"overrides must be a list of 'key=value' strings, got {overrides!r}")
    result = [str(item) for item in overrides]
    for item in result:
        if _override_key(item) in RESERVED_KEYS:
            raise RequestError(
                f"override {item!r} is set by the control plane",
                suggestions=["pass runs_root=... as the API argument (CLI: --runs-root)"],
            )
        if item.startswith("-"):
            raise RequestError(
                f"{item!r} is a command-line flag, not a Hydra override",
                suggestions=["use sweep(...) (CLI: oceansr start -m ...) for multirun"],
            )
    return result


def _hydra_value(text: str) -> str:
    """``text`` as a Hydra override value (quoted when it has special characters)."""
    if _UNQUOTED_VALUE.fullmatch(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def heartbeat_timeout_s(value: float | None = None) -> float:
    """Seconds after which a heartbeat is stale: ``value``, else ``$OCEANSR_HEARTBEAT_TIMEOUT``,
    else 60 (the trainer beats every 5 s, DESIGN requires at least every 10 s)."""
    if value is not None:
        return _seconds("heartbeat_timeout", value, minimum=0.001)
    with contextlib.suppress(TypeError, ValueError):
        env = float(os.environ.get(HEARTBEAT_TIMEOUT_ENV, ""))
        if env > 0:
            return env
    return DEFAULT_HEARTBEAT_TIMEOUT_S


# --------------------------------------------------------------------------- small helpers


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


def _age_s(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return max(0.0, time.time() - parse_iso(stamp).timestamp())
    except ValueError:
        return None


def _duration_s(doc: Mapping[str, Any]) -> float | None:
    start = doc.get("started_at") or doc.get("created_at")
    if not isinstance(start, str):
        return None
    try:
        begin = parse_iso(start).timestamp()
        end_stamp = doc.get("ended_at")
        end = parse_iso(end_stamp).timestamp() if isinstance(end_stamp, str) else time.time()
    except ValueError:
        return None
    return round(max(0.0, end - begin), 2)


def _read_tail_text(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a text file, from a line start where possible."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - limit)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return ""
    if start > 0:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:
            data = data[newline + 1 :]
    return data.decode("utf-8", errors="replace")


def _run_doc(paths: RunPaths) -> JsonDict:
    try:
        return read_run(paths)
    except CorruptRunFileError:
        return {}


def _identity(run_doc: Mapping[str, Any]) -> tuple[int | None, int | None, float | None]:
    pid = run_doc.get("pid")
    pgid = run_doc.get("pgid")
    created = run_doc.get("process_create_time")
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    pgid = pgid if isinstance(pgid, int) and not isinstance(pgid, bool) else None
    created = float(created) if isinstance(created, (int, float)) else None
    return pid, pgid, created


def _on_this_host(run_doc: Mapping[str, Any]) -> bool:
    host = run_doc.get("host")
    return host is None or host == _hostname()


# --------------------------------------------------------------------------- liveness


def _pending_kill(paths: RunPaths) -> JsonDict | None:
    """The ``kill_requested`` event of the current attempt, if any."""
    for event in reversed(read_events(paths, names=("kill_requested", "resumed"))):
        return event if event["event"] == "kill_requested" else None
    return None


def _record_exit(paths: RunPaths, exit_code: int | None, *, detail: str | None = None) -> JsonDict:
    """Make sure a run whose process ended has a terminal status; return the status doc.

    Idempotent and race-free: under the run lock, a status the trainer (or another
    reader) already made terminal is kept (only a missing exit code is filled in).
    Otherwise the run becomes ``killed`` if a kill was requested for this attempt, else
    ``failed`` with a classified ``process_lost``/``cpu_oom`` summary and the log tail.
    """
    log_tail = _read_tail_text(paths.train_log)
    with run_lock(paths):
        current = read_status(paths)
        if is_terminal(current):
            if exit_code is not None and current.get("exit_code") is None:
                current = update_status(paths, {"exit_code": exit_code})
            return current
        kill_event = _pending_kill(paths)
        if kill_event is not None:
            return transition(
                paths,
                "killed",
                event="killed",
                changes={"exit_code": exit_code},
                reason=kill_event.get("reason") or "kill requested",
                exit_code=exit_code,
                signal=signal_name(exit_code),
                recorded_by="control",
            )
        if exit_code is not None:
            summary = classify_exit(exit_code, log_tail)
        else:
            summary = error_summary(
                "process_lost",
                f"{MESSAGES['process_lost']} {detail or ''}".strip(),
                log_tail=log_tail,
                exit_code=None,
                signal=None,
            )
        if detail:
            summary["detail"] = detail
        return transition(
            paths,
            "failed",
            event="process_lost",
            changes={"error_summary": summary, "exit_code": exit_code},
            error_summary=summary,
            exit_code=exit_code,
            signal=signal_name(exit_code),
        )


def _lost_verdict(
    paths: RunPaths, doc: Mapping[str, Any], stale_after: float
) -> tuple[int | None, str] | None:
    """``(exit_code, why)`` if the run's process is gone, ``None`` if it may be alive."""
    run_doc = _run_doc(paths)
    pid, _pgid, created = _identity(run_doc)
    if pid is not None and _on_this_host(run_doc):
        proc = local.registered(paths.run_id, pid)
        if proc is not None and proc.returncode is not None:
            return proc.returncode, f"process {pid} exited with code {proc.returncode}"
        if not is_alive(pid, created):
            code = local.exit_code(paths.run_id, pid, wait_s=0.5)
            why = f"process {pid} is gone" if code is None else f"process {pid} exited ({code})"
            return code, why
    elif pid is None:
        age = _age_s(doc.get("updated_at") or doc.get("created_at"))
        if age is not None and age > stale_after:
            return None, f"no training process was recorded for {age:.0f} s"
    beat = heartbeat_age_s(doc)
    if beat is not None and beat > stale_after:
        where = f" (process {pid} may still exist: kill it)" if pid is not None else ""
        return None, f"heartbeat stale: last beat {beat:.0f} s ago (limit {stale_after:g} s){where}"
    return None


def _live(
    paths: RunPaths, doc: JsonDict | None = None, *, stale_after: float | None = None
) -> JsonDict:
    """The status doc after applying liveness (see module docstring)."""
    doc = read_status(paths) if doc is None else doc
    if is_terminal(doc):
        return doc
    verdict = _lost_verdict(paths, doc, heartbeat_timeout_s(stale_after))
    if verdict is None:
        return doc
    exit_code, why = verdict
    return _record_exit(paths, exit_code, detail=why)


# --------------------------------------------------------------------------- next calls


def _call(action: str, why: str, **args: Any) -> JsonDict:
    return {"action": action, "args": args, "why": why}


def _with_override(overrides: Sequence[str], extra: str) -> list[str]:
    key = _override_key(extra)
    return [o for o in overrides if _override_key(o) != key] + [extra]


def _next_calls(paths: RunPaths, doc: Mapping[str, Any]) -> list[JsonDict]:
    run_id = paths.run_id
    state = doc.get("status")
    if not is_terminal(doc):
        return [
            _call("wait", "block until the status changes (or the timeout)", process_id=run_id),
            _call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES),
            _call("kill", "stop it (checkpoints last.ckpt, resumable)", process_id=run_id),
        ]
    calls = [_call("logs", "the end of train.log", process_id=run_id, tail=DEFAULT_TAIL_LINES)]
    if state in _RESUMABLE and paths.last_ckpt.is_file():
        calls.append(_call("resume", "continue from checkpoints/last.ckpt", process_id=run_id))
    if state == "failed":
        overrides = list(_run_doc(paths).get("overrides") or [])
        summary = doc.get("error_summary") or {}
        for suggestion in summary.get("suggestions") or []:
            first = str(suggestion).split(" ", 1)[0]
            if _OVERRIDE_SUGGESTION.match(first):
                calls.append(
                    _call("start", str(suggestion), overrides=_with_override(overrides, first))
                )
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


def _status_reply(paths: RunPaths, doc: Mapping[str, Any]) -> JsonDict:
    reply = dict(doc)
    reply["process_id"] = paths.run_id
    reply["run_dir"] = str(paths.dir)
    reply["log_path"] = str(paths.train_log)
    reply["duration_s"] = _duration_s(doc)
    if doc.get("status") == "completed" and doc.get("kind") == "predict":
        reply["prediction"] = _prediction(paths)
    elif doc.get("status") == "completed":
        reply["test_metrics"] = _test_metrics(paths, doc)
        reply["units"] = _units(paths)
    reply["next"] = _next_calls(paths, doc)
    return reply


# --------------------------------------------------------------------------- status


@_replies
def status(
    process_id: str,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    heartbeat_timeout: float | None = None,
) -> JsonDict:
    """The run's status document plus ``process_id``, ``run_dir``, ``log_path``,
    ``duration_s``, ``next`` (suggested calls) and, once completed, ``test_metrics``.

    Liveness is applied first: a non-terminal run whose process is gone is recorded as
    ``failed``/``process_lost`` (or ``killed`` if a kill was requested) before answering.
    """
    paths = _paths(process_id, runs_root)
    return _status_reply(paths, _live(paths, stale_after=heartbeat_timeout))


# --------------------------------------------------------------------------- logs


def _complete_prefix_len(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that does not end inside a UTF-8 character."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        byte = data[n - back]
        if byte & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        if byte < 0x80:
            need = 1
        elif byte >> 5 == 0b110:
            need = 2
        elif byte >> 4 == 0b1110:
            need = 3
        elif byte >> 3 == 0b11110:
            need = 4
        else:  # invalid lead byte: it is a (broken) character of its own
            need = 1
        return n if back >= need else n - back
    return n  # only continuation bytes: invalid text, leave it as it is


def _skip_continuation(data: bytes) -> int:
    """Bytes to skip so ``data`` starts on a character (at most 3: one character's tail)."""
    skip = 0
    while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
        skip += 1
    return skip


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:  # not UTF-8 (a binary dump in the log): say so, keep going
        return data.decode("utf-8", errors="replace"), True


def _log_reply(paths: RunPaths, data: bytes, start: int, size: int, *, truncated: bool) -> JsonDict:
    content, lossy = _decode(data)
    next_offset = start + len(data)
    reply = {
        "process_id": paths.run_id,
        "content": content,
        "offset": start,
        "next_offset": next_offset,
        "size": size,
        "truncated": truncated,
        "eof": next_offset >= size,
        "log_path": str(paths.train_log),
    }
    if lossy:
        reply["decode_errors"] = True
    return reply


def _read_from(paths: RunPaths, handle: Any, offset: int, size: int, max_bytes: int) -> JsonDict:
    if offset > size:
        raise RequestError(
            f"offset {offset} is past the end of train.log ({size} bytes)",
            suggestions=["use the next_offset of the previous reply", "logs(process_id, tail=50)"],
        )
    handle.seek(offset)
    data = handle.read(min(max_bytes, size - offset))
    skip = _skip_continuation(data)  # an offset inside a character: start at the next one
    data = data[skip:]
    data = data[: _complete_prefix_len(data)]
    start = offset + skip
    return _log_reply(paths, data, start, size, truncated=start + len(data) < size)


def _read_tail(paths: RunPaths, handle: Any, lines: int, size: int, max_bytes: int) -> JsonDict:
    window = min(size, max_bytes)
    start = size - window
    handle.seek(start)
    data = handle.read(window)
    end = _complete_prefix_len(data)  # a character being written right now waits
    data = data[:end]
    body = data[:-1] if data.endswith(b"\n") else data  # the final newline ends the last line
    if lines == 0:
        cut, truncated = len(data), False
    else:
        pos, found = len(body), 0
        while found < lines:
            pos = body.rfind(b"\n", 0, pos)
            if pos < 0:
                break
            found += 1
        if found == lines:
            cut, truncated = pos + 1, False
        else:  # fewer lines than asked in the window: all of it, unless the file is longer
            cut, truncated = _skip_continuation(data), start > 0
    return _log_reply(paths, data[cut:], start + cut, size, truncated=truncated)


@_replies
def logs(
    process_id: str,
    tail: int | None = None,
    offset: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    runs_root: str | os.PathLike[str] | None = None,
) -> JsonDict:
    """The run's ``train.log``: the last ``tail`` lines (default 50), or text from byte
    ``offset`` on.

    Reply ``{"process_id", "content", "offset", "next_offset", "size", "truncated",
    "eof"}``; ``content`` is at most ``max_bytes`` bytes of UTF-8 and never ends inside
    a character, so feeding ``next_offset`` back as ``offset`` reproduces the file byte
    for byte. ``truncated``: more text exists than this reply holds (capped).
    """
    paths = _paths(process_id, runs_root)
    if tail is not None and offset is not None:
        raise RequestError("give tail (last N lines) or offset (from byte N), not both")
    max_bytes = max(MIN_MAX_BYTES, _count("max_bytes", max_bytes, minimum=1))
    if offset is not None:
        offset = _count("offset", offset)
    lines = DEFAULT_TAIL_LINES if tail is None else _count("tail", tail)
    try:
        handle = open(paths.train_log, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        if offset:
            raise RequestError(f"offset {offset} is past the end of train.log (0 bytes)") from None
        return _log_reply(paths, b"", 0, 0, truncated=False)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if offset is not None:
            return _read_from(paths, handle, offset, size, max_bytes)
        return _read_tail(paths, handle, lines, size, max_bytes)


# --------------------------------------------------------------------------- wait


@_replies
def wait(
    process_id: str,
    timeout: float = DEFAULT_WAIT_TIMEOUT_S,
    poll: float = DEFAULT_POLL_S,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    until: str = "change",
    heartbeat_timeout: float | None = None,
) -> JsonDict:
    """Long-poll: return as soon as ``status`` differs from its value at the call
    (``until="terminal"``: once it is completed/failed/killed), at once if the run is
    already terminal, else after ``timeout`` seconds.

    The reply is :func:`status`'s plus ``changed``, ``timed_out``, ``waited_s`` and
    ``previous_status``. Liveness is checked on every poll, so a trainer that dies
    without a word turns into a terminal ``process_lost`` within one poll interval.
    """
    paths = _paths(process_id, runs_root)
    timeout = _seconds("timeout", timeout)
    poll = min(max(_seconds("poll", poll), 0.01), 0.5)
    _choice("until", until, ("change", "terminal"))
    began = time.monotonic()
    deadline = began + timeout
    doc = _live(paths, stale_after=heartbeat_timeout)
    initial = doc.get("status")
    changed = timed_out = False
    if not is_terminal(doc):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            time.sleep(min(poll, remaining))
            doc = _live(paths, stale_after=heartbeat_timeout)
            if is_terminal(doc) or (until == "change" and doc.get("status") != initial):
                changed = doc.get("status") != initial
                break
    reply = _status_reply(paths, doc)
    reply.update(
        changed=changed,
        timed_out=timed_out,
        waited_s=round(time.monotonic() - began, 3),
        previous_status=initial,
    )
    return reply


# --------------------------------------------------------------------------- start


def _validate(kind: str, overrides: Sequence[str]) -> JsonDict:
    if kind != "train":
        return {"ok": True, "config": None}
    from oceansr.validate import validate_overrides

    return validate_overrides(list(overrides))


def _config_facts(cfg: Any) -> JsonDict:
    """Facts about the composed config worth keeping in run.json (for list rows)."""
    if cfg is None:
        return {}
    from omegaconf import OmegaConf

    facts: JsonDict = {}
    for key, path in (
        ("model", "model.name"),
        ("data_source", "data.source"),
        ("variables", "data.variables"),
        ("scale", "data.scale"),
        ("max_epochs", "trainer.max_epochs"),
    ):
        with contextlib.suppress(Exception):
            value = OmegaConf.select(cfg, path)
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value, resolve=True)
            facts[key] = value
    return facts


def _command(kind: str, paths: RunPaths, overrides: Sequence[str]) -> list[str]:
    # Both entry points (train, predict) parse Hydra overrides: values are quoted.
    root = _hydra_value(str(paths.root))
    return [
        sys.executable,
        "-m",
        ENTRY_POINTS[kind],
        f"run_id={paths.run_id}",
        f"runs_root={root}",
        *overrides,
    ]


def _base_reply(paths: RunPaths, proc: local.LocalProcess, attempt: int, on_exit: str) -> JsonDict:
    return {
        "process_id": paths.run_id,
        "run_dir": str(paths.dir),
        "pid": proc.pid,
        "pgid": proc.pgid,
        "log_path": str(paths.train_log),
        "attempt": attempt,
        "on_exit": on_exit,
    }


def _start_error(
    paths: RunPaths, doc: JsonDict, exit_code: int | None, base: Mapping[str, Any]
) -> JsonDict:
    if not is_terminal(doc):
        doc = _record_exit(paths, exit_code)
    summary = doc.get("error_summary")
    if not summary:
        if doc.get("status") == "killed":
            summary = error_summary(
                "unknown",
                "The run was killed before training started.",
                suggestions=["start it again"],
            )
        else:
            summary = classify_exit(exit_code, _read_tail_text(paths.train_log))
    return {
        "status": "error",
        **base,
        "run_status": doc.get("status"),
        "exit_code": exit_code if exit_code is not None else doc.get("exit_code"),
        "error_summary": summary,
        "log_tail": _read_tail_text(paths.train_log),
        "next": _next_calls(paths, doc),
    }


def _started(
    paths: RunPaths, base: Mapping[str, Any], event: Mapping[str, Any], t0: float
) -> JsonDict:
    doc = read_status(paths)
    payload = {k: v for k, v in event.items() if k not in ("seq", "ts", "run_id", "event")}
    return {
        "status": "started",
        **base,
        "run_status": doc.get("status"),
        "phase": doc.get("phase"),
        "startup_s": round(time.monotonic() - t0, 2),
        "training_start": payload,
        "next": _next_calls(paths, doc),
    }


def _await_start(
    paths: RunPaths,
    proc: local.LocalProcess,
    base: JsonDict,
    offset: int,
    timeout: float,
    t0: float,
) -> JsonDict:
    """Poll the events for the kind's start event (``training_start``, ``predict_start``)
    until the process exits or the timeout."""
    deadline = t0 + timeout
    terminal_since: float | None = None
    start_event = START_EVENTS[paths.run_id.split("-", 1)[0]]
    while True:
        events, offset = tail_events(paths, offset, names=start_event)
        if events:
            return _started(paths, base, events[0], t0)
        if proc.returncode is not None:
            local.wait_recorded(paths.run_id, proc.pid, _REAPER_WAIT_S)
            events, offset = tail_events(paths, offset, names=start_event)
            if events:
                return _started(paths, base, events[0], t0)
            doc = read_status(paths)
            if doc.get("status") == "completed":  # finished without a fit (e.g. mode=test)
                return {**_started(paths, base, {}, t0), "training_start": None}
            return _start_error(paths, doc, proc.returncode, base)
        now = time.monotonic()
        doc = read_status(paths)
        if is_terminal(doc):
            # The trainer recorded its failure and is exiting; let it finish the log.
            terminal_since = terminal_since or now
            if now - terminal_since > _EXIT_GRACE_S:
                return _start_error(paths, doc, None, base)
        elif now >= deadline:
            return {
                "status": "starting",
                **base,
                "run_status": doc.get("status"),
                "phase": doc.get("phase"),
                "message": f"no {start_event} within {timeout:g} s; the process is alive",
                "next": _next_calls(paths, doc),
            }
        time.sleep(DEFAULT_POLL_S)


def _on_child_exit(paths: RunPaths, exit_code: int) -> None:
    """Reaper callback: record the outcome if the trainer could not."""
    _record_exit(paths, exit_code, detail=f"process exited with code {exit_code}")


def _launch(
    paths: RunPaths,
    command: Sequence[str],
    *,
    on_exit: str,
    cwd: str | None,
    wait_for_start: bool,
    timeout: float,
    events_offset: int,
    attempt_info: Mapping[str, Any] | None = None,
) -> JsonDict:
    """Spawn the trainer for an existing run dir, record its identity, await training_start."""
    t0 = time.monotonic()
    try:
        proc = local.spawn(
            paths.run_id,
            command,
            log_path=paths.train_log,
            env=local.child_env(on_exit=on_exit),
            cwd=cwd,
            on_exit=functools.partial(_on_child_exit, paths),
        )
    except OSError as exc:
        summary = classify_exception(exc)
        transition(
            paths,
            "failed",
            event="training_error",
            changes={"error_summary": summary},
            error_summary=summary,
        )
        return {
            "status": "error",
            "process_id": paths.run_id,
            "run_dir": str(paths.dir),
            "error_summary": summary,
            "log_tail": _read_tail_text(paths.train_log),
        }
    identity = {
        "pid": proc.pid,
        "pgid": proc.pgid,
        "process_create_time": proc.create_time,
        "parent_pid": os.getpid(),
    }
    update_run(paths, **identity)
    attempt = add_attempt(
        paths, **identity, backend=local.BACKEND, command=list(command), **(attempt_info or {})
    )
    update_status(paths, {"pid": proc.pid, "host": _hostname()})
    base = _base_reply(paths, proc, attempt["attempt"], on_exit)
    if not wait_for_start:
        doc = read_status(paths)
        return {
            "status": "starting",
            **base,
            "run_status": doc.get("status"),
            "phase": doc.get("phase"),
            "next": _next_calls(paths, doc),
        }
    return _await_start(paths, proc, base, events_offset, timeout, t0)


def _create(
    kind: str,
    overrides: Sequence[str],
    root: Path,
    *,
    backend: str,
    on_exit: str,
    extra: Mapping[str, Any],
) -> tuple[RunPaths, list[str]]:
    for _ in range(5):  # an id collision needs the same second and 6 random chars
        paths = RunPaths.for_id(new_run_id(kind), root)
        command = _command(kind, paths, overrides)
        try:
            create_run(
                paths,
                kind=kind,
                overrides=overrides,
                command=command,
                backend=backend,
                on_exit=on_exit,
                extra=extra,
            )
        except RunExistsError:
            continue
        return paths, command
    raise RuntimeError("could not allocate a fresh run id")  # pragma: no cover


def _start_checked(
    overrides: list[str],
    checked: Mapping[str, Any],
    *,
    runs_root: str | os.PathLike[str] | None,
    wait_for_start: bool,
    startup_timeout: float,
    on_exit: str,
    backend: str,
    kind: str,
) -> JsonDict:
    if not checked.get("ok"):
        return {
            "status": "error",
            "process_id": None,
            "error_summary": checked["error_summary"],
            "overrides": overrides,
        }
    extra = {"cwd": os.getcwd(), **_config_facts(checked.get("config"))}
    paths, command = _create(
        kind, overrides, _root(runs_root), backend=backend, on_exit=on_exit, extra=extra
    )
    return _launch(
        paths,
        command,
        on_exit=on_exit,
        cwd=None,
        wait_for_start=wait_for_start,
        timeout=startup_timeout,
        events_offset=0,
    )


def _check_start_args(on_exit: Any, backend: Any, kind: Any, startup_timeout: Any) -> float:
    _choice("on_exit", on_exit, ON_EXIT_POLICIES)
    _choice("backend", backend, BACKENDS)
    _choice("kind", kind, ENTRY_POINTS)
    return _seconds("startup_timeout", startup_timeout)


@_replies
def start(
    overrides: Sequence[str] | str = (),
    *,
    runs_root: str | os.PathLike[str] | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str = "keep",
    backend: str = "local",
    kind: str = "train",
) -> JsonDict:
    """Launch a training run in the background and wait for its ``training_start``.

    The composed Hydra config and the data are validated first: a bad request returns
    ``{"status": "error", "process_id": None, "error_summary"}`` at once, with nothing
    created or spawned. Otherwise the run directory is created and
    ``python -m oceansr.train run_id=... runs_root=... <overrides>`` is spawned in its own
    session (it survives the caller's process group), output appended to ``train.log``.

    Replies: ``started`` (``process_id``, ``run_dir``, ``pid``, ``log_path``,
    ``training_start``, ...); ``error`` with ``error_summary`` and ``log_tail`` if the
    process ended first; ``starting`` if ``startup_timeout`` passed (or
    ``wait_for_start=False``) while it is alive. ``on_exit="terminate"``: the run stops
    gracefully when this process exits, even by SIGKILL.
    """
    overrides = _normalise_overrides(overrides)
    timeout = _check_start_args(on_exit, backend, kind, startup_timeout)
    if kind != "train":
        raise RequestError(
            f"start() launches training runs; kind={kind!r} is not one",
            suggestions=["use start_predict(input, run=...) for predict runs"],
        )
    return _start_checked(
        overrides,
        _validate(kind, overrides),
        runs_root=runs_root,
        wait_for_start=bool(wait_for_start),
        startup_timeout=timeout,
        on_exit=on_exit,
        backend=backend,
        kind=kind,
    )


def _predict_checkpoint(
    run: str | None, checkpoint: str | None, runs_root: str | os.PathLike[str] | None
) -> Path:
    """The checkpoint to predict with: an explicit path, else the training run's best
    (or last) checkpoint. Checked before anything is spawned."""
    from oceansr.checkpoint import check_checkpoint_path, run_checkpoint

    if checkpoint and run:
        raise ConfigError(
            "give either checkpoint or run, not both",
            field="run",
            fix="drop run to use the checkpoint file, or checkpoint to use the run's best",
        )
    if checkpoint:
        return check_checkpoint_path(checkpoint).resolve()
    if not run:
        raise ConfigError(
            "predict needs a checkpoint or the training run (its process_id) whose best "
            "checkpoint to use",
            field="run",
            fix="run=<training run process_id> (see list_runs) or checkpoint=/path/best.ckpt",
        )
    _paths(run, runs_root)  # a valid id of an existing run, else RunNotFound
    return run_checkpoint(run, _root(runs_root))


@_replies
def start_predict(
    input: str | os.PathLike[str],
    *,
    run: str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    variables: Sequence[str] | None = None,
    hr_mask: str | os.PathLike[str] | None = None,
    tile: int | None = None,
    overlap: int | None = None,
    runs_root: str | os.PathLike[str] | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str = "keep",
) -> JsonDict:
    """Super-resolve an LR-only NetCDF/Zarr file in the background (a ``predict-...`` run).

    ``checkpoint`` (a .ckpt) or ``run`` (a training run: its best, else last,
    checkpoint) and ``input`` are checked first; then ``python -m oceansr.predict`` runs
    in its own session exactly like a trainer, with Hydra-quoted overrides of the same
    names, and this waits for its ``predict_start``. ``output`` defaults to
    ``<run>/predictions/<input>_sr.nc``. Steer it with status/logs/wait/kill.
    """
    from oceansr.predict.overrides import predict_overrides

    timeout = _check_start_args(on_exit, local.BACKEND, "predict", startup_timeout)
    ckpt = _predict_checkpoint(run, str(checkpoint) if checkpoint else None, runs_root)
    source = Path(input).expanduser()
    if not source.exists():
        raise DataNotFoundError(
            f"input {input} does not exist",
            field="input",
            fix="pass an existing LR NetCDF file or Zarr store",
        )
    options: dict[str, Any] = {"checkpoint": ckpt, "input": source.resolve(), "output": output}
    options |= {"variables": list(variables) if variables else None, "hr_mask": hr_mask}
    return _start_checked(
        predict_overrides({**options, "tile": tile, "overlap": overlap}),
        {"ok": True, "config": None},
        runs_root=runs_root,
        wait_for_start=bool(wait_for_start),
        startup_timeout=timeout,
        on_exit=on_exit,
        backend=local.BACKEND,
        kind="predict",
    )


def expand_sweep(overrides: Sequence[str] | str) -> list[list[str]]:
    """Hydra basic-sweeper semantics: ``model=srcnn,edsr_baseline seed=1,2`` → the
    cartesian product of the comma-separated (and ``choice``/``range``) values, first
    override varying slowest. Lists (``data.variables=[temp,salt]``) are not sweeps."""
    overrides = _normalise_overrides(overrides)
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise RequestError(f"invalid sweep override: {exc}") from None
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


@_replies
def sweep(
    overrides: Sequence[str] | str = (),
    *,
    runs_root: str | os.PathLike[str] | None = None,
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
    "count"}``.
    """
    timeout = _check_start_args(on_exit, backend, kind, startup_timeout)
    combos = expand_sweep(overrides)
    checks = [_validate(kind, combo) for combo in combos]
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
        _start_checked(
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
    ok = [r for r in replies if r.get("status") in ("started", "starting")]
    state = "started" if len(ok) == len(replies) else "partial" if ok else "error"
    reply: JsonDict = {
        "status": state,
        "process_ids": [r.get("process_id") for r in replies if r.get("process_id")],
        "runs": replies,
        "count": len(replies),
    }
    if state != "started":
        failed = next(r for r in replies if r.get("status") not in ("started", "starting"))
        reply["error_summary"] = failed.get("error_summary")
    return reply


# --------------------------------------------------------------------------- resume


@_replies
def resume(
    process_id: str,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str | None = None,
) -> JsonDict:
    """Continue a ``killed``/``failed`` run from its ``checkpoints/last.ckpt``.

    Same run id, new attempt: the status moves back to ``running`` (event ``resumed``)
    and the trainer is spawned with the run's recorded overrides plus
    ``ckpt_path=<last.ckpt>``, so Lightning restores the optimiser, epoch and global
    step. ``on_exit`` defaults to the run's recorded policy. Same replies as :func:`start`.
    """
    paths = _paths(process_id, runs_root)
    timeout = _seconds("startup_timeout", startup_timeout)
    doc = _live(paths)
    run_doc = read_run(paths)
    policy = _choice("on_exit", on_exit or run_doc.get("on_exit") or "keep", ON_EXIT_POLICIES)
    kind = _choice("kind", run_doc.get("kind"), ENTRY_POINTS)
    if doc.get("status") not in _RESUMABLE:
        raise RequestError(
            f"run {process_id} is {doc.get('status')}; only killed or failed runs can be resumed",
            suggestions=[f"status('{process_id}')"]
            + (["start(overrides) for a new run"] if doc.get("status") == "completed" else []),
        )
    if not paths.last_ckpt.is_file():
        raise RequestError(
            f"run {process_id} has no checkpoints/last.ckpt to resume from (it stopped "
            "before its first checkpoint)",
            suggestions=["start the same overrides again as a new run"],
        )
    pid, _pgid, created = _identity(run_doc)
    if pid is not None and _on_this_host(run_doc) and is_alive(pid, created):
        raise RequestError(
            f"the process of run {process_id} (pid {pid}) is still alive",
            suggestions=[f"kill('{process_id}') first"],
        )
    ckpt = str(paths.last_ckpt)
    overrides = _with_override(
        list(run_doc.get("overrides") or []), f"ckpt_path={_hydra_value(ckpt)}"
    )
    cwd = run_doc.get("cwd") if isinstance(run_doc.get("cwd"), str) else None
    if cwd is not None and not os.path.isdir(cwd):
        cwd = None
    if cwd is None or os.path.samefile(cwd, os.getcwd()):
        # Relative data paths resolve against the run's working directory; validate here
        # only when that is ours (else the trainer's own checks report it).
        checked = _validate(kind, overrides)
        if not checked.get("ok"):
            summary = checked["error_summary"]
            return {"status": "error", "process_id": process_id, "error_summary": summary}
    with run_lock(paths):
        current = read_status(paths)
        if current.get("status") not in _RESUMABLE:
            raise RequestError(f"run {process_id} is {current.get('status')} (resumed meanwhile?)")
        step = (current.get("progress") or {}).get("step")
        update_run(paths, pid=None, pgid=None, process_create_time=None, parent_pid=None)
        transition(
            paths,
            "running",
            event="resumed",
            allow_terminal_exit=True,
            changes={"phase": "starting", "pid": None, "heartbeat_at": None, "error_summary": None},
            ckpt_path=ckpt,
            previous_status=current.get("status"),
            previous_step=step,
        )
        offset = paths.events_jsonl.stat().st_size
    command = _command(kind, paths, overrides)
    return _launch(
        paths,
        command,
        on_exit=policy,
        cwd=cwd,
        wait_for_start=bool(wait_for_start),
        timeout=timeout,
        events_offset=offset,
        attempt_info={
            "resumed_from": ckpt,
            "previous_status": current.get("status"),
            "previous_step": step,
        },
    )


# --------------------------------------------------------------------------- kill


def _await_pid(paths: RunPaths, timeout: float) -> JsonDict:
    """run.json once it names a process (a start in another process may be spawning)."""
    deadline = time.monotonic() + timeout
    run_doc = _run_doc(paths)
    while _identity(run_doc)[0] is None and time.monotonic() < deadline:
        time.sleep(DEFAULT_POLL_S)
        run_doc = _run_doc(paths)
    return run_doc


def _stop_process(paths: RunPaths, run_doc: Mapping[str, Any], grace: float) -> JsonDict:
    """SIGTERM the trainer, SIGKILL its group after ``grace``, leave nothing behind."""
    import psutil

    pid, pgid, created = _identity(run_doc)
    outcome: JsonDict = {"signal": None, "escalated": False, "survivors": []}
    if pid is None:
        return outcome
    owns_group = local.owns_group(pid, pgid)
    # A run that does not lead its group (a foreground run): remember its descendants now.
    tree = [] if owns_group else local.descendants(pid, created)
    if local.send_signal(pid, created, signal.SIGTERM):  # the trainer alone, see STACK_NOTES
        outcome["signal"] = "SIGTERM"
    if not local.wait_gone(pid, created, grace):
        outcome.update(signal="SIGKILL", escalated=True)
        if owns_group:
            local.kill_group(pgid)  # type: ignore[arg-type]
        else:
            with contextlib.suppress(psutil.Error):
                if is_alive(pid, created):
                    tree = [psutil.Process(pid), *tree]
            local.kill_tree(tree)
        local.wait_gone(pid, created, 5.0)
    # Whatever is left of the group (DataLoader workers of a clean stop) goes too.
    if owns_group:
        outcome["survivors"] = local.kill_group(pgid)  # type: ignore[arg-type]
    else:
        outcome["survivors"] = local.kill_tree([p for p in tree if p.is_running()])
    return outcome


@_replies
def kill(
    process_id: str,
    grace: float = DEFAULT_KILL_GRACE_S,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    reason: str | None = None,
) -> JsonDict:
    """Stop a run: ``kill_requested``, SIGTERM to the trainer (Lightning finishes the
    batch and writes ``last.ckpt``), SIGKILL to its whole process group after ``grace``
    seconds, until no process of the group is left. Final status ``killed`` (recorded
    here if the trainer died before it could). Refused for a terminal run.

    The reply is :func:`status`'s plus ``kill``: ``{"signal", "escalated", "waited_s",
    "survivors"}``.
    """
    paths = _paths(process_id, runs_root)
    grace = _seconds("grace", grace)
    doc = _live(paths)
    if is_terminal(doc):
        return _error(
            "config_error",
            f"run {process_id} is already {doc.get('status')}; there is nothing to kill",
            process_id=process_id,
            suggestions=[f"status('{process_id}')"],
            run_status=doc.get("status"),
        )
    run_doc = _run_doc(paths)
    if not _on_this_host(run_doc):
        raise RequestError(
            f"run {process_id} runs on host {run_doc.get('host')!r}, not here ({_hostname()})",
            suggestions=["call kill on that host"],
        )
    began = time.monotonic()
    append_event(
        paths,
        "kill_requested",
        reason=reason or "kill requested via oceansr.control",
        grace_s=grace,
        requested_by_pid=os.getpid(),
    )
    run_doc = _await_pid(paths, min(grace, 5.0))
    outcome = _stop_process(paths, run_doc, grace)
    pid = _identity(run_doc)[0]
    code = local.exit_code(paths.run_id, pid, wait_s=1.0) if pid is not None else None
    final = _record_exit(paths, code, detail="stopped by kill")
    outcome["waited_s"] = round(time.monotonic() - began, 3)
    reply = _status_reply(paths, final)
    reply["kill"] = outcome
    return reply


# --------------------------------------------------------------------------- list


_CONFIG_MODEL = re.compile(r"^model:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([\w.\-]+)", re.M)


def _model_of(paths: RunPaths, run_doc: Mapping[str, Any]) -> str | None:
    if isinstance(run_doc.get("model"), str):
        return run_doc["model"]
    for override in reversed(run_doc.get("overrides") or []):
        if _override_key(override) in ("model", "model.name"):
            return override.split("=", 1)[1]
    with contextlib.suppress(OSError):
        match = _CONFIG_MODEL.search(paths.config_yaml.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    return None


def _row(paths: RunPaths) -> JsonDict:
    try:
        doc = _live(paths)
        run_doc = _run_doc(paths)
    except (CorruptRunFileError, RunLockTimeoutError) as exc:
        return {"process_id": paths.run_id, "status": "unreadable", "error": str(exc)}
    progress = doc.get("progress") or {}
    metrics = doc.get("metrics") or {}
    best = metrics.get("best") or {}
    test = metrics.get("test") or {}
    summary = doc.get("error_summary") or {}
    return {
        "process_id": paths.run_id,
        "kind": doc.get("kind"),
        "status": doc.get("status"),
        "phase": doc.get("phase"),
        "created_at": doc.get("created_at"),
        "ended_at": doc.get("ended_at"),
        "duration_s": _duration_s(doc),
        "epoch": progress.get("epoch"),
        "total_epochs": progress.get("total_epochs"),
        "step": progress.get("step"),
        "percent": progress.get("percent"),
        "eta_s": progress.get("eta_s"),
        "model": _model_of(paths, run_doc),
        "best_val_rmse": best.get("val/rmse"),
        "best_epoch": best.get("epoch"),
        "test_rmse": test.get("test/rmse"),
        "test_rmse_bicubic": test.get("test/rmse_bicubic"),
        "failure_type": summary.get("failureType"),
        "overrides": run_doc.get("overrides"),
    }


def _status_filter(value: Any) -> frozenset[str] | None:
    if value is None or value == "" or value == []:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = frozenset(str(item).strip() for item in items if str(item).strip())
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise RequestError(
            f"unknown status filter {', '.join(unknown)}; expected any of {', '.join(STATUSES)}"
        )
    return wanted


@_replies
def list_runs(
    status: str | Sequence[str] | None = None,
    *,
    runs_root: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> JsonDict:
    """Every run under the root, newest first, one compact row each (liveness applied).

    ``status`` filters (a name, a comma-separated string or a list); ``limit`` caps the
    rows. Reply ``{"runs": [...], "count", "runs_root"}``.
    """
    wanted = _status_filter(status)
    limit = None if limit is None else _count("limit", limit, minimum=1)
    root = _root(runs_root)
    rows: list[JsonDict] = []
    for paths in list_run_dirs(root):
        try:
            row = _row(paths)
        except RunNotFoundError:  # deleted while listing
            continue
        if wanted is not None and row["status"] not in wanted:
            continue
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return {"runs": rows, "count": len(rows), "runs_root": str(root)}
