"""A client that goes away or cancels ends the server's in-flight work (rule 6).

- Disconnect: a real MCP client process starts a slow run over stdio, then blocks in
  ``wait(timeout=3600)``; the test kills the client with SIGKILL. The server reads EOF
  on stdin, its in-flight wait ends at once, the server exits, and the run (started with
  on_exit=terminate) stops gracefully as ``killed`` by ``controller_exit``. The seconds
  from the kill to the server's exit and to the run's recorded end are printed (the
  speed target, runs stopping within 5 s, is a measurement, not an assertion here:
  see tests/waiting.py).
- Cancel: ``notifications/cancelled`` for a ``wait`` in flight ends the server-side
  wait (its worker thread), not only the client's view of the call.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import anyio
import psutil
import pytest
from mcp import Client

from conftest import subprocess_env
from oceansr import control
from oceansr.adapters.mcp.server import build_server
from oceansr.runs import RunPaths, create_run, new_run_id, read_run, update_run
from waiting import PATIENCE_S, RUN_PATIENCE_S, wait_until

pytestmark = pytest.mark.slow

SLOW = ["experiment=smoke", "trainer.limit_train_batches=400", "debug.sleep_per_step=0.2"]
WORK_THREAD = "oceansr-mcp-call"  # run_with_progress's thread (server.py)

CLIENT = textwrap.dedent(
    """
    import os
    import sys

    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    ROOT, OVERRIDES = sys.argv[1], sys.argv[2:]


    async def main() -> None:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "oceansr", "mcp", "--runs-root", ROOT],
            env=dict(os.environ),  # this checkout's oceansr (PYTHONPATH), not the default env
        )
        async with Client(params) as client:
            started = await client.call_tool("ocean_sr_train_start", {"overrides": OVERRIDES})
            reply = started.structured_content or {}
            print(reply.get("status"), reply.get("process_id"), flush=True)

            async def progressed(progress, total, message) -> None:
                print("progress", flush=True)  # the wait is in flight on the server

            await client.call_tool(
                "ocean_sr_train_status",
                {"process_id": reply.get("process_id"), "action": "wait", "timeout": 3600},
                progress_callback=progressed,
            )
            print("wait returned", flush=True)


    anyio.run(main)
    """
)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_client_killed_mid_wait_stops_the_server_and_its_run(tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(CLIENT, encoding="utf-8")
    root = tmp_path / "runs"
    client = subprocess.Popen(
        [sys.executable, str(script), str(root), *SLOW],
        stdout=subprocess.PIPE,
        env=subprocess_env(),
        text=True,
    )
    try:
        assert client.stdout is not None
        line = client.stdout.readline().split()  # bounded by the start-up timeout (300 s)
        assert len(line) == 2 and line[0] == "started", line
        paths = RunPaths.for_id(line[1], root)
        server_pid = int(read_run(paths)["parent_pid"])
        assert read_run(paths)["on_exit"] == "terminate"
        assert client.stdout.readline().strip() == "progress"  # the wait is in flight
        killed_at = time.monotonic()
        client.send_signal(signal.SIGKILL)
        client.wait(PATIENCE_S)
        wait_until(lambda: _gone(server_pid), "the server exits after its client died")
        server_s = time.monotonic() - killed_at
        end = control.wait(paths.run_id, timeout=RUN_PATIENCE_S, until="terminal", runs_root=root)
        run_s = time.monotonic() - killed_at
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(PATIENCE_S)
        if client.stdout is not None:
            client.stdout.close()
    print(f"client SIGKILL -> server exit {server_s:.2f} s, -> run {end['status']} {run_s:.2f} s")
    assert end["status"] == "killed", end
    assert end["kill_reason"]["by"] == "controller_exit", end["kill_reason"]
    assert end["timed_out"] is False


def _still_pending(root: Path) -> RunPaths:
    """A run that stays pending (this live process is its pid): a wait on it blocks."""
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    update_run(paths, pid=os.getpid())
    return paths


def _work_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WORK_THREAD and t.is_alive()]


def test_a_cancel_notification_ends_the_wait_on_the_server(tmp_path: Path) -> None:
    paths = _still_pending(tmp_path)
    server = build_server(runs_root=str(tmp_path))
    seen: dict[str, object] = {}

    async def play() -> None:
        with anyio.fail_after(PATIENCE_S * 2):
            await scenario()

    async def scenario() -> None:
        # legacy: JSON-RPC over in-memory streams, so cancelling the call sends the
        # real notifications/cancelled to the server's dispatcher.
        async with Client(server, mode="legacy") as client:
            with anyio.CancelScope() as scope:

                async def cancel_once_in_flight() -> None:
                    while not _work_threads():
                        await anyio.sleep(0.05)
                    seen["in_flight"] = len(_work_threads())
                    scope.cancel()

                async with anyio.create_task_group() as group:
                    group.start_soon(cancel_once_in_flight)
                    args = {"process_id": paths.run_id, "action": "wait", "timeout": 3600}
                    await client.call_tool("ocean_sr_train_status", args)
                    seen["answered"] = True  # the run never changes: must not happen
            began = time.monotonic()
            await anyio.to_thread.run_sync(
                lambda: wait_until(lambda: not _work_threads(), "the server-side wait ends")
            )
            seen["ended_s"] = time.monotonic() - began
            listed = await client.call_tool("ocean_sr_train_status", {"action": "list"})
            seen["after"] = (listed.structured_content or {}).get("total")

    anyio.run(play)
    print(f"cancel -> server-side wait ended {seen['ended_s']:.2f} s later")
    assert seen.get("in_flight") == 1 and "answered" not in seen
    assert seen["after"] == 1, "the server still answers after a cancelled call"
