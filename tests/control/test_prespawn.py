"""Everything a training request can get wrong is refused before a run exists.

Hostile or careless inputs found by a tester (docs/architecture.md, control plane): a
FIFO as a data path (used to block in open() while holding the data lock), launcher-owned
keys (``+trainer.default_root_dir``), ``trainer.max_epochs=-1`` alone, the Slurm backend
without ``sbatch``, interpolated secrets echoed in messages, list-valued splits that
passed the checks but not the spawned command. The refusals are answered by the
controller with nothing created; two real runs check what must train.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
import xarray as xr

from conftest import SMOKE, subprocess_env
from oceansr import control
from oceansr.core.errors import BusyError
from oceansr.data import stores
from oceansr.data.validation import validate_overrides
from oceansr.runs import RunPaths, read_events, read_run
from waiting import PATIENCE_S, RUN_PATIENCE_S, returns_within

#: What an interpolation below resolves to; it must never appear in a reply.
MARKER = "Zq7-oceansr-secret-marker"
SECRET_ENV = "OCEANSR_TEST_SECRET"


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("OCEANSR_RUNS", raising=False)


def _refused(root: Path, overrides: list[str], **kwargs) -> dict:
    """``control.start`` answers an error with no run directory and no process."""
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    reply = control.start(overrides, runs_root=root, **kwargs)
    assert reply["status"] == "error" and reply["process_id"] is None, reply
    assert not root.exists() or not any(root.iterdir())  # nothing created
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children
    return reply["error_summary"]


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.nc"
    os.mkfifo(path)
    yield path


# --------------------------------------------------------------------------- no blocking opens


def test_a_fifo_data_path_is_refused_without_opening_it(tmp_path: Path, fifo: Path) -> None:
    overrides = ["data=xarray", f"data.path={fifo}", "data.variables=[temp]"]
    summary = returns_within(
        lambda: _refused(tmp_path / "runs", overrides), "start with a FIFO as data.path"
    )
    assert summary["failureType"] == "data_not_found" and summary["field"] == "data.path"
    assert "FIFO" in summary["message"]
    # The lock was never taken for it: the next request is checked as usual.
    after = returns_within(lambda: validate_overrides(SMOKE), "a normal request after it")
    assert after["ok"], after.get("error_summary")


@pytest.mark.parametrize("how", ["glob", "list", "directory", "lr_path"])
def test_a_fifo_among_many_data_paths_is_refused(tmp_path: Path, how: str) -> None:
    real = tmp_path / "a.nc"
    xr.Dataset({"temp": (("y", "x"), np.zeros((8, 8), "float32"))}).to_netcdf(real)
    os.mkfifo(tmp_path / "b.nc")
    path = {
        "glob": f"data.path={tmp_path}/*.nc",
        "list": f"data.path=[{real},{tmp_path / 'b.nc'}]",
        "directory": f"data.path={tmp_path}",
        "lr_path": f"data.lr_path={tmp_path / 'b.nc'}",
    }[how]
    overrides = ["data=xarray", "data.variables=[temp]", f"data.path={real}", path]
    reply = returns_within(lambda: validate_overrides(overrides), f"FIFO in a {how}")
    assert not reply["ok"]
    summary = reply["error_summary"]
    assert summary["failureType"] == "data_not_found", summary
    assert summary["field"] == ("data.lr_path" if how == "lr_path" else "data.path")


def test_a_data_read_that_holds_the_lock_too_long_answers_busy() -> None:
    """The data-read lock has a deadline: a request queued behind a long read gets a
    classified "busy, retry" instead of waiting forever."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with stores.reading("a long read"):
            held.set()
            release.wait(PATIENCE_S)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(PATIENCE_S)
    try:
        with pytest.raises(BusyError) as caught, stores.reading("second request", wait_s=0.05):
            pass
    finally:
        release.set()
        holder.join(PATIENCE_S)
    assert caught.value.failure_type == "startup_timeout" and "retry" in (caught.value.fix or "")
    with stores.reading("after the release", wait_s=PATIENCE_S):  # free again
        pass


