"""The one reply shape of the control plane and of every adapter built on it.

Every public call answers with a JSON-ready dict, and bad input or a failure becomes
``{"status": "error", "process_id", "error_summary": {failureType, message,
suggestions, ...}}`` rather than an exception: the CLI prints it, the MCP server hands
it to an agent, a notebook shows it, and none of them ever sees a traceback. The CLI,
the MCP server, the report commands, data inspection and the model list all build
their errors here, so the shape cannot drift between surfaces.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from oceansr.runs import (
    CorruptRunFileError,
    InvalidRunIdError,
    RunLockTimeoutError,
    RunNotFoundError,
    RunPaths,
    default_runs_root,
    is_valid_run_id,
    to_jsonable,
)
from oceansr.runs.errorfile import scrub_tracebacks
from oceansr.runs.failures import classify_exception, error_summary

JsonDict = dict[str, Any]
F = TypeVar("F", bound=Callable[..., JsonDict])


class RequestError(ValueError):
    """A bad argument to an API call; becomes a ``config_error`` reply.

    ``field`` names the argument; without ``suggestions`` the reply advises calling the
    same function again with a valid value of it, never the training-override advice
    of the taxonomy, which would not fit e.g. a bad ``offset`` to ``logs``.
    """

    def __init__(
        self,
        message: str,
        *,
        suggestions: Sequence[str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions or [])
        self.field = field


def request_advice(exc: RequestError, call: str | None) -> list[str]:
    """The suggestions of a bad-argument reply: the error's own, else ones that fit
    the call that failed (its name and the argument to fix)."""
    if exc.suggestions:
        return exc.suggestions
    where = f"{call}()" if call else "the call"
    if exc.field:
        return [f"call {where} again with a valid {exc.field} (see the message)"]
    return [f"call {where} again with the arguments corrected as the message says"]


def error_reply(
    failure_type: str,
    message: str,
    *,
    process_id: str | None = None,
    suggestions: Sequence[str] | None = None,
    **extra: Any,
) -> JsonDict:
    """An error reply of ``failure_type`` (a name from the failure taxonomy)."""
    summary = error_summary(failure_type, message, suggestions=list(suggestions or []) or None)
    reply = {"status": "error", "process_id": process_id, "error_summary": summary, **extra}
    return to_jsonable(reply)


def exception_reply(
    exc: BaseException,
    *,
    process_id: str | None = None,
    runs_root: Any = None,
    call: str | None = None,
) -> JsonDict:
    """The error reply for ``exc`` raised by ``call``: run-file problems get specific
    advice, anything else is classified from the exception object (never a traceback
    in the reply)."""
    process_id = process_id if is_valid_run_id(process_id) else None
    if isinstance(exc, InvalidRunIdError):
        return error_reply("config_error", str(exc), suggestions=[list_hint(runs_root)])
    if isinstance(exc, RunNotFoundError):
        return error_reply(
            "config_error",
            f"no run {exc.run_id!r} under {Path(str(exc.run_dir)).parent}",
            process_id=process_id,
            suggestions=[list_hint(runs_root), "check runs_root / OCEANSR_RUNS"],
        )
    if isinstance(exc, RequestError):
        reply = error_reply(
            "config_error",
            str(exc),
            process_id=process_id,
            suggestions=request_advice(exc, call),
        )
        if exc.field:
            reply["error_summary"]["field"] = exc.field
        return reply
    if isinstance(exc, CorruptRunFileError):
        return error_reply(
            "data_invalid",
            f"the run directory is damaged: {exc}",
            process_id=process_id,
            suggestions=["inspect the run directory; run files are plain JSON"],
        )
    if isinstance(exc, RunLockTimeoutError):
        return error_reply(
            "unknown",
            str(exc),
            process_id=process_id,
            suggestions=["retry in a moment; check for a hung process holding <run>/.lock"],
        )
    summary = classify_exception(exc)
    reply = to_jsonable({"status": "error", "process_id": process_id, "error_summary": summary})
    # The adapters call this directly too (report, data inspection): the traceback goes
    # to a file there as well, never into the reply.
    where = _run_dir_of(reply, process_id, runs_root)
    return scrub_tracebacks(reply, where, runs_root=_root_of(runs_root))


def list_hint(root: Any) -> str:
    """Where to find valid run ids (for replies about an unknown or malformed id)."""
    where = "" if root is None else f"runs_root={str(root)!r}"
    return f"list_runs({where}) (CLI: oceansr list) shows the known runs"


def _run_dir_of(reply: Any, process_id: Any, root: Any) -> Path | None:
    """The run directory a reply is about, for its ``error.txt`` (None: no run)."""
    run_dir = reply.get("run_dir") if isinstance(reply, Mapping) else None
    if isinstance(run_dir, str):
        return Path(run_dir)
    pid = reply.get("process_id") if isinstance(reply, Mapping) else None
    pid = pid if is_valid_run_id(pid) else process_id
    if not is_valid_run_id(pid):
        return None
    return RunPaths.for_id(str(pid), None if root is None else Path(str(root))).dir


def _root_of(root: Any) -> Path:
    """The runs root a call used: its ``runs_root`` argument, else the default one."""
    return default_runs_root() if root is None else Path(str(root)).expanduser().absolute()


def _id_of(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    return kwargs.get("process_id", args[0] if args else None)


def replies(func: F) -> F:
    """Turn every exception of ``func`` into an error reply (adapters must never see a
    traceback); a normal result is made JSON-ready."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> JsonDict:
        process_id, root = _id_of(args, kwargs), kwargs.get("runs_root")
        try:
            reply = to_jsonable(func(*args, **kwargs))
        except Exception as exc:
            reply = exception_reply(exc, process_id=process_id, runs_root=root, call=func.__name__)
        # Errors of no run keep their traceback under this call's runs root (.errors/).
        where = _run_dir_of(reply, process_id, root)
        return scrub_tracebacks(reply, where, runs_root=_root_of(root))

    return wrapper  # type: ignore[return-value]


def ok_reply(**fields: Any) -> JsonDict:
    """A successful reply of a non-run call (model list, data inspection, report files)."""
    return to_jsonable({**fields, "status": "ok"})
