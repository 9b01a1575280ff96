"""MCP server (stdio) for LLM agents: a thin adapter over :mod:`oceansr.control`.

Every tool answers with the control plane's JSON reply, compacted for an agent's
context and serialised without indentation (:mod:`oceansr.adapters.mcp.shape`), in the server's
language (``lang``: en or zh; JSON keys and enum values never change). Nothing raises
into the protocol: bad input becomes ``{"status": "error", "error_summary": {...}}``,
argument errors included (:mod:`oceansr.adapters.mcp.gate`). Long calls (start, wait,
predict) run in a worker thread while the tool sends progress notifications; they
return as soon as the work is done (no polling floor), and end at once when the client
cancels the call or goes away (:func:`run_with_progress`).

The agent protocol (working rules 1-7) is stated in the server instructions and tool
descriptions, from the message catalogue :mod:`oceansr.i18n`.

Runs started here use ``on_exit="terminate"`` unless the server was started with
``--keep-runs``: each trainer watches this process and stops gracefully (checkpoint,
status ``killed``, kill_reason ``controller_exit``) when the server exits. The trainers
live in their own sessions, so the MCP client's SIGKILL of the server's process group
does not reach them.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations

from oceansr import control
from oceansr.config.basedir import base_dir as find_base
from oceansr.config.basedir import resolve
from oceansr.control import Confinement
from oceansr.control.options import options_to_overrides
from oceansr.control.replies import error_reply, exception_reply, ok_reply
from oceansr.i18n import resolve_lang, state_word, text
from oceansr.runs import validate_run_id

from .boundary import Boundary
from .gate import OceanSRServer
from .params import (
    ACTION_HINTS,
    ACTION_HINTS_KEY,
    Action,
    BackendName,
    BatchSize,
    Checkpoint,
    Data,
    DataPath,
    DecodeTimes,
    Devices,
    Epochs,
    Grace,
    HrMask,
    Lang,
    LearningRate,
    Limit,
    Model,
    NumMaps,
    Offset,
    Output,
    Overrides,
    Overwrite,
    PathArg,
    Precision,
    PredictInput,
    PredictRun,
    PredictTimeout,
    ProcessId,
    ResumeOverrides,
    RunId,
    Scale,
    StartupTimeout,
    StatusFilter,
    Tail,
    Timeout,
    Variables,
)
from .shape import LIST_LIMIT, compact_reply, to_result

MCP_LOG_CAP = 16_384  # bytes of log per reply: enough to diagnose, small for a context
PROGRESS_EVERY_S = 1.0
WAIT_POLL_S = 0.05  # status.json polling of `wait` over MCP (wake-up p95 <= 150 ms)

Describer = Callable[[], tuple[float, float, str]]
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def compact_status(reply: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Headline metrics only (per-variable keys stay in status.json and metrics.csv)."""
    return compact_reply(reply, lang)


Work = Callable[[threading.Event], dict[str, Any]]


async def run_with_progress(ctx: Context | None, work: Work, describe: Describer) -> dict[str, Any]:
    """Run blocking ``work(cancel)`` in a thread; return the moment it is done, and send a
    progress notification every :data:`PROGRESS_EVERY_S` while it runs.

    A cancelled call (``notifications/cancelled``, or the client's EOF, on which the SDK
    cancels every in-flight handler) sets ``cancel`` (``control.wait`` returns within one
    poll) and returns at once: the thread is a daemon, not one of anyio's workers, whose
    join would hold a cancelled call, and with it the server's exit, until the work ends
    by itself (an hour for ``wait(timeout=3600)``, while its runs under on_exit=terminate
    kept training).
    """
    cancel = threading.Event()
    finished = anyio.Event()
    token = anyio.lowlevel.current_token()
    result: dict[str, Any] = {}
    failure: list[Exception] = []

    def body() -> None:
        try:
            result.update(work(cancel))
        except Exception as exc:  # re-raised in the caller, which classifies it
            failure.append(exc)
        finally:
            with contextlib.suppress(Exception):  # the loop may be gone (server exiting)
                anyio.from_thread.run_sync(finished.set, token=token)

    threading.Thread(target=body, name="oceansr-mcp-call", daemon=True).start()
    try:
        while not finished.is_set():
            with anyio.move_on_after(PROGRESS_EVERY_S):
                await finished.wait()
            if finished.is_set() or ctx is None:
                continue
            progress, total, message = await anyio.to_thread.run_sync(describe)
            try:
                await ctx.report_progress(progress, total, message)
            except Exception:  # a client without progress support must not break the call
                ctx = None
    finally:
        cancel.set()  # done, or the call was cancelled: either way the work may stop
    if failure:
        raise failure[0]
    return result


