"""The agent protocol played over a real stdio MCP client, in English and in Chinese.

One server session per language plays working rules 1-7 on tiny runs (experiment=smoke)
and keeps every reply; the tests check the reply budgets (compact JSON: running <= 1.5
KB, completed/failed <= 2.5 KB, list row <= 300 B), that `wait` wakes on a change and
answers a finished run without waiting, that every `next` entry is a valid call of a
listed tool (validated against its input schema), that a data path with Chinese
characters trains, and that the texts are in the chosen language. How fast `wait` wakes
up and answers (p95 <= 150 ms, <= 100 ms) is measured by benchmarks/mcp_wait.py: a
loaded test machine says nothing about it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import subprocess_env
from oceansr.adapters.mcp.shape import ROW_BUDGET, RUNNING_BUDGET, TERMINAL_BUDGET
from oceansr.data.sample import sample_path
from oceansr.runs import RunPaths, create_run, new_run_id, update_run, update_status
from waiting import PATIENCE_S, RUN_PATIENCE_S

pytestmark = pytest.mark.slow

SMOKE = ["experiment=smoke", "data.source=xarray"]
SLOW = ["experiment=smoke", "trainer.limit_train_batches=400", "debug.sleep_per_step=0.2"]
WAKEUP_TRIALS = 3


def size(reply: dict[str, Any]) -> int:
    """Bytes of the compact JSON text an agent reads."""
    return len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())


def reply_of(result: Any) -> dict[str, Any]:
    text = result.content[0].text
    assert "\n" not in text and ": " not in text.split('"', 1)[0], "replies are compact JSON"
    return json.loads(text)


def cjk_copy(folder: Path) -> Path:
    """The bundled sample under a Chinese folder and file name."""
    target = folder / "数据" / "海温.nc"
    target.parent.mkdir(parents=True)
    shutil.copy(sample_path(), target)
    return target


def pending_run(root: Path) -> RunPaths:
    """A run that stays pending (this live process is its pid) until a thread moves it."""
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    update_run(paths, pid=os.getpid())
    return paths


class Session:
    """A client session that records every reply with its tool and arguments."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        reply = reply_of(await self.client.call_tool(tool, arguments))
        self.calls.append((tool, arguments, reply))
        return reply


async def wakeups(session: Session, root: Path) -> list[dict[str, Any]]:
    """`wait` replies on a run that another thread changes while the call is in flight.

    The thread keeps flipping the run between pending and running until the reply is
    in: whenever the server reads the run first, a later change follows, so the reply
    must say ``changed`` (a timed-out reply would mean wait missed it)."""
    out = []
    for _ in range(WAKEUP_TRIALS):
        paths = pending_run(root)
        answered = threading.Event()

        def change(paths: RunPaths = paths, answered: threading.Event = answered) -> None:
            status = "running"
            while not answered.is_set():
                update_status(paths, {"status": status})
                status = "pending" if status == "running" else "running"
                answered.wait(0.2)

        thread = threading.Thread(target=change)
        thread.start()
        try:
            out.append(
                await session.call(
                    "ocean_sr_train_status",
                    {"process_id": paths.run_id, "action": "wait", "timeout": PATIENCE_S},
                )
            )
        finally:
            answered.set()
            thread.join()
    return out


async def terminal_waits(session: Session, run_id: str) -> list[dict[str, Any]]:
    """`wait` on a run that is already terminal (rule 2 after the end), asked to wait up
    to an hour: an answer before PATIENCE_S means it did not wait."""
    out = []
    for _ in range(WAKEUP_TRIALS):
        with anyio.fail_after(PATIENCE_S):
            out.append(
                await session.call(
                    "ocean_sr_train_status",
                    {"process_id": run_id, "action": "wait", "timeout": 3600},
                )
            )
    return out


