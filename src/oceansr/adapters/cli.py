"""``oceansr`` command line: a thin adapter over :mod:`oceansr.control`.

Every command calls one control function; ``--json`` prints that function's reply
dict exactly (``json.dumps``), otherwise a compact human view (rich). The exit code is
1 when the reply is an error, 2 for a usage error, else 0.

    oceansr start experiment=smoke model=edsr_baseline       # waits for training_start
    oceansr start -m model=srcnn,edsr_baseline seed=1,2      # sweep: 4 runs, ids at once
    oceansr status ID | logs ID --tail 100 | logs ID --follow | wait ID | kill ID
    oceansr list --status running | resume ID

Importing this module loads no torch, Hydra or rich (each is imported where used), so
``oceansr status`` answers in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from oceansr import control
from oceansr.config.schema import predict_defaults
from oceansr.control.launch import WHOLE_FIELD
from oceansr.control.replies import exception_reply, ok_reply
from oceansr.core.metric_names import METRIC_NAMES, gain_key, strongest_baseline, verdict_text
from oceansr.runs import is_terminal

_STATUS_STYLE = {
    "pending": "yellow",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "killed": "magenta",
    "error": "bold red",
}


# --------------------------------------------------------------------------- parser


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API reply as JSON")
    common.add_argument(
        "--runs-root",
        dest="runs_root_sub",
        metavar="DIR",
        default=None,
        help="runs directory (default $OCEANSR_RUNS or ./runs)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oceansr",
        description="Run ocean super-resolution trainings in the background and steer them.",
    )
    parser.add_argument(
        "--runs-root", metavar="DIR", default=None, help="runs directory (default $OCEANSR_RUNS)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()

    _add_start(sub, common)
    _add_run_commands(sub, common)
    _add_tool_commands(sub, common)
    return parser


def _add_start(sub: Any, common: argparse.ArgumentParser) -> None:
    """``start`` (and its sweep form ``start -m``)."""
    p = sub.add_parser(
        "start",
        parents=[common],
        help="start a training run (Hydra overrides)",
        description="Start a training run in the background; waits for training_start.",
    )
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=srcnn")
    p.add_argument(
        "-m",
        "--multirun",
        action="store_true",
        help="sweep: a,b,c values expand to one run per combination (ids returned at once)",
    )
    p.add_argument("--no-wait", action="store_true", help="return without awaiting training_start")
    p.add_argument(
        "--follow",
        action="store_true",
        help="after the start, wait for the end with a progress bar and show the final status",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=control.DEFAULT_STARTUP_TIMEOUT_S,
        metavar="S",
        help="seconds to await training_start (default %(default)g)",
    )
    p.add_argument(
        "--on-exit",
        choices=("keep", "terminate"),
        default="keep",
        help="keep (default): the run outlives this command; terminate: stop it when "
        "this command exits",
    )
    p.add_argument(
        "--backend",
        choices=("local", "slurm"),
        default="local",
        help="local (default): a process on this machine; slurm: an sbatch job per run "
        "(same as the override launcher=slurm; launcher.* sets partition, time, ...)",
    )


def _add_run_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Commands that steer one run or list them: status, logs, wait, kill, list, resume."""
    p = sub.add_parser("status", parents=[common], help="status of a run")
    p.add_argument("process_id", metavar="ID")

    p = sub.add_parser("logs", parents=[common], help="train.log of a run")
    p.add_argument("process_id", metavar="ID")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tail", type=int, default=None, metavar="N", help="last N lines (50)")
    where.add_argument("--offset", type=int, default=None, metavar="N", help="from byte N")
    p.add_argument(
        "--max-bytes", type=int, default=control.DEFAULT_MAX_BYTES, metavar="N", help="reply cap"
    )
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")

    p = sub.add_parser("wait", parents=[common], help="wait for a run to finish (progress bar)")
    p.add_argument("process_id", metavar="ID")
    p.add_argument("--timeout", type=float, default=control.DEFAULT_WAIT_TIMEOUT_S, metavar="S")
    p.add_argument(
        "--until",
        choices=("terminal", "change"),
        default="terminal",
        help="terminal (default): until completed/failed/killed; change: next status change",
    )

    p = sub.add_parser("kill", parents=[common], help="stop a run (checkpointed, resumable)")
    p.add_argument("process_id", metavar="ID")
    p.add_argument(
        "--grace",
        type=float,
        default=control.DEFAULT_KILL_GRACE_S,
        metavar="S",
        help="seconds between SIGTERM and SIGKILL (default %(default)g)",
    )

    p = sub.add_parser("list", parents=[common], help="runs under the runs root, newest first")
    p.add_argument("--status", default=None, help="only these states (comma-separated)")
    p.add_argument("--limit", type=int, default=None, metavar="N")

    p = sub.add_parser("resume", parents=[common], help="continue a killed/failed run")
    p.add_argument("process_id", metavar="ID")
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="overrides that extend the run, e.g. trainer.max_epochs=8",
    )
    p.add_argument("--no-wait", action="store_true")
    p.add_argument("--timeout", type=float, default=control.DEFAULT_STARTUP_TIMEOUT_S, metavar="S")