def progress_of(process_id: str, runs_root: str | None, lang: str = "en") -> Describer:
    """A describer for :func:`run_with_progress`: percent of the run from status.json."""

    def describe() -> tuple[float, float, str]:
        doc = control.status(process_id, runs_root=runs_root)
        progress = doc.get("progress") or {}
        message = text(
            "progress.run",
            lang,
            status=state_word(doc.get("status"), lang),
            phase=state_word(doc.get("phase"), lang),
        )
        if progress.get("step") is not None:
            message += text(
                "progress.epoch",
                lang,
                epoch=progress.get("epoch"),
                total=progress.get("total_epochs"),
                step=progress.get("step"),
                total_steps=progress.get("total_steps"),
            )
        return float(progress.get("percent") or 0.0), 100.0, message

    return describe


def as_started(reply: dict[str, Any], runs_root: str | None, lang: str) -> dict[str, Any]:
    """A start or resume reply in the agent protocol's states: the Python API's
    ``starting`` (the start-up timeout passed, the process is alive and still preparing)
    is ``started`` over MCP, with the run's phase and progress and a message saying so;
    ``run_status`` keeps the run's own state. The protocol knows no ``starting``. A
    ``queued`` reply (a Slurm job still waiting) gets its message in ``lang``."""
    if reply.get("status") == "queued":  # the API's message is English prose
        return {**reply, "message": text("start.queued", lang, reason=reply.get("reason"))}
    if reply.get("status") != "starting":
        return reply
    doc = control.status(str(reply.get("process_id")), runs_root=runs_root)
    phase = doc.get("phase") or reply.get("phase") or "starting"
    waited = f"{float(doc.get('duration_s') or 0):.0f}"
    preparing = doc.get("data_progress") or reply.get("data_progress")
    if isinstance(preparing, dict):  # the statistics pass: say how far it is
        message = text(
            "start.preparing",
            lang,
            read=preparing.get("fields_read"),
            total=preparing.get("fields_total"),
            seconds=waited,
        )
    else:
        message = text("start.slow", lang, phase=state_word(phase, lang), seconds=waited)
    return {
        **reply,
        "status": "started",
        "phase": phase,
        "progress": doc.get("progress") or reply.get("progress"),
        **({"data_progress": preparing} if isinstance(preparing, dict) else {}),
        "message": message,
    }


def startup_progress(limit: float, lang: str) -> Describer:
    """Seconds waited out of the start-up timeout (total = the timeout, not 100)."""
    began = time.monotonic()

    def describe() -> tuple[float, float, str]:
        waited = time.monotonic() - began
        message = text("progress.starting", lang, seconds=f"{waited:.0f}", limit=f"{limit:.0f}")
        return min(waited, limit), limit, message

    return describe


