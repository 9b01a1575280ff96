"""MCP replies for every run state, built from real run directories (no trainer): the
reply budgets, isError, the protocol's statuses, suggestions that are overrides, retries
that ask the user first, the default list, and Chinese replies without English prose."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from oceansr import control
from oceansr.adapters.mcp.server import as_started, build_server
from oceansr.adapters.mcp.shape import (
    LIST_BUDGET,
    LIST_LIMIT,
    RUNNING_BUDGET,
    TERMINAL_BUDGET,
    compact_reply,
    reply_size,
)
from oceansr.i18n import zh
from oceansr.runs import (
    KilledBy,
    KillKind,
    RunPaths,
    append_event,
    heartbeat,
    record_killed,
    transition,
    update_status,
)
from oceansr.runs.failures import ADVICE, MESSAGES, OVERRIDE_RE, classify_exception, error_summary
from runfactory import make_run

VARIABLES = ("temp", "salt", "u", "v")


class NonFiniteLossError(RuntimeError):
    """Recognised by class name, as the trainer's own is (runs/failures.py)."""

    step = 3


def _metrics(split: str) -> dict[str, float]:
    """Headline and per-variable metrics of one split, as the recorder writes them."""
    names = ("loss", "rmse", "rmse_bicubic", "rmse_gain", "mae", "psnr", "psnr_bicubic", "ssim")
    out = {f"{split}/{name}": 0.123456789 + i for i, name in enumerate(names)}
    out.update({f"{split}/{n}/{v}": 1.23456789 for n in names for v in VARIABLES})
    return out