async def play(root: Path, data_path: Path, lang: str) -> dict[str, Any]:
    """Rules 1-7 in ``lang``; returns the recorded replies and measurements."""
    params = StdioServerParameters(
        command=sys.executable,
        # The data folder is outside the runs root: the server is told it may read there.
        args=[
            *("-m", "oceansr", "mcp", "--runs-root", str(root), "--lang", lang),
            *("--allow-dir", str(data_path.parent)),
        ],
        env=subprocess_env(),
    )
    out: dict[str, Any] = {}
    async with Client(params) as client:
        s = Session(client)
        out["instructions"] = client.instructions
        out["tools"] = {t.name: t for t in (await client.list_tools()).tools}
        out["unknown_arg"] = await s.call("ocean_sr_train_start", {"epoch": 3})
        out["wrong_type"] = await s.call("ocean_sr_train_start", {"epochs": 0, "scale": "four"})
        # Rule 1: start (a Chinese data path), then wait once.
        start = {"data": "sample", "data_path": str(data_path), "variables": ["temp"]}
        out["start"] = await s.call("ocean_sr_train_start", {**start, "overrides": SMOKE})
        pid = out["start"]["process_id"]
        out["wait1"] = await s.call(
            "ocean_sr_train_status", {"process_id": pid, "action": "wait", "timeout": 300}
        )
        # Rule 2: the user asks about progress: wait once more (answers at once if done).
        out["wait2"] = await s.call(
            "ocean_sr_train_status", {"process_id": pid, "action": "wait", "timeout": 300}
        )
        out["terminal_waits"] = await terminal_waits(s, pid)
        # Rule 5: a new user message: list first.
        out["list"] = await s.call("ocean_sr_train_status", {"action": "list", "limit": 5})
        out["completed"] = await s.call("ocean_sr_train_status", {"process_id": pid})
        # Rule 7: the offered visualisation and report, called exactly as `next` says.
        for entry in out["completed"]["next"]:
            if entry["tool"] in ("ocean_sr_train_visualize", "ocean_sr_train_report"):
                out[entry["tool"]] = await s.call(entry["tool"], entry["arguments"])
        # Rule 3: a start-up crash comes back classified, with suggestions.
        out["crash"] = await s.call(
            "ocean_sr_train_start", {"overrides": ["experiment=smoke", "debug.fail_at=startup"]}
        )
        # Running status, kill by the user, and resume over MCP.
        out["slow"] = await s.call("ocean_sr_train_start", {"overrides": SLOW})
        slow = out["slow"]["process_id"]
        out["running"] = await s.call("ocean_sr_train_status", {"process_id": slow})
        out["killed"] = await s.call(
            "ocean_sr_train_status", {"process_id": slow, "action": "kill", "grace": PATIENCE_S}
        )
        out["resumed"] = await s.call(
            "ocean_sr_train_status", {"process_id": slow, "action": "resume"}
        )
        out["wakeups"] = await wakeups(s, root)  # the server's runs root: it finds them
        out["calls"] = s.calls
    # Rule 6: the client closed: the resumed run stops, saying why.
    out["after_close"] = await anyio.to_thread.run_sync(lambda: _terminal_status(root, slow))
    return out


def _terminal_status(root: Path, run_id: str) -> dict[str, Any]:
    from oceansr import control

    return control.wait(run_id, timeout=RUN_PATIENCE_S, until="terminal", runs_root=root)


