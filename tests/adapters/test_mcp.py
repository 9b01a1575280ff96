"""The MCP server driven by the real MCP client over stdio, through the agent flow.

One server session (module fixture) runs the whole standard flow once and keeps every
reply; the tests below assert on those replies. A second session checks that closing
the client stops the run it started, gracefully (checkpoint, status killed).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
import xarray as xr
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import subprocess_env
from oceansr import control
from oceansr.data.sample import sample_path
from oceansr.data.transforms import block_mean
from waiting import PATIENCE_S, RUN_PATIENCE_S

EXPECTED_TOOLS = {
    "ocean_sr_train_start",
    "ocean_sr_train_status",
    "ocean_sr_list_models",
    "ocean_sr_check_data",
    "ocean_sr_check_gpu",
    "ocean_sr_train_visualize",
    "ocean_sr_train_report",
    "ocean_sr_predict",
}
SMOKE = ["experiment=smoke", "trainer.max_epochs=2"]
SLOW = ["experiment=smoke", "trainer.limit_train_batches=400", "debug.sleep_per_step=0.2"]

pytestmark = pytest.mark.slow


def server_params(runs_root: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "oceansr", "mcp", "--runs-root", str(runs_root), *extra],
        env=subprocess_env(),
    )


def reply_of(result: Any) -> dict[str, Any]:
    """The tool's JSON dict (structured content, or the text block as a fallback)."""
    if result.structured_content is not None:
        data = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return json.loads(result.content[0].text)


def make_lr_input(path: Path) -> Path:
    """An LR-only NetCDF: months 11-12 of the sample at 1/4 resolution (NaN-aware mean)."""
    ds = xr.open_dataset(sample_path(), decode_times=False).isel(month=slice(10, 12), depth=[0])
    temp = ds["temp"].values[..., :88, :180]
    lr = block_mean(temp, 4)
    lat = ds["lat"].values[:88].reshape(22, 4).mean(axis=1)
    lon = ds["lon"].values[:180].reshape(45, 4).mean(axis=1)
    out = xr.Dataset(
        {"temp": (("month", "depth", "lat", "lon"), lr, {"units": "degC"})},
        coords={
            "month": ds["month"].values,
            "depth": ds["depth"].values,
            "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
        },
    )
    out.to_netcdf(path)
    return path


async def agent_flow(runs_root: Path, lr_file: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"progress": []}

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        out["progress"].append((progress, total, message))

    # The LR input lives outside the runs root: the server is told it may read there.
    async with Client(server_params(runs_root, "--allow-dir", str(lr_file.parent))) as client:
        call = client.call_tool
        out["tools"] = {t.name: t for t in (await client.list_tools()).tools}
        out["bad_start"] = reply_of(await call("ocean_sr_train_start", {"model": "unet"}))
        out["wrong_type"] = await call("ocean_sr_train_start", {"scale": "four", "epochs": []})
        out["missing_arg"] = await call("ocean_sr_check_data", {})
        out["bad_path"] = reply_of(await call("ocean_sr_check_data", {"path": "no/such.nc"}))
        out["start"] = reply_of(
            await call(
                "ocean_sr_train_start",
                {"overrides": SMOKE, "learning_rate": 1e-3},
                progress_callback=on_progress,
            )
        )
        pid = out["start"]["process_id"]
        wait = {"process_id": pid, "action": "wait", "timeout": 120}
        out["wait"] = reply_of(
            await call("ocean_sr_train_status", wait, progress_callback=on_progress)
        )
        while out["wait"]["status"] not in ("completed", "failed", "killed"):
            out["wait"] = reply_of(await call("ocean_sr_train_status", wait))
        out["status"] = reply_of(await call("ocean_sr_train_status", {"process_id": pid}))
        out["tail"] = reply_of(
            await call("ocean_sr_train_status", {"process_id": pid, "action": "logs", "tail": 5})
        )
        chunks, offset = [], 0
        for _ in range(1000):
            piece = reply_of(
                await call(
                    "ocean_sr_train_status",
                    {"process_id": pid, "action": "logs", "offset": offset},
                )
            )
            chunks.append(piece["content"])
            offset = piece["next_offset"]
            if piece["eof"]:
                break
        out["log_rebuilt"] = "".join(chunks)
        out["log_path"] = out["status"]["log_path"]
        out["visualize"] = reply_of(await call("ocean_sr_train_visualize", {"process_id": pid}))
        out["report"] = reply_of(await call("ocean_sr_train_report", {"process_id": pid}))
        out["predict"] = reply_of(
            await call(
                "ocean_sr_predict",
                {"run": pid, "input": str(lr_file), "timeout": 300},
                progress_callback=on_progress,
            )
        )
        out["models"] = reply_of(await call("ocean_sr_list_models", {}))
        out["check_data"] = reply_of(
            await call("ocean_sr_check_data", {"path": str(sample_path()), "decode_times": False})
        )
        out["gpu"] = reply_of(await call("ocean_sr_check_gpu", {}))
        out["list"] = reply_of(await call("ocean_sr_train_status", {"action": "list"}))
        out["bad_id"] = reply_of(await call("ocean_sr_train_status", {"process_id": "../../etc"}))
        out["visualize_unknown"] = reply_of(
            await call("ocean_sr_train_visualize", {"process_id": "train-20200101-000000-aaaaaa"})
        )
        # A second run, killed through the tool.
        second = reply_of(await call("ocean_sr_train_start", {"overrides": SLOW}))
        out["second_start"] = second
        out["kill"] = reply_of(
            await call(
                "ocean_sr_train_status",
                {"process_id": second["process_id"], "action": "kill", "grace": 30},
            )
        )
        out["kill_again"] = reply_of(
            await call(
                "ocean_sr_train_status", {"process_id": second["process_id"], "action": "kill"}
            )
        )
    return out


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("mcp-runs")
    lr_file = make_lr_input(tmp_path_factory.mktemp("mcp-data") / "lr.nc")
    return anyio.run(agent_flow, root, lr_file)