PROGRESS = {
    "epoch": 37,
    "total_epochs": 120,
    "epochs_done": 36,
    "step": 12345,
    "total_steps": 40000,
    "percent": 30.86,
    "elapsed_s": 1234.56,
    "eta_s": 2765.43,
    "samples_per_s": 210.55,
}
LONG_LOG = "".join(
    f"[progress] epoch 3/120 step {i}/40000 loss 0.0812 eta 99 s\n" for i in range(200)
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A runs root as deep as a user's project folder, so paths weigh what they do."""
    return tmp_path / ("ocean-projects-" * 4) / "runs"


def _running(root: Path) -> RunPaths:
    paths = make_run(root, pid=os.getpid(), overrides=["experiment=smoke", "model=edsr"])
    metrics = {"latest": _metrics("val"), "best": {**_metrics("val"), "epoch": 35}}
    heartbeat(paths, {"phase": "training", "progress": PROGRESS, "metrics": metrics})
    return paths


def _failed_nan(root: Path) -> RunPaths:
    overrides = ["experiment=smoke", "debug.nan_step=3", "trainer.precision=32-true"]
    paths = make_run(root, overrides=overrides)
    paths.train_log.write_text(LONG_LOG, encoding="utf-8")
    paths.config_yaml.write_text("optim:\n  lr: 0.0001\ntrainer:\n  precision: 32-true\n")
    try:
        raise NonFiniteLossError("non-finite training loss (nan) at global step 3")
    except NonFiniteLossError as exc:
        summary = classify_exception(exc, log_tail=LONG_LOG[-4000:])
    transition(
        paths,
        "failed",
        event="training_error",
        changes={"error_summary": summary, "progress": PROGRESS},
        error_summary=summary,
    )
    return paths


def _killed(root: Path) -> RunPaths:
    paths = make_run(root)
    heartbeat(paths, {"progress": PROGRESS, "metrics": {"latest": _metrics("val")}})
    record_killed(paths, KilledBy(KillKind.CONTROLLER_EXIT, "controller (pid 12) exited"))
    return paths


def _completed(root: Path) -> RunPaths:
    paths = make_run(root, status="completed")
    metrics = {
        "latest": _metrics("val"),
        "best": {**_metrics("val"), "epoch": 118},
        "test": _metrics("test"),
    }
    update_status(paths, {"progress": PROGRESS, "metrics": metrics})
    append_event(paths, "training_start", data={"variables": list(VARIABLES), "units": ["degC"]})
    return paths


def _replies(root: Path, lang: str) -> dict[str, dict[str, Any]]:
    """Each state's reply as an agent reads it."""
    running, failed = _running(root), _failed_nan(root)
    killed, completed = _killed(root), _completed(root)
    for _ in range(LIST_LIMIT + 5):
        make_run(root, status="completed")
    replies = {
        "running_after_timeout": control.wait(running.run_id, timeout=0.2, runs_root=root),
        "failed_nan_loss": control.status(failed.run_id, runs_root=root),
        "killed": control.status(killed.run_id, runs_root=root),
        "completed": control.status(completed.run_id, runs_root=root),
        "list": control.list_runs(runs_root=root, limit=LIST_LIMIT),
        "slow_start": as_started(
            {"status": "starting", "process_id": running.run_id, "phase": "starting"},
            str(root),
            lang,
        ),
    }
    return {name: compact_reply(reply, lang) for name, reply in replies.items()}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_state_fits_its_budget(root: Path, lang: str) -> None:
    replies = _replies(root, lang)
    budgets = {
        "running_after_timeout": RUNNING_BUDGET,
        "slow_start": RUNNING_BUDGET,
        "failed_nan_loss": TERMINAL_BUDGET,
        "killed": TERMINAL_BUDGET,
        "completed": TERMINAL_BUDGET,
        "list": LIST_BUDGET,
    }
    sizes = {name: reply_size(reply) for name, reply in replies.items()}
    print(lang, sizes)
    assert replies["running_after_timeout"]["timed_out"] is True
    assert replies["failed_nan_loss"]["error_summary"]["failureType"] == "nan_loss"
    assert replies["failed_nan_loss"]["error_summary"].get("log_tail"), "a tail is kept"
    assert replies["list"]["count"] == LIST_LIMIT and replies["list"]["total"] == LIST_LIMIT + 9
    for name, budget in budgets.items():
        assert sizes[name] <= budget, (name, sizes[name], replies[name])


def test_a_slow_start_is_started_with_its_phase_and_progress(root: Path) -> None:
    reply = _replies(root, "zh")["slow_start"]
    assert reply["status"] == "started" and reply["phase"] == "training"
    assert reply["progress"]["epoch"] == PROGRESS["epoch"]
    assert "training_start" in reply["message"] and "已启动" in reply["message"]
    queued = {"status": "queued", "process_id": "train-20260101-000000-abcdef"}
    queued = as_started({**queued, "reason": "Priority", "message": "no start"}, None, "zh")
    assert queued["status"] == "queued" and "队列中等待" in queued["message"]
    assert not english_words(queued["message"], ["Priority"])


@pytest.mark.parametrize(("lang", "said"), [("en", "3/16 fields"), ("zh", "已读取 3/16 个场")])
def test_a_start_still_preparing_data_says_how_far(root: Path, lang: str, said: str) -> None:
    paths = make_run(root, pid=os.getpid())
    progress = {"stage": "statistics", "fields_read": 3, "fields_total": 16}
    heartbeat(paths, {"phase": "preparing_data", "data_progress": progress})
    reply = as_started({"status": "starting", "process_id": paths.run_id}, str(root), lang)
    reply = compact_reply(reply, lang)
    assert reply["status"] == "started" and reply["phase"] == "preparing_data"
    assert reply["data_progress"] == progress
    assert said in reply["message"] and "training_start" in reply["message"]
    assert reply_size(reply) <= RUNNING_BUDGET


def test_retries_drop_fault_injection_ask_the_user_and_skip_current_settings(
    root: Path,
) -> None:
    reply = _replies(root, "zh")["failed_nan_loss"]
    summary = reply["error_summary"]
    assert summary["suggestions"], summary
    assert all(OVERRIDE_RE.match(item) for item in summary["suggestions"]), summary
    # 32-true is the run's override, 1e-4 its config's lr: neither is advice for it.
    assert "trainer.precision=32-true" not in summary["suggestions"]
    assert "optim.lr=1e-4" not in summary["suggestions"]
    assert "traceback_tail" not in summary and "traceback_tail" not in json.dumps(summary)
    retries = [e for e in reply["next"] if e["tool"] == "ocean_sr_train_start"]
    assert len(retries) == len(summary["suggestions"])
    for entry in retries:
        assert entry["confirm"] is True and "征得用户同意" in entry["why"]
        assert not any(o.startswith("debug.") for o in entry["arguments"]["overrides"])
        assert "experiment=smoke" in entry["arguments"]["overrides"]
    resume = [e for e in reply["next"] if e["arguments"].get("action") == "resume"]
    assert all(entry["confirm"] is True for entry in resume)


def test_suggestions_are_overrides_and_advice_is_prose_in_both_languages() -> None:
    for failure_type in MESSAGES:
        summary = error_summary(failure_type)
        assert summary["suggestions"] or summary["advice"], failure_type
        assert all(OVERRIDE_RE.match(item) for item in summary["suggestions"]), summary
        for advice in ADVICE[failure_type]:
            assert advice in zh.ADVICE, f"no Chinese for {advice!r}"
        assert failure_type in zh.FAILURES
    mixed = error_summary("config_error", "bad", suggestions=["a.b=1 (why)", "use x", "c=2"])
    assert mixed["suggestions"] == ["a.b=1", "c=2"]
    assert mixed["advice"] == ["a.b=1: why", "use x"]


#: Words a Chinese reply may carry in Latin letters: identifiers, tool and file names,
#: units and acronyms that Chinese text writes as they are.
ALLOWED = {
    "nan",
    "NaN",
    "GPU",
    "CPU",
    "OOM",
    "CUDA",
    "Slurm",
    "ID",
    "killer",
    "oceansr",
    "MCP",
    "action",
    "wait",
    "logs",
    "resume",
    "kill",
    "list",
    "overrides",
    "error",
    "txt",
    "log",
    "train",
    "checkpoints",
    "last",
    "ckpt",
    "report",
    "html",
    "md",
    "training_start",
    "on_exit",
    "terminate",
    "pip",
    "install",
    "dev",
    "constraints",
    "python",
    "help",
}
#: Reply keys whose strings are prose for the user (the rest are values, paths, ids,
#: overrides, recorded log text and the untranslated technical ``detail``).
PROSE_KEYS = {"message", "advice", "why", "note", "eta_note"}
#: Identifiers: quoted names ('grace'), dotted/underscored/assigned names, {placeholders}.
IDENTIFIER = re.compile(r"'[^']*'|[\w.\-]*[_.=/\-\d][\w.\-=/']*|\{[^}]*\}")


def _prose(obj: Any, key: str = "") -> list[str]:
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _prose(v, k)]
    if isinstance(obj, list):
        return [s for v in obj for s in _prose(v, key)]
    return [obj] if isinstance(obj, str) and key in PROSE_KEYS else []