# --------------------------------------------------------------------------- launcher-owned keys


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("+trainer.default_root_dir=/tmp/elsewhere", "trainer.default_root_dir"),
        ("++trainer.default_root_dir=/tmp/elsewhere", "trainer.default_root_dir"),
        ("trainer.default_root_dir=/tmp/elsewhere", "trainer.default_root_dir"),
        ("+trainer.logger=false", "trainer.logger"),
        ("+trainer.callbacks=[]", "trainer.callbacks"),
        ("+trainer.plugins=[]", "trainer.plugins"),
        ("+trainer.enable_model_summary=false", "trainer.enable_model_summary"),
        ("runs_root=/tmp/elsewhere", "runs_root"),
        ("+run_id=train-20261128-064243-abcdef", "run_id"),
        ("hydra.run.dir=/tmp/elsewhere", "hydra.run.dir"),
        ("~hydra.output_subdir", "hydra.output_subdir"),
    ],
)
def test_launcher_owned_keys_are_refused_with_or_without_plus(
    tmp_path: Path, override: str, field: str
) -> None:
    summary = _refused(tmp_path / "runs", [*SMOKE, override])
    assert summary["failureType"] == "config_error" and summary["field"] == field
    assert "set by the launcher" in summary["message"]
    assert not Path("/tmp/elsewhere").exists() or field in ("runs_root",)


def test_a_key_added_with_plus_that_the_schema_does_not_know_is_refused(tmp_path: Path) -> None:
    summary = _refused(tmp_path / "runs", [*SMOKE, "+trainer.foo=1"])
    assert summary["failureType"] == "config_error" and summary["field"] == "trainer.foo"
    top = _refused(tmp_path / "runs", [*SMOKE, "+foo=1"])
    assert top["field"] == "foo"


def test_max_epochs_minus_one_needs_another_limit(tmp_path: Path) -> None:
    summary = _refused(tmp_path / "runs", [*SMOKE, "trainer.max_epochs=-1"])
    assert summary["failureType"] == "config_error" and summary["field"] == "trainer.max_epochs"
    assert any("trainer.max_steps" in s for s in summary["suggestions"])
    for bound in ("trainer.max_steps=2", "trainer.max_time=00:00:10:00"):
        reply = validate_overrides([*SMOKE, "trainer.max_epochs=-1", bound])
        assert reply["ok"], reply.get("error_summary")


# --------------------------------------------------------------------------- scheduler commands


def test_slurm_without_sbatch_on_path_is_missing_dependency_with_nothing_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bin"  # a PATH with python only: no sbatch, no squeue
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bare))
    summary = _refused(tmp_path / "runs", SMOKE, backend="slurm")
    assert summary["failureType"] == "missing_dependency", summary
    assert summary["field"] == "backend" and "sbatch" in summary["message"]
    assert any("backend=local" in s for s in summary["advice"])


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "overrides",
    [
        ["data=xarray", f"data.path=/tmp/${{oc.env:{SECRET_ENV}}}.nc", "data.variables=[t]"],
        [*SMOKE, f"data.variables=[${{oc.env:{SECRET_ENV}}}]"],
        [*SMOKE, f"trainer.max_epochs=${{oc.env:{SECRET_ENV}}}"],
        [*SMOKE, f"model.kernel_sizes=[9,${{oc.env:{SECRET_ENV}}},5]"],
    ],
)
def test_a_reply_quotes_an_interpolation_as_written_never_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: list[str]
) -> None:
    monkeypatch.setenv(SECRET_ENV, MARKER)
    summary = _refused(tmp_path / "runs", overrides)
    text = json.dumps(summary)
    assert MARKER not in text, text
    assert f"${{oc.env:{SECRET_ENV}}}" in summary["message"], summary
    assert summary["failureType"] in ("config_error", "data_not_found")
    assert summary.get("field")


def test_the_cli_quotes_an_interpolation_as_written(tmp_path: Path) -> None:
    env = subprocess_env(**{SECRET_ENV: MARKER})
    request = [
        "data=xarray",
        f"data.path=/data/${{oc.env:{SECRET_ENV}}}/t.nc",
        "data.variables=[t]",
    ]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "start",
            "--json",
            "--runs-root",
            str(tmp_path),
            *request,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=PATIENCE_S,
        check=False,
    )
    assert MARKER not in proc.stdout + proc.stderr
    reply = json.loads(proc.stdout)
    assert reply["error_summary"]["field"] == "data.path"
    assert f"/data/${{oc.env:{SECRET_ENV}}}/t.nc" in reply["error_summary"]["message"]