_BASE_HELP = "relative paths resolve here (default $OCEANSR_BASE_DIR, else the working directory)"


def _add_tool_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Commands beyond run steering: predict, report, mcp."""
    p = sub.add_parser(
        "predict",
        parents=[common],
        help="super-resolve an LR NetCDF/Zarr file (background predict run)",
        description="Start a predict run: the best checkpoint of --run (or --checkpoint) applied "
        "to an LR-only NetCDF/Zarr file, tiled, written as CF NetCDF/Zarr on the HR grid. "
        "Options have the names of `python -m oceansr.predict` (checkpoint, run, input, ...).",
    )
    p.add_argument("input", metavar="INPUT", help="LR NetCDF file or Zarr store")
    p.add_argument("--run", metavar="ID", help="training run whose best checkpoint to use")
    p.add_argument("--checkpoint", metavar="CKPT", help="explicit .ckpt path")
    p.add_argument("--output", metavar="PATH", help="*.nc or *.zarr (default: in the run dir)")
    p.add_argument("--variables", nargs="+", metavar="VAR")
    p.add_argument("--hr-mask", metavar="PATH", help="file whose NaNs mark HR land")
    predict_yaml = predict_defaults()
    p.add_argument(
        "--tile",
        type=_tile,
        metavar="N|null",
        help=f"LR tile size, or null for whole fields (default {predict_yaml['tile']})",
    )
    p.add_argument(
        "--overlap", type=int, metavar="N", help=f"LR overlap (default {predict_yaml['overlap']})"
    )
    p.add_argument("--follow", action="store_true", help="wait for the end with a progress bar")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    p.add_argument("--base-dir", metavar="DIR", help=_BASE_HELP)

    p = sub.add_parser(
        "report",
        parents=[common],
        help="plots and the Markdown/HTML report of a finished run",
        description="`report plots ID` writes <run>/plots/*.png; `report build ID` writes "
        "<run>/report.md and report.html (with the plots).",
    )
    p.add_argument("what", choices=("plots", "build"))
    p.add_argument("process_id", metavar="ID")
    p.add_argument("--num-maps", type=int, default=2, metavar="N", help="sample maps (plots)")
    p.add_argument("--lang", choices=("en", "zh"), help="plot titles/labels (or $OCEANSR_LANG)")

    p = sub.add_parser(
        "mcp",
        parents=[common],
        help="MCP server on stdio for LLM agents",
        description="Serve the oceansr tools over MCP (stdio). Runs it starts stop with it "
        "(gracefully, checkpointed) unless --keep-runs.",
    )
    p.add_argument("--keep-runs", action="store_true", help="let runs go on after the server exits")
    p.add_argument("--base-dir", metavar="DIR", help=_BASE_HELP)
    p.add_argument(
        "--allow-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="another directory the agent's paths may use (repeatable); the runs root, the "
        "base directory and the client's declared roots are always allowed",
    )
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        help="language of replies and descriptions (or $OCEANSR_LANG)",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Overrides may follow options (`start --no-wait model=srcnn`): keep them in order.
    if args.command == "start":
        flags = [item for item in extra if item.startswith("-")]
        if flags:
            parser.error(f"unrecognized arguments: {' '.join(flags)}")
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.runs_root = args.runs_root_sub or args.runs_root
    return args


# --------------------------------------------------------------------------- output


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output has no terminal width: do not squeeze tables into 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _print_json(reply: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _styled(state: Any) -> str:
    state = str(state)
    style = _STATUS_STYLE.get(state)
    return f"[{style}]{state}[/]" if style else state


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _eta(progress: dict[str, Any]) -> str:
    """``eta_s`` as h:mm:ss; before the first step, the reason there is none yet."""
    seconds = progress.get("eta_s")
    if not isinstance(seconds, (int, float)):
        return "after the first step" if progress.get("eta_pending") else "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _show_error(reply: dict[str, Any]) -> None:
    from rich.markup import escape

    console = _console(stderr=True)
    summary = reply.get("error_summary") or {}
    who = f" {reply['process_id']}" if reply.get("process_id") else ""
    console.print(f"[bold red]error{who}[/]: {escape(str(summary.get('failureType')))}")
    console.print(escape(str(summary.get("message") or "")))
    for suggestion in [*(summary.get("suggestions") or []), *(summary.get("advice") or [])]:
        console.print(f"  [cyan]→[/] {escape(str(suggestion))}")
    for item in reply.get("invalid") or []:
        message = (item.get("error_summary") or {}).get("message")
        console.print(f"  [red]✗[/] {escape(' '.join(item['overrides']))}: {escape(str(message))}")
    tail = reply.get("log_tail")
    if tail:
        lines = tail.rstrip("\n").splitlines()[-20:]
        console.print("[dim]--- last lines of train.log ---[/]")
        console.print(escape("\n".join(lines)), markup=True)


def _next_hint(reply: dict[str, Any]) -> str:
    words = []
    for call in reply.get("next") or []:
        action = call.get("action")
        if action in ("wait", "logs", "kill", "resume") and reply.get("process_id"):
            words.append(f"oceansr {action} {reply['process_id']}")
    return "   ".join(words)


def _handle(reply: dict[str, Any]) -> str:
    """How the run is addressed: its Slurm job (and queue reason) or its pid."""
    if reply.get("job_id"):
        reason = f" (queued: {reply['reason']})" if reply.get("reason") else ""
        return f"job {reply['job_id']}{reason}"
    return f"pid {reply.get('pid')}"


def _show_start(reply: dict[str, Any]) -> None:
    from rich.markup import escape

    console = _console()
    if reply.get("runs") is not None:  # sweep
        for run in reply["runs"]:
            if run.get("status") == "error":
                _show_error(run)
            else:
                console.print(f"{_styled(run['status'])}  {run['process_id']}  {_handle(run)}")
        console.print(f"{len(reply.get('process_ids') or [])} runs started")
        return
    state = reply.get("status")
    console.print(f"{_styled(state)}  {reply.get('process_id')}  {_handle(reply)}")
    info = reply.get("training_start") or {}
    if info:
        console.print(
            f"  model {info.get('model')}  params {info.get('params')}  "
            f"epochs {info.get('total_epochs')}  steps {info.get('total_steps')}  "
            f"device {info.get('device')}  (start-up {reply.get('startup_s')} s)"
        )
    if reply.get("message"):
        console.print(f"  {escape(reply['message'])}")
    console.print(f"  run dir {escape(str(reply.get('run_dir')))}")
    hint = _next_hint(reply)
    if hint:
        console.print(f"  [dim]{escape(hint)}[/]")


#: Test metrics shown by ``oceansr status``: all but the bias, which is signed and has no
#: meaningful gain over bicubic (it stays in ``--json``).
_SHOWN_METRICS = tuple(name for name in METRIC_NAMES if name != "bias")


def _metric_rows(reply: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    metrics = reply.get("metrics") or {}
    best = metrics.get("best") or {}
    if best.get("val/rmse") is not None:
        rows.append(
            (
                "best val RMSE",
                f"{_fmt(best.get('val/rmse'))} (bicubic {_fmt(best.get('val/rmse_bicubic'))},"
                f" spline {_fmt(best.get('val/rmse_spline'))}, epoch {best.get('epoch')})",
            )
        )
    test = reply.get("test_metrics") or metrics.get("test") or {}
    base = strongest_baseline(test, "test")
    units: dict[str, str] = reply.get("units") or {}
    # Per variable with its unit when known; else the headline (mean over variables).
    scopes = [(f"test/{var}", f" {var}", unit) for var, unit in units.items()] or [("test", "", "")]
    for prefix, label, unit in scopes:
        for name in _SHOWN_METRICS:
            value = test.get(f"{prefix}/{name}")
            if value is None:
                continue
            suffix = {"rmse": unit, "mae": unit, "psnr": "dB"}.get(name, "")
            suffix = f" {suffix}" if suffix else ""
            gain_unit = {"rmse": " %", "mae": " %", "psnr": " dB"}.get(name, "")
            gain = test.get(gain_key(prefix, name, base))
            rows.append(
                (
                    f"test{label} {name.upper()}",
                    f"{_fmt(value)}{suffix} (bicubic {_fmt(test.get(f'{prefix}/{name}_bicubic'))}"
                    f", spline {_fmt(test.get(f'{prefix}/{name}_spline'))}{suffix}; "
                    f"gain over {base} {_fmt(gain, 3)}{gain_unit})",
                )
            )
    verdict = reply.get("test_verdict")
    if isinstance(verdict, dict) and verdict.get("rmse_gain") is not None:
        rows.append(("test verdict", verdict_text(verdict)))
    if test.get("test/seam_ratio") is not None:
        rows.append(
            (
                "seam RMSE ratio",
                f"{_fmt(test.get('test/seam_ratio'), 3)} (bicubic "
                f"{_fmt(test.get('test/seam_ratio_bicubic'), 3)}; 1 = seam as good as interior)",
            )
        )
    return rows


def _show_status(reply: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    progress = reply.get("progress") or {}
    table.add_row("run", str(reply.get("process_id")))
    table.add_row("status", f"{_styled(reply.get('status'))} ({reply.get('phase')})")
    table.add_row(
        "progress",
        f"epoch {_fmt(progress.get('epoch'))}/{_fmt(progress.get('total_epochs'))}  "
        f"step {_fmt(progress.get('step'))}/{_fmt(progress.get('total_steps'))}  "
        f"{_fmt(progress.get('percent'))} %  eta {_eta(progress)}",
    )
    table.add_row("duration", f"{_fmt(reply.get('duration_s'))} s")
    if reply.get("job_id"):  # a scheduler's run is addressed by its job
        waiting = reply.get("queue_reason") if reply.get("status") == "queued" else None
        job = f"{reply['job_id']} (queued: {waiting})" if waiting else str(reply["job_id"])
        table.add_row("job", escape(job))
    if reply.get("pid") is not None or not reply.get("job_id"):
        table.add_row("pid", f"{reply.get('pid')} on {reply.get('host')}")
    killer = reply.get("kill_reason") or {}
    if killer:
        detail = f": {killer['detail']}" if killer.get("detail") else ""
        table.add_row("killed by", escape(f"{killer.get('by')}{detail}"))
    for name, value in _metric_rows(reply):
        table.add_row(name, value)
    summary = reply.get("error_summary") or {}
    if summary:
        table.add_row("failure", f"[red]{escape(str(summary.get('failureType')))}[/]")
        table.add_row("message", escape(str(summary.get("message"))))
        for suggestion in [*(summary.get("suggestions") or []), *(summary.get("advice") or [])]:
            table.add_row("", f"[cyan]→[/] {escape(str(suggestion))}")
    table.add_row("run dir", escape(str(reply.get("run_dir"))))
    console = _console()
    console.print(table)
    hint = _next_hint(reply)
    if hint:
        console.print(f"[dim]{escape(hint)}[/]")


def _show_list(reply: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("run", "status", "phase", "epoch", "%", "model", "val RMSE", "test RMSE",
                   "bicubic", "failure"):  # fmt: skip
        table.add_column(column)
    for row in reply.get("runs") or []:
        reason = row.get("queue_reason")
        table.add_row(
            str(row.get("process_id")),
            _styled(row.get("status")) + (escape(f" ({reason})") if reason else ""),
            _fmt(row.get("phase")),
            f"{_fmt(row.get('epoch'))}/{_fmt(row.get('total_epochs'))}",
            _fmt(row.get("percent")),
            _fmt(row.get("model")),
            _fmt(row.get("best_val_rmse")),
            _fmt(row.get("test_rmse")),
            _fmt(row.get("test_rmse_bicubic")),
            _fmt(row.get("failure_type")),
        )
    console = _console()
    if reply.get("count"):
        console.print(table)
    console.print(f"[dim]{reply.get('count')} runs in {reply.get('runs_root')}[/]")


def _show_kill(reply: dict[str, Any]) -> None:
    kill = reply.get("kill") or {}
    _console().print(
        f"{_styled(reply.get('status'))}  {reply.get('process_id')}  "
        f"({kill.get('signal')}, {kill.get('waited_s')} s"
        f"{', escalated to SIGKILL' if kill.get('escalated') else ''})"
    )


# --------------------------------------------------------------------------- commands


def _finish(reply: dict[str, Any], as_json: bool, show: Any) -> int:
    failed = reply.get("status") in ("error", "partial")
    if as_json:
        _print_json(reply)
    elif failed and not reply.get("runs"):
        _show_error(reply)
    else:
        show(reply)
        if failed and reply.get("runs"):
            return 1
    return 1 if failed else 0


def _follow_to_end(process_id: str, args: argparse.Namespace) -> int:
    """``--follow``: the ``wait`` command's progress bar until the run ends, then status."""
    follow = argparse.Namespace(
        process_id=process_id,
        timeout=float("inf"),
        until="terminal",
        runs_root=args.runs_root,
        json=args.json,
    )
    return _cmd_wait(follow)