def english_words(text: str, names: Any = ()) -> list[str]:
    """Latin words of ``text`` that are neither identifiers (``names``: argument names
    the reply quotes) nor allowed terms."""
    bare = IDENTIFIER.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", bare) if w not in ALLOWED | set(names)]


def test_the_english_word_check_can_fail() -> None:
    assert english_words("训练损失变为 NaN。 The training loss became NaN") == [
        "The",
        "training",
        "loss",
        "became",
    ]
    assert english_words("先征得用户同意（规则 3），再以 optim.lr=1e-4 重试") == []


def test_chinese_replies_are_chinese_throughout(root: Path) -> None:
    replies = _replies(root, "zh")
    server = build_server(runs_root=str(root), lang="zh")

    async def errors() -> list[dict[str, Any]]:
        calls = [
            ("ocean_sr_train_status", {"action": "wait"}),
            ("ocean_sr_train_status", {"action": "list", "overrides": ["a=1"]}),
            ("ocean_sr_train_status", {"action": "list", "limt": 3}),
        ]
        out = []
        for tool, args in calls:
            result = await server.call_tool(tool, args)
            out.append(json.loads(result.content[0].text))
        return out

    for number, reply in enumerate(anyio.run(errors)):
        replies[f"argument_error_{number}"] = reply
    for name, reply in replies.items():
        for said in _prose(reply):
            assert not english_words(said, reply.get("arguments") or ()), (name, said)
    failed = replies["failed_nan_loss"]["error_summary"]
    assert failed["message"] == zh.FAILURES["nan_loss"]
    assert "NonFiniteLossError" in failed["detail"], "the specifics stay, apart"