def test_tools_are_listed_with_agent_rules(flow: dict[str, Any]) -> None:
    assert set(flow["tools"]) >= EXPECTED_TOOLS
    status_doc = flow["tools"]["ocean_sr_train_status"].description
    assert "wait" in status_doc and "list" in status_doc and "ask" in status_doc.lower()
    start_schema = flow["tools"]["ocean_sr_train_start"].input_schema["properties"]
    assert {"model", "scale", "epochs", "learning_rate", "overrides"} <= set(start_schema)


def test_bad_start_is_a_classified_error_not_a_crash(flow: dict[str, Any]) -> None:
    bad = flow["bad_start"]
    assert bad["status"] == "error"
    assert bad["error_summary"]["failureType"] == "config_error"
    assert "unet" in bad["error_summary"]["message"]


def test_wrong_or_missing_arguments_are_answered_not_crashes(flow: dict[str, Any]) -> None:
    for result in (flow["wrong_type"], flow["missing_arg"]):
        assert result.is_error, "schema validation must answer with an error result"
        assert result.content and result.content[0].text
    assert flow["bad_path"]["status"] == "error"
    assert flow["bad_path"]["error_summary"]["failureType"] == "data_not_found"
    assert flow["start"]["status"] == "started", "the server keeps serving after bad calls"


def test_start_wait_status_completed_with_test_metrics(flow: dict[str, Any]) -> None:
    assert flow["start"]["status"] == "started"
    assert "optim.lr=0.001" in flow["start"]["overrides"]
    assert flow["wait"]["status"] == "completed"
    status = flow["status"]
    test = status["test_metrics"]
    assert test["test/rmse"] > 0 and test["test/rmse_bicubic"] > 0
    assert "test/rmse_gain" in test
    assert len(json.dumps(status)) < 8000, "status replies must stay compact for an agent"
    assert flow["progress"], "start/wait must send progress notifications"


def test_logs_tail_and_offset_reads_rebuild_the_log(flow: dict[str, Any]) -> None:
    assert flow["tail"]["content"].count("\n") <= 5
    assert flow["log_rebuilt"].encode() == Path(flow["log_path"]).read_bytes()


def test_visualize_and_report(flow: dict[str, Any]) -> None:
    assert flow["visualize"]["status"] == "ok"
    written = [Path(p) for p in flow["visualize"]["files"]]
    assert written and all(p.is_file() and p.suffix == ".png" for p in written)
    assert flow["report"]["status"] == "ok"
    assert Path(flow["report"]["report_md"]).is_file()
    assert Path(flow["report"]["report_html"]).is_file()


def test_predict_writes_hr_netcdf(flow: dict[str, Any]) -> None:
    reply = flow["predict"]
    assert reply["status"] == "completed", reply
    assert reply["process_id"].startswith("predict-")
    output = Path(reply["prediction"]["output_path"])
    with xr.open_dataset(output) as ds:
        assert ds["temp"].shape == (2, 1, 88, 180)
        assert ds["temp"].attrs["units"] == "degC"
        assert ds.attrs["oceansr_checkpoint"].endswith("best.ckpt")
        assert ds.attrs["oceansr_scale"] == 4
    assert reply["prediction"]["stats"]["temp"]["ocean_fraction"] > 0.5


def test_models_data_and_gpu_tools(flow: dict[str, Any]) -> None:
    names = {m["name"] for m in flow["models"]["models"]}
    assert {"srcnn", "edsr_baseline", "swinir_light"} <= names
    assert flow["check_data"]["status"] == "ok"
    assert "temp" in json.dumps(flow["check_data"])
    assert flow["gpu"]["status"] == "ok" and flow["gpu"]["summary"]


def test_list_and_bad_ids(flow: dict[str, Any]) -> None:
    ids = [row["process_id"] for row in flow["list"]["runs"]]
    assert flow["start"]["process_id"] in ids
    assert flow["bad_id"]["status"] == "error"
    assert flow["visualize_unknown"]["status"] == "error"


def test_kill_through_the_tool(flow: dict[str, Any]) -> None:
    assert flow["second_start"]["status"] == "started"
    assert flow["kill"]["status"] == "killed"
    assert flow["kill_again"]["status"] == "error", "killing a finished run is refused"


async def start_then_close(runs_root: Path) -> str:
    async with Client(server_params(runs_root)) as client:
        reply = reply_of(await client.call_tool("ocean_sr_train_start", {"overrides": SLOW}))
        assert reply["status"] == "started", reply
        return reply["process_id"]


def test_closing_the_client_stops_its_runs_gracefully(tmp_path: Path) -> None:
    run_id = anyio.run(start_then_close, tmp_path)
    doc = control.wait(run_id, timeout=RUN_PATIENCE_S, until="terminal", runs_root=tmp_path)
    assert doc["status"] == "killed", doc
    assert (tmp_path / run_id / "checkpoints" / "last.ckpt").is_file()
    # The trainer records `killed` and then exits.
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(doc["pid"]).wait(timeout=PATIENCE_S)
    assert not psutil.pid_exists(doc["pid"])
