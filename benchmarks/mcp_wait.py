"""MCP wait latency and reply sizes, measured with a real stdio client. Prints JSON.

(Not named ``mcp.py``: run as a script it would shadow the ``mcp`` package.)

    python benchmarks/mcp_wait.py [--trials 30] [--lang en|zh] [--smoke]

- ``wakeup_ms``: p50/p95 of the delay between another thread's status change of a run
  and the client receiving the ``wait`` reply (target p95 <= 150 ms);
- ``terminal_wait_ms``: p50/p95 of ``wait`` on a run that is already terminal (target
  <= 100 ms);
- ``no_floor_ms``: p50/p95 of the server's ``run_with_progress`` around work that is done
  at once (in process, no client): no polling floor (target < 100 ms);
- ``reply_bytes``: compact JSON size of a running status, a completed status, a failed
  status and the largest list row of a real smoke run (targets 1536 / 2560 / 2560 / 300).

``--smoke`` makes 2 trials; the three real runs behind ``reply_bytes`` stay (they are
what the script checks), so it takes about the time of three smoke trainings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from oceansr.runs import RunPaths, create_run, new_run_id, transition, update_run, update_status
from smoke import emit, parse_args

STATUS = "ocean_sr_train_status"
SMOKE = {"trials": 2}
SLOW = ["experiment=smoke", "trainer.limit_train_batches=400", "debug.sleep_per_step=0.2"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 2)


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": _percentile(values, 0.95),
        "max": round(max(values), 2),
    }


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _pending(root: Path) -> RunPaths:
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    update_run(paths, pid=os.getpid())
    return paths


async def _wakeups(client: Client, root: Path, trials: int) -> list[float]:
    out = []
    for _ in range(trials):
        paths = _pending(root)
        changed: list[float] = []

        def change(paths: RunPaths = paths, changed: list[float] = changed) -> None:
            time.sleep(random.uniform(0.05, 0.3))  # not in step with the polls
            changed.append(time.perf_counter())  # before the write: includes its cost
            update_status(paths, {"status": "running"})

        thread = threading.Thread(target=change)
        thread.start()
        await client.call_tool(
            STATUS, {"process_id": paths.run_id, "action": "wait", "timeout": 10}
        )
        woke = time.perf_counter()
        thread.join()
        out.append(1000 * (woke - changed[0]))
    return out


async def _terminal(client: Client, root: Path, trials: int) -> list[float]:
    paths = _pending(root)
    transition(paths, "running", event="process_started")
    transition(paths, "completed", event="training_end", changes={"exit_code": 0})
    out = []
    for _ in range(trials):
        began = time.perf_counter()
        await client.call_tool(STATUS, {"process_id": paths.run_id, "action": "wait"})
        out.append(1000 * (time.perf_counter() - began))
    return out


async def _no_floor(trials: int) -> list[float]:
    from oceansr.adapters.mcp.server import run_with_progress, startup_progress

    out = []
    for _ in range(trials):
        began = time.perf_counter()
        await run_with_progress(None, lambda _cancel: {"status": "ok"}, startup_progress(300, "en"))
        out.append(1000 * (time.perf_counter() - began))
    return out


async def _text(client: Client, tool: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = await client.call_tool(tool, args)
    text = result.content[0].text
    return text, json.loads(text)


async def _sizes(client: Client) -> dict[str, int]:
    """Reply sizes of real runs: a slow run (running, then killed), a smoke run
    (completed) and a run failing at its first step (failed)."""
    _, slow = await _text(client, "ocean_sr_train_start", {"overrides": SLOW})
    running, _ = await _text(client, STATUS, {"process_id": slow["process_id"]})
    await client.call_tool(STATUS, {"process_id": slow["process_id"], "action": "kill"})
    _, done = await _text(client, "ocean_sr_train_start", {"overrides": ["experiment=smoke"]})
    await client.call_tool(
        STATUS, {"process_id": done["process_id"], "action": "wait", "timeout": 300}
    )
    completed, _ = await _text(client, STATUS, {"process_id": done["process_id"]})
    fail = ["experiment=smoke", "debug.fail_at=step", "debug.fail_step=1"]
    _, bad = await _text(client, "ocean_sr_train_start", {"overrides": fail})
    if bad.get("process_id"):
        await client.call_tool(STATUS, {"process_id": bad["process_id"], "action": "wait"})
        failed, failed_doc = await _text(client, STATUS, {"process_id": bad["process_id"]})
    else:
        failed, failed_doc = json.dumps(bad, separators=(",", ":")), bad
    _, listed = await _text(client, STATUS, {"action": "list"})
    rows = [_size(json.dumps(r, ensure_ascii=False, separators=(",", ":"))) for r in listed["runs"]]
    return {
        "running": _size(running),
        "completed": _size(completed),
        "failed": _size(failed),
        "failed_status": failed_doc.get("status"),
        "list_row_max": max(rows),
    }


async def measure(trials: int, lang: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "oceansr", "mcp", "--runs-root", str(root), "--lang", lang],
            env={**os.environ},
        )
        async with Client(params) as client:
            wake = await _wakeups(client, root, trials)
            terminal = await _terminal(client, root, trials)
            sizes = await _sizes(client)
    no_floor = await _no_floor(trials)
    return {
        "lang": lang,
        "trials": trials,
        "wakeup_ms": _stats(wake),
        "terminal_wait_ms": _stats(terminal),
        "no_floor_ms": _stats(no_floor),
        "reply_bytes": sizes,
        "targets": {
            "wakeup_p95_ms": 150,
            "terminal_wait_ms": 100,
            "no_floor_ms": 100,
            "running_bytes": 1536,
            "terminal_bytes": 2560,
            "list_row_bytes": 300,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    args = parse_args(parser, SMOKE)
    emit(anyio.run(measure, args.trials, args.lang), args)


if __name__ == "__main__":
    main()
