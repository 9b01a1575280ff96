"""Fast checks of the agent surface without a trainer: the message catalogue, MCP reply
shaping and next calls, argument errors, kill reasons, progress lines, log filtering."""

from __future__ import annotations

import json
import logging
import string
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from oceansr.adapters.mcp.server import build_server, run_with_progress, startup_progress
from oceansr.adapters.mcp.shape import compact_reply, list_row, mcp_next, reply_size
from oceansr.control.views import checkpoint_fields, kill_reason
from oceansr.engine.callbacks.recorder import _step_line, _validation_line
from oceansr.engine.lightning_noise import NoiseFilter
from oceansr.i18n import (
    UnknownLanguageError,
    catalogue,
    localize_summary,
    resolve_lang,
    text,
)
from oceansr.runs import (
    KilledBy,
    KillKind,
    RunPaths,
    create_run,
    new_run_id,
    record_killed,
    transition,
)
from oceansr.runs.failures import error_summary
from waiting import PATIENCE_S

RUN = "train-20260101-000000-abcdef"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = catalogue("en"), catalogue("zh")
    assert set(en) == set(zh)
    for key in en:
        assert _fields(en[key]) == _fields(zh[key]), key
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["mcp.instructions"])


def test_language_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCEANSR_LANG", raising=False)
    assert resolve_lang() == "en"
    monkeypatch.setenv("OCEANSR_LANG", "zh_CN.UTF-8")
    assert resolve_lang() == "zh" and resolve_lang("en") == "en"
    with pytest.raises(UnknownLanguageError, match="fr"):
        resolve_lang("fr")


def test_chinese_summary_translates_advice_but_keeps_overrides() -> None:
    summary = error_summary("nan_loss")
    zh = localize_summary(summary, "zh")
    assert zh["message"] == "训练损失变为 NaN 或无穷大。"
    assert zh["suggestions"] == summary["suggestions"] and "optim.lr=1e-4" in zh["suggestions"]
    assert "降低学习率" in zh["advice"][0]
    assert set(zh) == set(summary), "keys never change"
    assert localize_summary(summary, "en") == summary


def _reply(status: str, **extra: Any) -> dict[str, Any]:
    calls = [{"action": "logs", "args": {"process_id": RUN, "tail": 50}, "why": "tail"}]
    if status == "killed":
        calls.append({"action": "resume", "args": {"process_id": RUN}, "why": "resume"})
    return {"process_id": RUN, "kind": "train", "status": status, "next": calls, **extra}


def test_next_entries_are_mcp_tool_calls() -> None:
    killed = mcp_next(_reply("killed"), "en")
    assert killed[1] == {
        "tool": "ocean_sr_train_status",
        "arguments": {"action": "resume", "process_id": RUN},
        "why": text("next.resume", "en"),
    }
    completed = mcp_next(_reply("completed"), "zh")
    tools = [entry["tool"] for entry in completed]
    assert tools == ["ocean_sr_train_status", "ocean_sr_train_visualize", "ocean_sr_train_report"]
    assert completed[1]["why"] == text("next.visualize", "zh")
    retry = {"action": "start", "args": {"overrides": ["data.batch_size=4"]}, "why": "smaller"}
    failed = mcp_next({**_reply("failed"), "next": [retry]}, "en")
    assert failed == [
        {"tool": "ocean_sr_train_start", "arguments": retry["args"], "why": "smaller"}
    ]
    confirm = {**retry, "confirm": True, "override": "data.batch_size=4"}
    [asked] = mcp_next({**_reply("failed"), "next": [confirm]}, "zh")
    assert asked["confirm"] is True and asked["arguments"] == retry["args"]
    assert asked["why"] == text("next.retry", "zh", override="data.batch_size=4")


def test_compact_reply_has_test_metrics_once_and_rounded() -> None:
    test = {"test/rmse": 0.123456789, "test/rmse/temp": 0.1, "test/mae_gain": 3.0}
    reply = _reply(
        "completed",
        test_metrics=test,
        metrics={"test": test, "best": {"val/rmse": 0.2, "val/psnr/temp": 1.0, "epoch": 3}},
        schema_version=1,
    )
    out = compact_reply(reply)
    assert out["test_metrics"] == {"test/rmse": 0.12346}
    assert out["metrics"] == {"best": {"val/rmse": 0.2, "epoch": 3}}
    assert "schema_version" not in out


def test_list_rows_fit_the_budget_even_for_a_long_row() -> None:
    row = {
        "process_id": RUN,
        "kind": "train",
        "status": "failed",
        "phase": "training",
        "created_at": "2026-01-01T00:00:00.000Z",
        "duration_s": 12345.678,
        "epoch": 100,
        "total_epochs": 100,
        "percent": 100.0,
        "eta_s": 0.0,
        "model": "swinir_light",
        "test_rmse": 0.123456789123,
        "test_rmse_bicubic": 0.2345678912345,
        "failure_type": "distributed_error",
        "overrides": ["a=1"] * 50,
    }
    assert reply_size(list_row(row)) <= 300
    assert reply_size(list_row({**row, "status": "running", "failure_type": None})) <= 300


def test_unknown_and_mistyped_arguments_are_config_errors() -> None:
    server = build_server(lang="en")

    async def calls() -> list[Any]:
        return [
            await server.call_tool("ocean_sr_train_status", {"action": "list", "limt": 3}),
            await server.call_tool("ocean_sr_train_status", {"action": "explode"}),
            await server.call_tool("ocean_sr_train_report", {"process_id": "../../etc"}),
        ]

    for result, name in zip(anyio.run(calls), ("limt", "action", "process_id"), strict=True):
        assert result.is_error
        reply = json.loads(result.content[0].text)
        assert reply["error_summary"]["failureType"] == "config_error"
        assert reply["arguments"] == [name] and name in reply["error_summary"]["message"]