def test_is_error_is_set_on_error_replies_only(root: Path) -> None:
    failed, running = _failed_nan(root), _running(root)
    server = build_server(runs_root=str(root))

    async def calls() -> list[tuple[bool, str | None]]:
        out = []
        for args in (
            {"process_id": failed.run_id},  # a failed run: a successful status call
            {"process_id": running.run_id},
            {"action": "list"},
            {"process_id": "train-20200101-000000-aaaaaa"},  # no such run: a domain error
            {"action": "logs"},  # no process_id: the tool's own check
            {"action": "list", "limt": 1},  # an argument error
        ):
            result = await server.call_tool("ocean_sr_train_status", args)
            out.append((bool(result.is_error), json.loads(result.content[0].text).get("status")))
        return out

    flags = anyio.run(calls)
    assert flags[:3] == [(False, "failed"), (False, "running"), (False, None)]
    assert flags[3:] == [(True, "error")] * 3


def test_list_over_mcp_defaults_to_the_newest_twenty_with_the_total(root: Path) -> None:
    made = [make_run(root, status="completed").run_id for _ in range(LIST_LIMIT + 3)]
    server = build_server(runs_root=str(root))

    async def listed() -> dict[str, Any]:
        result = await server.call_tool("ocean_sr_train_status", {"action": "list"})
        return json.loads(result.content[0].text)

    reply = anyio.run(listed)
    assert reply["count"] == LIST_LIMIT and reply["total"] == LIST_LIMIT + 3
    assert {row["process_id"] for row in reply["runs"]} <= set(made)
    everything = control.list_runs(runs_root=root)
    assert everything["count"] == everything["total"] == LIST_LIMIT + 3


def test_an_over_budget_reply_sheds_detail_and_keeps_the_end_of_its_log() -> None:
    from oceansr.adapters.mcp.shape import fit_budget

    summary = error_summary("nan_loss", log_tail=LONG_LOG)
    reply = {"status": "failed", "process_id": "train-20260101-000000-abcdef"}
    reply.update(log_path="/x/train.log", memory={"rss_mb": 1.0}, error_summary=summary)
    assert reply_size(reply) > TERMINAL_BUDGET
    fitted = fit_budget(reply, TERMINAL_BUDGET)
    assert reply_size(fitted) <= TERMINAL_BUDGET
    tail = fitted["error_summary"]["log_tail"]
    assert LONG_LOG.endswith(tail) and tail.startswith("[progress]")
    assert fitted["log_path"] == "/x/train.log", "shed only as far as needed"
    assert fitted["error_summary"]["suggestions"] == summary["suggestions"]


def test_wait_ends_when_its_cancel_event_is_set(root: Path) -> None:
    import threading

    from waiting import returns_within

    paths = make_run(root, status="pending", pid=os.getpid())  # never changes by itself
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    reply = returns_within(
        lambda: control.wait(paths.run_id, timeout=3600, runs_root=root, cancel=cancel),
        "a cancelled wait",
    )
    timer.join()
    assert reply["cancelled"] is True and reply["timed_out"] is False
    assert reply["changed"] is False and reply["status"] == "pending"
    plain = control.wait(paths.run_id, timeout=0.05, runs_root=root)
    assert "cancelled" not in plain and plain["timed_out"] is True


def test_known_warnings_are_said_in_the_reply_language() -> None:
    """Resolution and operator warnings are English in the run files and in Chinese in a
    zh server's replies (also a finished prediction's); unknown sentences stay."""
    from oceansr.data.fields import resolution_warnings

    (warning,) = resolution_warnings([-40.0, -36.0, -32.0], 4, 2.0)  # 4 deg input, 8 deg LR
    reply = {
        "status": "completed",
        "warnings": [warning, "another note"],
        "prediction": {"output_path": "/x.nc", "warnings": [warning]},
    }
    zh_reply = compact_reply(reply, "zh")
    assert zh_reply["warnings"][0].startswith("输入的网格步长（4 度）")
    assert zh_reply["warnings"][1] == "another note"
    assert zh_reply["prediction"]["warnings"] == [zh_reply["warnings"][0]]
    assert compact_reply(reply, "en")["warnings"][0] == warning