# --------------------------------------------------------------------------- what must train


def _no_coordinates_file(path: Path) -> Path:
    """12 fields on a 32x32 grid with no coordinate at all (no lat/lon, no time values):
    ``temp`` varies, ``flat`` is constant over the ocean."""
    rng = np.random.default_rng(0)
    y, x = np.meshgrid(np.linspace(0, 3, 32), np.linspace(0, 3, 32), indexing="ij")
    temp = np.stack(
        [np.sin(x + 0.3 * i) * np.cos(y) + 0.05 * rng.standard_normal(x.shape) for i in range(12)]
    ).astype("float32")
    temp[:, :4, :4] = np.nan
    flat = np.where(np.isnan(temp), np.nan, 5.0).astype("float32")
    xr.Dataset({"temp": (("time", "y", "x"), temp), "flat": (("time", "y", "x"), flat)}).to_netcdf(
        path
    )
    return path


@pytest.mark.slow
def test_list_splits_train_to_completion_and_odd_data_are_warned(tmp_path: Path) -> None:
    """``data.split.by=index`` with lists: validated and spawned through the same
    normalisation (it used to die in the trainer with "Cannot merge DictConfig with
    ListConfig"); no coordinates and a constant field are warned in the reply, in
    training_start and in train.log."""
    data = _no_coordinates_file(tmp_path / "nocoords.nc")
    root = tmp_path / "runs"
    overrides = [
        *("model=srcnn", "data=xarray", f"data.path={data}", "data.variables=[temp,flat]"),
        *("data.split.by=index", "data.split.train=[0,1,2,3,4,5,6,7]"),
        *("data.split.valid=[8,9]", "data.split.test=[10,11]"),
        *("data.patch_size=16", "data.batch_size=4", "trainer.max_epochs=1"),
        *("trainer.limit_train_batches=2", "trainer.limit_val_batches=1"),
        "trainer.limit_test_batches=1",
    ]
    reply = control.start(overrides, runs_root=root, startup_timeout=RUN_PATIENCE_S)
    assert reply["status"] == "started", reply
    text = " ".join(reply["warnings"])
    assert "no latitude/longitude" in text and "'flat' is constant" in text, reply["warnings"]
    done = control.wait(
        reply["process_id"], timeout=RUN_PATIENCE_S, until="terminal", runs_root=root
    )
    assert done["status"] == "completed", done.get("error_summary")
    paths = RunPaths.for_id(reply["process_id"], root)
    assert read_run(paths)["overrides"] == overrides  # recorded as the caller wrote them
    start = next(e for e in read_events(paths) if e["event"] == "training_start")
    assert any("'flat' is constant over the training split" in w for w in start["warnings"])
    assert any("no latitude/longitude" in w for w in start["warnings"])
    assert "[warning] variable 'flat' is constant" in paths.train_log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("bound", ["trainer.max_steps=3", "trainer.max_time=00:00:00:04"])
def test_max_epochs_minus_one_trains_until_its_other_limit(tmp_path: Path, bound: str) -> None:
    """-1 is Lightning's "no epoch limit": the run ends at max_steps or max_time (with
    max_time alone the step estimate is infinite, which used to fail the run ``unknown``
    with an OverflowError)."""
    root = tmp_path / "runs"
    reply = control.start(
        [*SMOKE, "trainer.max_epochs=-1", bound], runs_root=root, startup_timeout=RUN_PATIENCE_S
    )
    assert reply["status"] == "started", reply
    assert reply["progress"]["total_epochs"] is None
    done = control.wait(
        reply["process_id"], timeout=RUN_PATIENCE_S, until="terminal", runs_root=root
    )
    assert done["status"] == "completed", done.get("error_summary")
    if "max_steps" in bound:
        assert done["progress"]["step"] == 3
    else:
        assert done["stopped_by"] == "max_time" and done["progress"]["step"] > 0
