"""Hostile arguments over a real MCP stdio client (docs/architecture.md, trust boundary).

The server may use its runs root, its base directory and its ``--allow-dir``
directories (and read the bundled sample); everything else is refused before it is opened, no
reply carries the value of an ``${oc.env:...}``, and a refused request leaves nothing
behind. No training runs here: every call is answered before a spawn.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import subprocess_env
from oceansr.data.sample import sample_path
from oceansr.runs import RunPaths, create_run, new_run_id
from waiting import PATIENCE_S

MARKER = "s3cr3t-marker-51d9"
OUTSIDE_TEXT = "outside-content-0b7e"


def reply_of(result: Any) -> dict[str, Any]:
    return json.loads(result.content[0].text)


async def _hostile_calls(place: dict[str, Path]) -> dict[str, Any]:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "oceansr",
            "mcp",
            "--runs-root",
            str(place["runs"]),
            "--base-dir",
            str(place["base"]),
            "--allow-dir",
            str(place["allowed"]),
        ],
        env=subprocess_env(OCEANSR_TEST_SECRET=MARKER),
    )
    out: dict[str, Any] = {}
    secret = str(place["outside"] / "secret.nc")
    async with Client(params) as client:

        async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            with anyio.fail_after(PATIENCE_S):
                result = await client.call_tool(tool, arguments)
            out.setdefault("texts", []).append(result.content[0].text)
            return reply_of(result)

        check = "ocean_sr_check_data"
        out["passwd"] = await call(check, {"path": "../../../../../../../../etc/passwd"})
        out["outside_there"] = await call(check, {"path": secret})
        out["outside_absent"] = await call(check, {"path": str(place["outside"] / "absent.nc")})
        out["undeclared"] = await call(
            check, {"path": str(place["undeclared"] / "d.nc"), "decode_times": False}
        )
        out["allowed"] = await call(
            check, {"path": str(place["allowed"] / "a.nc"), "decode_times": False}
        )
        out["bundled"] = await call(check, {"path": str(sample_path()), "decode_times": False})
        start = "ocean_sr_train_start"
        out["env_variable"] = await call(
            start, {"overrides": ["data.variables=[${oc.env:OCEANSR_TEST_SECRET}]"]}
        )
        out["env_epochs"] = await call(
            start, {"overrides": ["trainer.max_epochs=${oc.env:OCEANSR_TEST_SECRET}"]}
        )
        out["env_path"] = await call(
            start,
            {
                "data": "xarray",
                "data_path": "/tmp/${oc.env:OCEANSR_TEST_SECRET}.nc",
                "variables": ["temp"],
            },
        )
        out["data_outside"] = await call(
            start, {"data": "xarray", "data_path": secret, "variables": ["temp"]}
        )
        out["mlflow_outside"] = await call(
            start,
            {
                "overrides": [
                    "logger=mlflow",
                    f"logger.tracking_uri=file://{place['outside']}/mlruns",
                ]
            },
        )
        out["shell"] = await call(
            start, {"overrides": ["launcher=slurm", "launcher.setup=['touch /tmp/pwned']"]}
        )
        out["predict_out"] = await call(
            "ocean_sr_predict",
            {
                "input": str(sample_path()),
                "checkpoint": "m.ckpt",
                "output": str(place["outside"] / "written.nc"),
            },
        )
        out["predict_dotdot"] = await call(
            "ocean_sr_predict",
            {"input": str(sample_path()), "checkpoint": "m.ckpt", "output": "../outside/x.nc"},
        )
        out["logs_link"] = await call(
            "ocean_sr_train_status",
            {"process_id": place["linked_run"].name, "action": "logs"},
        )
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    top = tmp_path_factory.mktemp("boundary")
    place = {name: top / name for name in ("runs", "base", "allowed", "undeclared", "outside")}
    for folder in place.values():
        folder.mkdir()
    (place["outside"] / "secret.nc").write_text(OUTSIDE_TEXT)
    shutil.copy(sample_path(), place["undeclared"] / "d.nc")
    shutil.copy(sample_path(), place["allowed"] / "a.nc")
    # A run whose train.log is a link to a file outside every root.
    paths = RunPaths.for_id(new_run_id("train"), place["runs"])
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    paths.train_log.unlink(missing_ok=True)
    paths.train_log.symlink_to(place["outside"] / "secret.nc")
    place["linked_run"] = paths.dir
    out = anyio.run(_hostile_calls, place)
    out["place"] = place
    return out


def _refused(reply: dict[str, Any], field: str) -> dict[str, Any]:
    assert reply["status"] == "error", reply
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error", summary
    assert field in summary["message"], summary
    return summary


def test_paths_outside_every_root_are_refused_without_reading_them(
    hostile: dict[str, Any],
) -> None:
    _refused(hostile["passwd"], "path")
    there = _refused(hostile["outside_there"], "path")["message"]
    absent = _refused(hostile["outside_absent"], "path")["message"]
    assert there.replace("secret", "X") == absent.replace("absent", "X"), "no existence oracle"
    for text in hostile["texts"]:
        assert "root:x:0:0" not in text and OUTSIDE_TEXT not in text


def test_allowed_and_bundled_data_are_readable_and_nothing_else(hostile: dict[str, Any]) -> None:
    _refused(hostile["undeclared"], "path")
    for key in ("allowed", "bundled"):
        assert hostile[key]["status"] == "ok", (key, hostile[key]["error_summary"]["message"])


def test_no_reply_carries_an_environment_value(hostile: dict[str, Any]) -> None:
    for key in ("env_variable", "env_epochs", "env_path"):
        assert hostile[key]["status"] == "error"
        assert "interpolation" in hostile[key]["error_summary"]["message"]
    assert not any(MARKER in text for text in hostile["texts"])


def test_writes_outside_and_shell_settings_are_refused_with_nothing_created(
    hostile: dict[str, Any],
) -> None:
    _refused(hostile["data_outside"], "data.path")
    _refused(hostile["mlflow_outside"], "logger.tracking_uri")
    _refused(hostile["shell"], "launcher.setup")
    _refused(hostile["predict_out"], "output")
    _refused(hostile["predict_dotdot"], "output")
    place = hostile["place"]
    assert sorted(p.name for p in place["outside"].iterdir()) == ["secret.nc"]
    assert [p for p in place["runs"].iterdir() if not p.name.startswith(".")] == [
        place["linked_run"]
    ], "refused requests create no run"


def test_logs_never_follow_a_link_out_of_the_run(hostile: dict[str, Any]) -> None:
    assert hostile["logs_link"]["status"] == "error", hostile["logs_link"]