@pytest.fixture(scope="module", params=["en", "zh"])
def played(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    lang = request.param
    root = tmp_path_factory.mktemp(f"protocol-{lang}")
    data_path = cjk_copy(tmp_path_factory.mktemp(f"data-{lang}"))
    out = anyio.run(play, root, data_path, lang)
    out["lang"] = lang
    return out


def test_instructions_state_every_rule(played: dict[str, Any]) -> None:
    text = played["instructions"]
    for number in range(1, 8):
        assert f"\n{number}. " in text
    if played["lang"] == "zh":
        assert "再等待一次" in text and "服务器关闭" in text and "先调用" in text
        assert "双三次插值" in played["tools"]["ocean_sr_train_report"].description
    else:
        assert "wait once more" in text and "Server shutdown terminates" in text
        assert "Keep the conversation available" in text


def test_schemas_are_typed_with_enums_minimums_and_patterns(played: dict[str, Any]) -> None:
    from oceansr.config.schema import choices
    from oceansr.runs import RUN_ID_RE

    tools = played["tools"]
    start = tools["ocean_sr_train_start"].input_schema["properties"]
    status = tools["ocean_sr_train_status"].input_schema["properties"]
    for tool in tools.values():
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    assert set(choices()["model"]) <= set(start["model"]["enum"])
    assert set(choices()["trainer.precision"]) <= set(start["precision"]["enum"])
    assert {"completed", "failed", "killed"} <= set(status["status_filter"]["enum"])
    assert "resume" in status["action"]["enum"]
    assert {"minimum": 1, "type": "integer"} in start["epochs"]["anyOf"]
    assert RUN_ID_RE.pattern in json.dumps(status["process_id"])
    assert "limit" in status
    assert tools["ocean_sr_list_models"].annotations.read_only_hint is True
    assert tools["ocean_sr_train_status"].annotations.destructive_hint is True


def test_bad_arguments_are_config_errors_naming_the_argument(played: dict[str, Any]) -> None:
    unknown = played["unknown_arg"]["error_summary"]
    assert unknown["failureType"] == "config_error" and "epoch" in unknown["message"]
    assert played["unknown_arg"]["arguments"] == ["epoch"]
    wrong = played["wrong_type"]
    assert wrong["error_summary"]["failureType"] == "config_error"
    assert set(wrong["arguments"]) == {"epochs", "scale"}


def test_a_chinese_data_path_trains_to_completion(played: dict[str, Any]) -> None:
    assert played["start"]["status"] == "started", played["start"]
    assert any("海温.nc" in item for item in played["start"]["overrides"])
    assert played["wait1"]["status"] in ("running", "completed")
    assert played["wait2"]["status"] == "completed"
    done = played["completed"]
    assert done["test_metrics"]["test/rmse"] > 0
    assert "test" not in done.get("metrics", {}), "test metrics appear once"
    assert Path(done["best_checkpoint"]).is_absolute() and Path(done["best_checkpoint"]).is_file()


def test_reply_budgets(played: dict[str, Any]) -> None:
    assert size(played["running"]) <= RUNNING_BUDGET, size(played["running"])
    assert size(played["completed"]) <= TERMINAL_BUDGET, size(played["completed"])
    assert size(played["crash"]) <= TERMINAL_BUDGET, size(played["crash"])
    rows = played["list"]["runs"]
    assert rows and all(size(row) <= ROW_BUDGET for row in rows), [size(r) for r in rows]


def test_wait_wakes_on_a_change_and_answers_a_finished_run_at_once(
    played: dict[str, Any],
) -> None:
    for reply in played["wakeups"]:
        assert reply["changed"] is True and reply["timed_out"] is False, reply
        assert reply["status"] != reply["previous_status"], reply
        assert reply["status"] in ("pending", "running"), reply
    for reply in played["terminal_waits"]:
        assert reply["status"] == "completed", reply
        assert reply["changed"] is False and reply["timed_out"] is False, reply


def test_every_next_entry_is_a_valid_tool_call(played: dict[str, Any]) -> None:
    tools = played["tools"]
    seen = set()
    for _tool, _args, reply in played["calls"]:
        for entry in reply.get("next") or []:
            assert set(entry) - {"confirm"} == {"tool", "arguments", "why"}, entry
            assert entry.get("confirm", True) is True, entry
            assert entry["tool"] in tools, entry
            jsonschema.validate(entry["arguments"], tools[entry["tool"]].input_schema)
            seen.add((entry["tool"], entry["arguments"].get("action")))
    assert ("ocean_sr_train_visualize", None) in seen and ("ocean_sr_train_report", None) in seen
    assert ("ocean_sr_train_status", "resume") in seen and ("ocean_sr_train_status", "wait") in seen


def test_failure_killed_resume_and_shutdown(played: dict[str, Any]) -> None:
    crash = played["crash"]
    summary = crash["error_summary"]
    assert crash["status"] == "error" and (summary["suggestions"] or summary["advice"])
    assert played["ocean_sr_train_visualize"]["status"] == "ok"
    assert played["ocean_sr_train_report"]["status"] == "ok"
    killed = played["killed"]
    assert killed["status"] == "killed" and killed["kill_reason"]["by"] == "user"
    assert Path(killed["last_checkpoint"]).is_file()
    assert played["resumed"]["status"] == "started", played["resumed"]
    after = played["after_close"]
    assert after["status"] == "killed" and after["kill_reason"]["by"] == "controller_exit"
    if played["lang"] == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in json.dumps(crash, ensure_ascii=False))