def test_no_polling_floor_and_progress_total_is_the_startup_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oceansr.adapters.mcp import server

    sent: list[tuple[float, float | None, str | None]] = []
    progressed = threading.Event()

    class Ctx:
        async def report_progress(self, progress: float, total: float, message: str) -> None:
            sent.append((progress, total, message))
            progressed.set()

    # No polling floor: with an hour between progress ticks, work that is done at once
    # must be answered at once, not at the next tick (how fast is not asserted here).
    monkeypatch.setattr(server, "PROGRESS_EVERY_S", 3600.0)

    async def quick() -> dict[str, Any]:
        with anyio.fail_after(PATIENCE_S):
            return await run_with_progress(
                None, lambda _cancel: {"status": "ok"}, startup_progress(300, "en")
            )

    assert anyio.run(quick) == {"status": "ok"}

    # Work that takes longer than a tick gets progress; it ends once progress was sent.
    monkeypatch.setattr(server, "PROGRESS_EVERY_S", 0.05)

    async def slow() -> dict[str, Any]:
        return await run_with_progress(
            Ctx(),  # type: ignore[arg-type]
            lambda _cancel: {"status": "ok" if progressed.wait(PATIENCE_S) else "no progress"},
            startup_progress(300, "zh"),
        )

    assert anyio.run(slow) == {"status": "ok"}
    assert sent and sent[0][1] == 300 and "启动中" in str(sent[0][2])


def _killed_run(root: Path, reason: str) -> RunPaths:
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    transition(paths, "running", event="process_started")
    transition(paths, "killed", event="killed", reason=reason)
    return paths


@pytest.mark.parametrize(
    ("reason", "by"),
    [
        ("kill requested by the user (MCP)", "user"),
        ("controller (pid 12) exited and on_exit=terminate", "controller_exit"),
        ("SIGTERM received", "system"),
        ("DUE TO TIME LIMIT", "time_limit"),
    ],
)
def test_kill_reason_of_an_old_run_comes_from_its_reason_text(
    tmp_path: Path, reason: str, by: str
) -> None:
    paths = _killed_run(tmp_path, reason)  # recorded without killed_by, as before it existed
    assert kill_reason(paths) == {"by": by, "detail": reason}


@pytest.mark.parametrize("kind", list(KillKind))
def test_kill_reason_is_the_recorded_cause_whatever_its_text(
    tmp_path: Path, kind: KillKind
) -> None:
    paths = RunPaths.for_id(new_run_id("train"), tmp_path)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    transition(paths, "running", event="process_started")
    misleading = "controller said: kill requested, SIGTERM"  # text that matches other kinds
    record_killed(paths, KilledBy(kind, misleading))
    assert kill_reason(paths) == {"by": kind.value, "detail": misleading}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_kill_kind_is_explained_in_each_language(lang: str) -> None:
    notes = set()
    for kind in KillKind:
        reply = {"status": "killed", "kill_reason": {"by": kind.value, "detail": None}}
        reply["killed_by"] = {"kind": kind.value, "detail": None}
        out = compact_reply(reply, lang)
        assert "killed_by" not in out  # kill_reason says it
        note = out["kill_reason"]["note"]
        assert note and (lang == "en" or any("\u4e00" <= ch <= "\u9fff" for ch in note))
        notes.add(note)
    assert len(notes) == len(KillKind)
    unknown = compact_reply({"kill_reason": {"by": "quota", "detail": None}}, lang)
    assert unknown["kill_reason"] == {"by": "quota", "detail": None}  # newer kind: no note


def test_checkpoint_fields_are_absolute_whenever_the_file_exists(tmp_path: Path) -> None:
    paths = _killed_run(tmp_path, "SIGTERM received")
    assert checkpoint_fields(paths) == {}
    paths.last_ckpt.parent.mkdir(parents=True, exist_ok=True)
    paths.last_ckpt.write_bytes(b"x")
    fields = checkpoint_fields(paths)
    assert set(fields) == {"last_checkpoint"} and Path(fields["last_checkpoint"]).is_absolute()


def test_progress_lines_for_train_log() -> None:
    progress = {"epoch": 1, "total_epochs": 4, "step": 50, "total_steps": 200, "percent": 25.0}
    line = _step_line({**progress, "eta_s": 40.2}, {"train/loss_step": 0.08123})
    assert line == "[progress] epoch 1/4 step 50/200 (25.0%) loss 0.08123 eta 40 s"
    assert _validation_line(progress, {}).startswith("[validation] epoch 1/4 val/rmse -")


def test_lightning_tip_and_srun_hint_are_filtered() -> None:
    keep = NoiseFilter()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)

    assert not keep.filter(record("💡 Tip: For seamless cloud logging, try installing x"))
    assert not keep.filter(record("The `srun` command is available on your system but ..."))
    assert keep.filter(record("GPU available: False, used: False"))


def test_check_data_suggests_overrides_hydra_parses_for_a_chinese_path(tmp_path: Path) -> None:
    import shutil

    from hydra.core.override_parser.overrides_parser import OverridesParser

    from oceansr.data.describe import describe_dataset
    from oceansr.data.sample import sample_path

    target = tmp_path / "数据 2024" / "海温.nc"
    target.parent.mkdir()
    shutil.copy(sample_path(), target)
    suggested = describe_dataset(str(target), decode_times=False)["suggested_overrides"]
    parsed = OverridesParser.create().parse_overrides(suggested)
    values = {o.key_or_group: o.value() for o in parsed}
    assert values["data.path"] == str(target)
    assert values["data.variables"] == ["temp"]
