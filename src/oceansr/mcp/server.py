"""MCP server (stdio) for LLM agents: a thin adapter over :mod:`oceansr.control`.

Every tool returns the same JSON dict as the Python API it wraps (compacted where an
agent's context would otherwise fill up), never raises into the protocol: bad input
becomes ``{"status": "error", "error_summary": {...}}``. Long calls (start, wait,
predict) run in a worker thread while the tool sends progress notifications.

Runs started here use ``on_exit="terminate"`` unless the server was started with
``--keep-runs``: each trainer watches this process and stops gracefully (checkpoint,
status ``killed``) when the server exits — stdin closed, SIGTERM or SIGKILL alike.
The trainers live in their own sessions, so the MCP client's SIGKILL of the server's
process group 2-4 s after closing does not reach them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer

from oceansr import control
from oceansr.control.options import options_to_overrides
from oceansr.control.replies import error_reply, exception_reply, ok_reply
from oceansr.runs import validate_run_id

INSTRUCTIONS = """\
oceansr trains ocean super-resolution models (coarse -> fine gridded ocean fields) in the
background. Working rules:
1. When the user writes again after a while, call ocean_sr_train_status(action="list") first
   to see what is running or finished.
2. Right after ocean_sr_train_start returns "started", call ocean_sr_train_status with
   action="wait" (it long-polls and sends progress) until the run is terminal.
3. When a run completes, show its test metrics next to the bicubic baseline (rmse vs
   rmse_bicubic, gain) and offer ocean_sr_train_visualize (plots) and
   ocean_sr_train_report (Markdown/HTML report).
4. When a run fails, show error_summary.failureType, message and suggestions, and ASK the
   user before retrying: never retry on your own.
5. Check unfamiliar data with ocean_sr_check_data before training on it.
"""

STATUS_ACTIONS = ("status", "logs", "wait", "kill", "list")
MCP_LOG_CAP = 16_384  # bytes of log per reply: enough to diagnose, small for a context
PROGRESS_EVERY_S = 1.0

Describer = Callable[[], tuple[float | None, str]]
ToolFn = Callable[..., Awaitable[dict[str, Any]]]


def compact_status(reply: dict[str, Any]) -> dict[str, Any]:
    """Headline metrics only (per-variable keys stay in status.json and metrics.csv)."""
    out = dict(reply)
    metrics = out.get("metrics")
    if isinstance(metrics, dict):
        out["metrics"] = {
            name: {k: v for k, v in (values or {}).items() if k.count("/") <= 1}
            for name, values in metrics.items()
        }
    if isinstance(out.get("test_metrics"), dict):
        out["test_metrics"] = {k: v for k, v in out["test_metrics"].items() if k.count("/") <= 1}
    summary = out.get("error_summary")
    if isinstance(summary, dict):
        out["error_summary"] = {
            **summary,
            "traceback_tail": (summary.get("traceback_tail") or "")[-1500:] or None,
            "log_tail": (summary.get("log_tail") or "")[-1500:] or None,
        }
    return out


async def run_with_progress(
    ctx: Context | None,
    work: Callable[[], dict[str, Any]],
    describe: Describer,
) -> dict[str, Any]:
    """Run blocking ``work`` in a thread, sending a progress notification every second."""
    result: dict[str, Any] = {}

    async def runner() -> None:
        result.update(await anyio.to_thread.run_sync(work))

    async with anyio.create_task_group() as group:
        group.start_soon(runner)
        tick = 0
        while not result:
            await anyio.sleep(PROGRESS_EVERY_S)
            if result or ctx is None:
                continue
            tick += 1
            percent, message = await anyio.to_thread.run_sync(describe)
            try:
                await ctx.report_progress(percent if percent is not None else tick, 100, message)
            except Exception:  # a client without progress support must not break the call
                ctx = None
    return result


def progress_of(
    process_id: str | None, runs_root: str | None
) -> Callable[[], tuple[float | None, str]]:
    """A describer for :func:`run_with_progress` reading the run's status.json."""

    def describe() -> tuple[float | None, str]:
        if not process_id:
            return None, "starting"
        doc = control.status(process_id, runs_root=runs_root)
        progress = doc.get("progress") or {}
        message = f"{doc.get('status')} / {doc.get('phase')}"
        if progress.get("step") is not None:
            message += (
                f" - epoch {progress.get('epoch')}/{progress.get('total_epochs')}"
                f" step {progress.get('step')}/{progress.get('total_steps')}"
            )
        return progress.get("percent"), message

    return describe