def _cmd_start(args: argparse.Namespace) -> int:
    if args.multirun:
        reply = control.sweep(
            args.overrides, runs_root=args.runs_root, on_exit=args.on_exit, backend=args.backend
        )
    else:
        reply = control.start(
            args.overrides,
            runs_root=args.runs_root,
            wait_for_start=not args.no_wait,
            startup_timeout=args.timeout,
            on_exit=args.on_exit,
            backend=args.backend,
        )
    code = _finish(reply, args.json, _show_start)
    alive = reply.get("status") in ("started", "starting", "queued")
    if args.follow and not args.multirun and alive:
        code = _follow_to_end(reply["process_id"], args)
    return code


def _cmd_resume(args: argparse.Namespace) -> int:
    reply = control.resume(
        args.process_id,
        runs_root=args.runs_root,
        wait_for_start=not args.no_wait,
        startup_timeout=args.timeout,
        overrides=list(args.overrides),
    )
    return _finish(reply, args.json, _show_start)


def _cmd_status(args: argparse.Namespace) -> int:
    return _finish(
        control.status(args.process_id, runs_root=args.runs_root), args.json, _show_status
    )


def _cmd_list(args: argparse.Namespace) -> int:
    reply = control.list_runs(args.status, runs_root=args.runs_root, limit=args.limit)
    return _finish(reply, args.json, _show_list)