def safe_tool(
    lang: str, runs_root: str | None = None
) -> Callable[[Callable[..., Awaitable[dict[str, Any]]]], Callable[..., Awaitable[CallToolResult]]]:
    """A tool body's dict becomes a compact, localized result; no exception reaches the
    agent as a protocol error or a traceback (it becomes a classified error reply; the
    traceback goes to the private error folder of the server's ``runs_root``)."""

    def decorate(
        fn: Callable[..., Awaitable[dict[str, Any]]],
    ) -> Callable[..., Awaitable[CallToolResult]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
            try:
                reply = await fn(*args, **kwargs)
            except Exception as exc:
                reply = exception_reply(
                    exc, process_id=kwargs.get("process_id"), runs_root=runs_root
                )
            return to_result(compact_reply(reply, kwargs.get("lang") or lang))

        wrapper.__annotations__ = {**fn.__annotations__, "return": CallToolResult}
        return wrapper

    return decorate


def build_server(
    *,
    runs_root: str | None = None,
    keep_runs: bool = False,
    lang: str | None = None,
    base_dir: str | None = None,
    allow_dirs: Sequence[str] = (),
) -> OceanSRServer:
    """The oceansr MCP server; runs it starts stop with it unless ``keep_runs``.

    Relative paths the tools are given resolve against ``base_dir`` (else
    ``$OCEANSR_BASE_DIR``, else the server's working directory; :mod:`oceansr.config.basedir`),
    fixed when the server is built so every call means the same place. Every path an
    agent names must stay inside the runs root, the base directory and ``allow_dirs``
    (:mod:`oceansr.adapters.mcp.boundary`).
    """
    chosen = resolve_lang(lang)
    base = find_base(base_dir)
    on_exit = "keep" if keep_runs else "terminate"
    boundary = Boundary(runs_root, base, tuple(find_base(d) for d in allow_dirs))
    server = OceanSRServer(
        "oceansr", instructions=text("mcp.instructions", chosen), lang=chosen, runs_root=runs_root
    )
    _add_train_start(server, runs_root, on_exit, boundary)
    _add_train_status(server, runs_root, on_exit, boundary)
    _add_info_tools(server, boundary)
    _add_report_tools(server, runs_root)
    _add_predict(server, runs_root, on_exit, boundary)
    return server


def _tool(server: OceanSRServer, name: str, key: str, **options: Any) -> Callable[..., Any]:
    """Register a tool with its catalogue description; remembers its arguments."""

    def register(fn: Callable[..., Awaitable[dict[str, Any]]]) -> Any:
        wrapped = safe_tool(server.lang, server.runs_root)(fn)
        server.register(name, fn)
        return server.tool(name=name, description=text(key, server.lang), **options)(wrapped)

    return register


def _add_train_start(
    server: OceanSRServer, runs_root: str | None, on_exit: str, boundary: Boundary
) -> None:
    """ocean_sr_train_start: validate, launch, await training_start."""

    @_tool(server, "ocean_sr_train_start", "tool.start")
    async def ocean_sr_train_start(
        model: Model = None,
        data: Data = None,
        data_path: DataPath = None,
        variables: Variables = None,
        scale: Scale = None,
        epochs: Epochs = None,
        batch_size: BatchSize = None,
        learning_rate: LearningRate = None,
        precision: Precision = None,
        devices: Devices = None,
        overrides: Overrides = None,
        startup_timeout: StartupTimeout = 300.0,
        backend: BackendName = "local",
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        confine = boundary.confinement()
        hydra = options_to_overrides(
            overrides,
            model=model,
            data=data,
            data_path=resolve(data_path, boundary.base),
            variables=variables,
            scale=scale,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            precision=precision,
            devices=devices,
        )
        reply = await run_with_progress(
            ctx,
            lambda _cancel: control.start(
                hydra,
                runs_root=runs_root,
                startup_timeout=startup_timeout,
                # on_exit=terminate cannot reach a job on a compute node: keep for slurm.
                on_exit="keep" if backend == "slurm" else on_exit,
                backend=backend,
                confine=confine,
            ),
            startup_progress(startup_timeout, server.lang),
        )
        return {**as_started(reply, runs_root, server.lang), "overrides": hydra}


def _add_train_status(
    server: OceanSRServer, runs_root: str | None, on_exit: str, boundary: Boundary
) -> None:
    """ocean_sr_train_status: status, logs, wait, kill, list and resume in one tool."""

    @_tool(
        server,
        "ocean_sr_train_status",
        "tool.status",
        # Truthful for the tool as a whole (kill is destructive); per action in _meta.
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=False,
            open_world_hint=False,
        ),
        meta={ACTION_HINTS_KEY: ACTION_HINTS},
    )
    async def ocean_sr_train_status(
        process_id: ProcessId = None,
        action: Action = "status",
        tail: Tail = None,
        offset: Offset = None,
        timeout: Timeout = 120.0,
        grace: Grace = 30.0,
        status_filter: StatusFilter = None,
        limit: Limit = LIST_LIMIT,
        overrides: ResumeOverrides = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        lang = server.lang
        if overrides and action != "resume":
            return error_reply(
                "config_error",
                text("arg.resume_only", lang, action=repr(action)),
                suggestions=[text("arg.drop_overrides", lang, action=repr(action))],
            )
        if action == "list":
            return control.list_runs(status=status_filter, runs_root=runs_root, limit=limit)
        if not process_id:
            return error_reply(
                "config_error",
                text("arg.needs_id", lang, action=repr(action)),
                suggestions=[text("arg.list_ids", lang)],
            )
        confine = boundary.confinement() if action == "resume" else None
        where = Where(runs_root, on_exit, server.lang, tuple(overrides or ()), confine)
        return await _run_action(ctx, where, process_id, action, tail, offset, timeout, grace)


@dataclass(frozen=True)
class Where:
    """Where a server's runs live and how they end (shared by its per-run actions)."""

    runs_root: str | None
    on_exit: str
    lang: str
    #: resume: overrides that extend the run, e.g. ('trainer.max_epochs=40',)
    overrides: tuple[str, ...] = ()
    #: resume: where the new overrides' paths may lead
    confine: Confinement | None = None


async def _run_action(
    ctx: Context | None,
    where: Where,
    process_id: str,
    action: str,
    tail: int | None,
    offset: int | None,
    timeout: float,
    grace: float,
) -> dict[str, Any]:
    """One per-run action of ocean_sr_train_status."""
    runs_root, lang = where.runs_root, where.lang
    if action == "logs":
        return control.logs(
            process_id, tail=tail, offset=offset, max_bytes=MCP_LOG_CAP, runs_root=runs_root
        )
    if action == "wait":
        return await run_with_progress(
            ctx,
            lambda cancel: control.wait(
                process_id, timeout=timeout, poll=WAIT_POLL_S, runs_root=runs_root, cancel=cancel
            ),
            progress_of(process_id, runs_root, lang),
        )
    if action == "kill":
        return await anyio.to_thread.run_sync(
            lambda: control.kill(
                process_id,
                grace=grace,
                runs_root=runs_root,
                reason="kill requested by the user (MCP)",
            )
        )
    if action == "resume":
        reply = await run_with_progress(
            ctx,
            lambda _cancel: control.resume(
                process_id,
                runs_root=runs_root,
                on_exit=where.on_exit,
                overrides=list(where.overrides),
                confine=where.confine,
            ),
            startup_progress(300.0, lang),
        )
        return as_started(reply, runs_root, lang)
    return control.status(process_id, runs_root=runs_root)


def _add_info_tools(server: OceanSRServer, boundary: Boundary) -> None:
    """Tools that need no run: the model list, data inspection, accelerators."""

    @_tool(server, "ocean_sr_list_models", "tool.list_models", annotations=READ_ONLY)
    async def ocean_sr_list_models() -> dict[str, Any]:
        from oceansr.models import list_models

        return ok_reply(models=list_models())

    @_tool(server, "ocean_sr_check_data", "tool.check_data", annotations=READ_ONLY)
    async def ocean_sr_check_data(
        path: PathArg, decode_times: DecodeTimes = True
    ) -> dict[str, Any]:
        from oceansr.data.describe import describe_dataset

        inside = boundary.confinement().path("path", path)
        described = await anyio.to_thread.run_sync(
            lambda: describe_dataset(str(inside), decode_times=decode_times)
        )
        return ok_reply(**described)

    @_tool(server, "ocean_sr_check_gpu", "tool.check_gpu", annotations=READ_ONLY)
    async def ocean_sr_check_gpu() -> dict[str, Any]:
        from oceansr.engine.system import accelerator_report

        return ok_reply(**accelerator_report())


def _add_report_tools(server: OceanSRServer, runs_root: str | None) -> None:
    """Plots and the report of a finished run."""

    @_tool(server, "ocean_sr_train_visualize", "tool.visualize")
    async def ocean_sr_train_visualize(
        process_id: RunId, num_maps: NumMaps = 2, lang: Lang = None
    ) -> dict[str, Any]:
        from oceansr.report import make_plots

        validate_run_id(process_id)  # ids only: no paths from an agent
        made = await anyio.to_thread.run_sync(
            lambda: make_plots(
                process_id,
                runs_root=runs_root,
                num_maps=num_maps,
                lang=lang or server.lang,
                refresh=control.live,  # the run's backend judges it, never the report
            )
        )
        return ok_reply(**{**made, "run_status": made.get("status"), "process_id": process_id})

    @_tool(server, "ocean_sr_train_report", "tool.report")
    async def ocean_sr_train_report(process_id: RunId, lang: Lang = None) -> dict[str, Any]:
        from oceansr.report import make_report

        validate_run_id(process_id)  # ids only: no paths from an agent
        made = await anyio.to_thread.run_sync(
            lambda: make_report(
                process_id, runs_root=runs_root, lang=lang or server.lang, refresh=control.live
            )
        )
        return ok_reply(**{**made, "run_status": made.get("status"), "process_id": process_id})


def _add_predict(
    server: OceanSRServer, runs_root: str | None, on_exit: str, boundary: Boundary
) -> None:
    """ocean_sr_predict: a predict run, awaited to its end."""

    @_tool(server, "ocean_sr_predict", "tool.predict")
    async def ocean_sr_predict(
        input: PredictInput,
        run: PredictRun = None,
        checkpoint: Checkpoint = None,
        output: Output = None,
        variables: Variables = None,
        hr_mask: HrMask = None,
        timeout: PredictTimeout = 600.0,
        overwrite: Overwrite = False,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        confine = boundary.confinement()
        reply = await anyio.to_thread.run_sync(
            lambda: control.start_predict(
                input,
                run=run,
                checkpoint=checkpoint,
                output=output,
                variables=variables,
                hr_mask=hr_mask,
                runs_root=runs_root,
                on_exit=on_exit,
                overwrite=overwrite,
                base_dir=boundary.base,
                confine=confine,
            )
        )
        if reply.get("status") not in ("started", "starting"):  # starting: wait on
            return reply
        predict_id = reply["process_id"]
        done = await run_with_progress(
            ctx,
            lambda cancel: control.wait(
                predict_id,
                timeout=timeout,
                poll=WAIT_POLL_S,
                until="terminal",
                runs_root=runs_root,
                cancel=cancel,
            ),
            progress_of(predict_id, runs_root, server.lang),
        )
        # What the checks before spawning found (resolution): kept in the final reply.
        return {**done, "warnings": reply["warnings"]} if reply.get("warnings") else done


def serve(
    *,
    runs_root: str | None = None,
    keep_runs: bool = False,
    lang: str | None = None,
    base_dir: str | None = None,
    allow_dirs: Sequence[str] = (),
) -> None:
    """Run the server on stdio until the client closes it."""
    server = build_server(
        runs_root=runs_root,
        keep_runs=keep_runs,
        lang=lang,
        base_dir=base_dir,
        allow_dirs=allow_dirs,
    )
    try:
        server.run("stdio")
    except* (BrokenPipeError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass  # the client went away while a reply was being written: no one to answer