def safe_tool(
    fn: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """No exception reaches the agent as a protocol error or a traceback dump: it comes
    back as the control plane's error reply (classified, with suggestions)."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            return exception_reply(exc, process_id=kwargs.get("process_id"))

    return wrapper


def build_server(*, runs_root: str | None = None, keep_runs: bool = False) -> MCPServer:
    """The oceansr MCP server; runs it starts stop with it unless ``keep_runs``."""
    on_exit = "keep" if keep_runs else "terminate"
    server = MCPServer("oceansr", instructions=INSTRUCTIONS)

    _add_train_start(server, runs_root, on_exit)
    _add_train_status(server, runs_root)
    _add_info_tools(server)
    _add_report_tools(server, runs_root)
    _add_predict(server, runs_root, on_exit)
    return server


def _add_train_start(server: MCPServer, runs_root: str | None, on_exit: str) -> None:
    """ocean_sr_train_start: validate, launch, await training_start."""

    @server.tool(
        name="ocean_sr_train_start",
        description=(
            "Start an ocean super-resolution training in the background. Validates the "
            "config and data first (errors come back at once, nothing started), then waits "
            "for the run's training_start (progress notifications meanwhile). Returns "
            "{status: 'started', process_id, run_dir, ...} or {status: 'error', "
            "error_summary: {failureType, message, suggestions}}. Next: call "
            "ocean_sr_train_status(action='wait'). model: srcnn | edsr_baseline | edsr | "
            "swinir_light | swinir. data: sample (bundled World Ocean Atlas temperature) | "
            "xarray (NetCDF/Zarr at data_path) | npy | synthetic. overrides: any extra Hydra "
            "overrides, e.g. ['data.split.dim=time', 'optim.scheduler.name=step']. "
            "backend: local (default, a process next to this server) | slurm (an sbatch "
            "job; set partition/time/gres with overrides like 'launcher.time=01:00:00'). "
            "Slurm runs always use on_exit=keep: a cluster job outlives this server by "
            "design; stop it with action='kill'. A job still waiting in the queue at "
            "startup_timeout returns {status: 'queued', reason} (not an error)."
        ),
    )
    @safe_tool
    async def ocean_sr_train_start(
        model: str | None = None,
        data: str | None = None,
        data_path: str | None = None,
        variables: list[str] | None = None,
        scale: int | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        precision: str | None = None,
        devices: int | None = None,
        overrides: list[str] | None = None,
        startup_timeout: float = 300.0,
        backend: str = "local",
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        hydra = options_to_overrides(
            overrides,
            model=model,
            data=data,
            data_path=data_path,
            variables=variables,
            scale=scale,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            precision=precision,
            devices=devices,
        )
        started = time.monotonic()
        reply = await run_with_progress(
            ctx,
            lambda: control.start(
                hydra,
                runs_root=runs_root,
                startup_timeout=startup_timeout,
                # on_exit=terminate cannot reach a job on a compute node: keep for slurm.
                on_exit="keep" if backend == "slurm" else on_exit,
                backend=backend,
            ),
            lambda: (None, f"starting ({time.monotonic() - started:.0f} s)"),
        )
        return {**compact_status(reply), "overrides": hydra}


def _add_train_status(server: MCPServer, runs_root: str | None) -> None:
    """ocean_sr_train_status: status, logs, wait, kill and list in one tool."""

    @server.tool(
        name="ocean_sr_train_status",
        description=(
            "Inspect or steer runs. action='status' (default): the run's state, progress, "
            "metrics and suggested next calls. 'logs': train.log, last `tail` lines (default "
            "50) or from byte `offset` (feed back next_offset to continue). 'wait': long-poll "
            "until the status changes or `timeout` s (default 120) with progress "
            "notifications - call it right after a start and again until terminal. 'kill': "
            "stop gracefully (last.ckpt, resumable) after `grace` s at most. 'list': every "
            "run, newest first (optionally `status_filter`); call it first when the user "
            "comes back. A failed run carries error_summary: show it and ask before retrying."
        ),
    )
    @safe_tool
    async def ocean_sr_train_status(
        process_id: str | None = None,
        action: Literal["status", "logs", "wait", "kill", "list"] = "status",
        tail: int | None = None,
        offset: int | None = None,
        timeout: float = 120.0,
        grace: float = 30.0,
        status_filter: str | None = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        if action == "list":
            return control.list_runs(status=status_filter, runs_root=runs_root)
        if not process_id:
            return error_reply(
                "config_error",
                f"action={action!r} needs a process_id",
                suggestions=["call with action='list' to see the run ids"],
            )
        if action == "logs":
            return control.logs(
                process_id,
                tail=tail,
                offset=offset,
                max_bytes=MCP_LOG_CAP,
                runs_root=runs_root,
            )
        if action == "wait":
            reply = await run_with_progress(
                ctx,
                lambda: control.wait(process_id, timeout=timeout, runs_root=runs_root),
                progress_of(process_id, runs_root),
            )
            return compact_status(reply)
        if action == "kill":
            return compact_status(
                await anyio.to_thread.run_sync(
                    lambda: control.kill(process_id, grace=grace, runs_root=runs_root)
                )
            )
        return compact_status(control.status(process_id, runs_root=runs_root))


def _add_info_tools(server: MCPServer) -> None:
    """Tools that need no run: the model list, data inspection, accelerators."""

    @server.tool(
        name="ocean_sr_list_models",
        description="The model registry: name, family, description, parameter count, scales.",
    )
    @safe_tool
    async def ocean_sr_list_models() -> dict[str, Any]:
        from oceansr.models import list_models

        return ok_reply(models=list_models())

    @server.tool(
        name="ocean_sr_check_data",
        description=(
            "What a NetCDF file or Zarr store holds, before training on it: variables (dims, "
            "units, land fraction), grid (lat/lon, 1-D or curvilinear), sample dimensions, "
            "suitable scales, warnings (e.g. year-0000 time axes need decode_times=false)."
        ),
    )
    @safe_tool
    async def ocean_sr_check_data(path: str, decode_times: bool = True) -> dict[str, Any]:
        from oceansr.data.inspect import describe_dataset

        described = await anyio.to_thread.run_sync(
            lambda: describe_dataset(path, decode_times=decode_times)
        )
        return ok_reply(**described)

    @server.tool(
        name="ocean_sr_check_gpu",
        description="Accelerators with free/total memory (or CPU only) and library versions.",
    )
    @safe_tool
    async def ocean_sr_check_gpu() -> dict[str, Any]:
        from oceansr.system import accelerator_report

        return ok_reply(**accelerator_report())


def _add_report_tools(server: MCPServer, runs_root: str | None) -> None:
    """Plots and the report of a finished run."""

    @server.tool(
        name="ocean_sr_train_visualize",
        description=(
            "Plots of a finished run into <run>/plots/: loss and metric curves (bicubic level "
            "drawn), learning rate, val/test/bicubic comparison, summary card, sample maps "
            "(LR, bicubic, SR, HR, error) with land masked. Returns the file paths."
        ),
    )
    @safe_tool
    async def ocean_sr_train_visualize(process_id: str, num_maps: int = 2) -> dict[str, Any]:
        from oceansr.report import make_plots

        validate_run_id(process_id)  # ids only: no paths from an agent
        made = await anyio.to_thread.run_sync(
            lambda: make_plots(process_id, runs_root=runs_root, num_maps=num_maps)
        )
        return ok_reply(**{**made, "run_status": made.get("status"), "process_id": process_id})

    @server.tool(
        name="ocean_sr_train_report",
        description=(
            "Write <run>/report.md and a self-contained report.html for a finished run "
            "(config, data, timeline, curves, val/test metrics vs bicubic, checkpoints, "
            "compute cost, analysis, a Notes section). Returns the paths."
        ),
    )
    @safe_tool
    async def ocean_sr_train_report(process_id: str) -> dict[str, Any]:
        from oceansr.report import make_report

        validate_run_id(process_id)  # ids only: no paths from an agent
        made = await anyio.to_thread.run_sync(lambda: make_report(process_id, runs_root=runs_root))
        return ok_reply(**{**made, "run_status": made.get("status"), "process_id": process_id})


def _add_predict(server: MCPServer, runs_root: str | None, on_exit: str) -> None:
    """ocean_sr_predict: a predict run, awaited to its end."""

    @server.tool(
        name="ocean_sr_predict",
        description=(
            "Super-resolve an LR-only NetCDF/Zarr file with a trained run's best checkpoint "
            "(or `checkpoint` path) into a CF NetCDF/Zarr on the HR grid (tiled, seamless). "
            "Runs in the background as a predict run; waits for it to finish up to `timeout` "
            "s with progress notifications. Returns the output path and per-variable stats."
        ),
    )
    @safe_tool
    async def ocean_sr_predict(
        input_path: str,
        process_id: str | None = None,
        checkpoint: str | None = None,
        output_path: str | None = None,
        variables: list[str] | None = None,
        hr_mask: str | None = None,
        timeout: float = 600.0,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        reply = await anyio.to_thread.run_sync(
            lambda: control.start_predict(
                input_path,
                train_run=process_id,
                checkpoint=checkpoint,
                output=output_path,
                variables=variables,
                hr_mask=hr_mask,
                runs_root=runs_root,
                on_exit=on_exit,
            )
        )
        if reply.get("status") != "started":
            return compact_status(reply)
        predict_id = reply["process_id"]
        final = await run_with_progress(
            ctx,
            lambda: control.wait(
                predict_id, timeout=timeout, until="terminal", runs_root=runs_root
            ),
            progress_of(predict_id, runs_root),
        )
        return compact_status(final)


def serve(*, runs_root: str | None = None, keep_runs: bool = False) -> None:
    """Run the server on stdio until the client closes it."""
    build_server(runs_root=runs_root, keep_runs=keep_runs).run("stdio")