def _cmd_kill(args: argparse.Namespace) -> int:
    reply = control.kill(args.process_id, args.grace, runs_root=args.runs_root)
    return _finish(reply, args.json, _show_kill)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _cmd_logs(args: argparse.Namespace) -> int:
    def read(offset: int | None, tail: int | None) -> dict[str, Any]:
        return control.logs(args.process_id, tail, offset, args.max_bytes, runs_root=args.runs_root)

    reply = read(args.offset, args.tail)
    if reply.get("status") == "error" or not args.follow:
        return _finish(reply, args.json, lambda r: _write(r["content"]))
    emit = _print_json if args.json else (lambda r: _write(r["content"]))
    try:
        while True:
            emit(reply)
            if reply["eof"]:
                state = control.status(args.process_id, runs_root=args.runs_root).get("status")
                if is_terminal(state) or state == "error":
                    reply = read(reply["next_offset"], None)
                    if reply.get("content"):
                        emit(reply)
                    return 0
                time.sleep(0.5)
            reply = read(reply["next_offset"], None)
            if reply.get("status") == "error":
                return _finish(reply, args.json, lambda r: None)
    except KeyboardInterrupt:
        return 130


def _cmd_wait(args: argparse.Namespace) -> int:
    if args.json or args.timeout != args.timeout or args.timeout < 0:
        # NaN or a negative timeout: the API's own refusal, in human mode too.
        reply = control.wait(
            args.process_id, args.timeout, runs_root=args.runs_root, until=args.until
        )
        return _finish(reply, args.json, None)
    from rich.progress import BarColumn, Progress, TextColumn

    deadline = time.monotonic() + max(0.0, args.timeout)
    initial = None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, console=_console(), transient=False) as bar:
        task = bar.add_task(args.process_id, total=100.0, info="")
        while True:
            remaining = deadline - time.monotonic()
            reply = control.wait(
                args.process_id,
                max(0.0, min(1.0, remaining)),
                runs_root=args.runs_root,
                until="terminal",
            )
            if reply.get("status") == "error":
                break
            initial = initial or reply.get("previous_status")
            progress = reply.get("progress") or {}
            percent = progress.get("percent") or 0.0
            if reply.get("status") == "completed":
                percent = 100.0
            bar.update(
                task,
                completed=percent,
                description=f"{args.process_id} {reply.get('status')}/{reply.get('phase')}",
                info=(
                    f"epoch {_fmt(progress.get('epoch'))}/{_fmt(progress.get('total_epochs'))}"
                    f"  step {_fmt(progress.get('step'))}/{_fmt(progress.get('total_steps'))}"
                    f"  eta {_eta(progress)}"
                ),
            )
            state = reply.get("status")
            if is_terminal(state) or (args.until == "change" and state != initial):
                break
            if remaining <= 0:
                break
    return _finish(reply, False, _show_status)


def _tile(text: str) -> int | str:
    """``--tile``: a number (its range is checked by ``control.start_predict``) or
    ``null``/``none``, whole fields."""
    if text.strip().lower() in WHOLE_FIELD:
        return "none"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a tile size in LR cells (e.g. 64) or null for whole fields, got {text!r}"
        ) from None


def _cmd_predict(args: argparse.Namespace) -> int:
    reply = control.start_predict(
        args.input,
        run=args.run,
        checkpoint=args.checkpoint,
        output=args.output,
        variables=args.variables,
        hr_mask=args.hr_mask,
        tile=args.tile,
        overlap=args.overlap,
        runs_root=args.runs_root,
        overwrite=args.overwrite,
        base_dir=args.base_dir,
    )
    code = _finish(reply, args.json, _show_start)
    if args.follow and reply.get("status") == "started":
        code = _follow_to_end(reply["process_id"], args)
    return code


def _cmd_report(args: argparse.Namespace) -> int:
    """Thin adapter over :mod:`oceansr.report` (errors shown like control errors)."""
    from oceansr.report import make_plots, make_report
    from oceansr.runs import validate_run_id

    try:
        validate_run_id(args.process_id)
        # The run's backend brings its status up to date; the report judges nothing.
        if args.what == "plots":
            made = make_plots(
                args.process_id,
                runs_root=args.runs_root,
                num_maps=args.num_maps,
                lang=args.lang,
                refresh=control.live,
            )
        else:
            made = make_report(
                args.process_id, runs_root=args.runs_root, lang=args.lang, refresh=control.live
            )
    except Exception as exc:
        reply = exception_reply(exc, process_id=args.process_id, runs_root=args.runs_root)
        return _finish(reply, args.json, None)
    reply = ok_reply(**{**made, "run_status": made.get("status")})
    if args.json:
        _print_json(reply)
    else:
        for path in made.get("files") or []:
            print(path)
        for key in ("report_md", "report_html"):
            if made.get(key):
                print(made[key])
        for skipped in made.get("skipped") or []:
            print(f"skipped {skipped.get('name')}: {skipped.get('reason')}", file=sys.stderr)
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    from oceansr.adapters.mcp.server import serve

    serve(
        runs_root=args.runs_root,
        keep_runs=args.keep_runs,
        lang=args.lang,
        base_dir=args.base_dir,
        allow_dirs=args.allow_dir,
    )
    return 0


COMMANDS = {
    "start": _cmd_start,
    "status": _cmd_status,
    "logs": _cmd_logs,
    "wait": _cmd_wait,
    "kill": _cmd_kill,
    "list": _cmd_list,
    "resume": _cmd_resume,
    "mcp": _cmd_mcp,
    "predict": _cmd_predict,
    "report": _cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oceansr`` console script; returns the exit code."""
    args = parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # `oceansr logs ID | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
