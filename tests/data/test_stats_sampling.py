"""Normalisation statistics from a bounded seeded sample (data.stats), read in parallel,
recorded with the statistics, and reported while the trainer prepares its data."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from lazy_data import lazy_data_cfg
from oceansr.config.checks import check_config
from oceansr.config.compose import compose_config
from oceansr.control import launch
from oceansr.control import status as control_status
from oceansr.core.errors import ConfigError
from oceansr.data.lazy import stats as streaming
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.lazy.source import LazyData, build_plan
from oceansr.data.prepare import prepare_data, split_stats
from oceansr.data.stats_sampling import checkpoint_record, stats_choice
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.engine.callbacks.preparing import DataPreparation
from oceansr.engine.callbacks.session import RunSession
from oceansr.runs import read_status
from runfactory import make_run

FIELDS = 40
SPLIT = {
    "dim": "time",
    "by": "index",
    "train": {"start": 0, "stop": FIELDS - 4},
    "valid": [FIELDS - 4, FIELDS - 3],
    "test": [FIELDS - 2, FIELDS - 1],
}
TRAIN = FIELDS - 4


@pytest.fixture(scope="module")
def field() -> xr.Dataset:
    return make_synthetic_dataset(n_time=FIELDS, height=32, width=48, variables=("temp", "salt"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, field: xr.Dataset) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.zarr"
    field.to_zarr(path, zarr_format=2, consolidated=True)
    return path


def data_cfg(path: Any, **extra: Any) -> dict[str, Any]:
    return lazy_data_cfg(str(path), SPLIT, **extra)


class CountingReads:
    """SplitReader.read, counting which training fields are read (from any thread)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.indices: list[int] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()
        original = SplitReader.read

        def read(reader: SplitReader, index: int, window: Any = None) -> np.ndarray:
            with self._lock:
                self.indices.append(index)
                self.threads.add(threading.current_thread().name)
            return original(reader, index, window)

        monkeypatch.setattr(SplitReader, "read", read)


def test_sampled_statistics_read_a_seeded_bounded_sample(store: Path, monkeypatch) -> None:
    reads = CountingReads(monkeypatch)
    progress: list[tuple[int, int]] = []
    plan = build_plan(data_cfg(store, stats_fields=6, stats_seed=3), 4)
    sampled = LazyData(plan, progress=lambda done, total: progress.append((done, total)))
    expected = sorted(np.random.default_rng(3).choice(TRAIN, size=6, replace=False).tolist())
    assert sampled.stats["sampling"] == {
        "method": "sample",
        "fields_read": 6,
        "fields_total": TRAIN,
        "seed": 3,
    }
    assert sorted(reads.indices) == expected  # exactly these fields, each once
    assert progress == [(done, 6) for done in range(7)]
    again = LazyData(build_plan(data_cfg(store, stats_fields=6, stats_seed=3), 4))
    assert again.stats == sampled.stats  # same seed, same statistics
    other = LazyData(build_plan(data_cfg(store, stats_fields=6, stats_seed=4), 4))
    assert other.mean != sampled.mean
    assert sorted(reads.indices[12:]) != expected  # another seed, other fields


def test_sample_larger_than_the_split_reads_every_field_once(store: Path, monkeypatch) -> None:
    reads = CountingReads(monkeypatch)
    data = LazyData(build_plan(data_cfg(store, stats_fields=1000), 4))
    assert data.stats["sampling"]["fields_read"] == TRAIN
    assert sorted(reads.indices) == list(range(TRAIN))


def test_sampled_statistics_are_near_the_exact_ones(store: Path) -> None:
    exact = LazyData(build_plan(data_cfg(store, stats="exact"), 4))
    sampled = LazyData(build_plan(data_cfg(store), 4))  # auto on the lazy path: 16 fields
    assert sampled.stats["sampling"]["method"] == "sample"
    assert sampled.stats["sampling"]["fields_read"] == 16
    assert exact.stats["sampling"]["fields_read"] == TRAIN
    for c in range(2):
        assert abs(sampled.mean[c] - exact.mean[c]) < 0.1 * exact.std[c]
        assert sampled.std[c] == pytest.approx(exact.std[c], rel=0.1)
        assert sampled.data_range[c] <= exact.data_range[c] * (1 + 1e-9)


def test_parallel_pass_equals_the_serial_one(store: Path, monkeypatch) -> None:
    reads = CountingReads(monkeypatch)
    serial = LazyData(build_plan(data_cfg(store, stats="exact", stats_threads=1), 4))
    assert serial.stats["sampling"]["fields_read"] == TRAIN
    reads.threads.clear()
    parallel = LazyData(build_plan(data_cfg(store, stats="exact", stats_threads=4), 4))
    assert parallel.stats == serial.stats  # merged in field order: bit for bit
    assert len(reads.threads) > 1, "the fields were read by several threads"


def test_exact_lazy_pass_equals_the_in_memory_statistics(store: Path) -> None:
    memory = prepare_data(data_cfg(store, cache="memory"))  # auto in memory: exact
    lazy = LazyData(build_plan(data_cfg(store, stats="exact"), 4))
    for key in ("mean", "std", "data_range"):
        np.testing.assert_allclose(getattr(lazy, key), getattr(memory, key), rtol=1e-6)
    assert memory.stats_sampling == lazy.stats["sampling"]
    assert memory.summary()["stats_sampling"]["method"] == "exact"


def test_in_memory_sample_reads_the_same_fields(store: Path) -> None:
    memory = prepare_data(data_cfg(store, cache="memory", stats="sample", stats_fields=5))
    picked = stats_choice({"stats": "sample", "stats_fields": 5}, lazy=False).indices(TRAIN)
    want = split_stats(memory.splits["train"].hr[picked])
    assert memory.mean == want["mean"] and memory.std == want["std"]
    assert memory.stats_sampling == {
        "method": "sample",
        "fields_read": 5,
        "fields_total": TRAIN,
        "seed": 0,
    }
    lazy = LazyData(build_plan(data_cfg(store, stats_fields=5), 4))  # the same fields
    np.testing.assert_allclose(lazy.mean, memory.mean, rtol=1e-6)


def test_the_choice_is_recorded_and_keys_the_cache(store: Path, tmp_path: Path) -> None:
    cache = tmp_path / "run" / streaming.STATS_FILE
    data = LazyData(build_plan(data_cfg(store, stats_fields=4), 4), stats_cache=cache)
    summary = data.summary()
    record = json.loads(cache.read_text())
    assert record["sampling"] == summary["stats_sampling"] == data.stats_sampling
    assert record["sampling"]["fields_read"] == 4
    plan = build_plan(data_cfg(store), 4)
    keys = {
        streaming.stats_key(plan, stats_choice(cfg, lazy=True))
        for cfg in (
            {"stats": "exact"},
            {"stats": "exact", "stats_fields": 3, "stats_threads": 1},  # same pass
            {"stats_fields": 4},
            {"stats_fields": 5},
            {"stats_fields": 4, "stats_seed": 1},
            {"stats_fields": 4, "stats_threads": 1},  # threads: same result
        )
    }
    assert len(keys) == 4


def test_resumes_keep_how_the_statistics_were_first_made() -> None:
    first = {"method": "sample", "fields_read": 16, "fields_total": 900, "seed": 0}
    resumed = checkpoint_record({"stats_sampling": first})
    assert resumed["method"] == "checkpoint" and resumed["fields_read"] == 0
    assert checkpoint_record({"stats_sampling": resumed})["trained_with"] == first
    assert checkpoint_record({})["trained_with"] is None  # a checkpoint from before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("data.stats=fast", "data.stats"),
        ("data.stats_fields=0", "data.stats_fields"),
        ("data.stats_threads=0", "data.stats_threads"),
        ("data.stats_seed=-1", "data.stats_seed"),
    ],
)
def test_bad_choices_name_their_field(override: str, field: str) -> None:
    with pytest.raises(ConfigError) as composed:
        check_config(compose_config(["experiment=smoke", override]))
    assert composed.value.field == field
    key, _, raw = override.removeprefix("data.").partition("=")
    value: Any = raw if key == "stats" else int(raw)
    with pytest.raises(ConfigError) as direct:  # a hand-made config (notebooks) too
        stats_choice({key: value}, lazy=True)
    assert direct.value.field == field and field in str(direct.value)


def test_preparation_progress_reaches_status_and_replies(tmp_path: Path, capsys) -> None:
    paths = make_run(tmp_path, status="running")
    session = RunSession(paths, [], enabled=True)  # not opened: no threads, flushed here
    preparing = DataPreparation(session)
    for done in range(0, 21):
        preparing(done, 20)
        if done == 7:
            session.flush()
            doc = read_status(paths)
            assert doc["phase"] == "preparing_data"
            assert doc["data_progress"] == {
                "stage": "statistics",
                "fields_read": 7,
                "fields_total": 20,
            }
            reply = control_status(paths.run_id, runs_root=tmp_path)
            assert reply["data_progress"]["fields_read"] == 7
            starting = launch._starting(paths, {"process_id": paths.run_id})
            assert starting["phase"] == "preparing_data"
            assert starting["data_progress"]["fields_total"] == 20
    preparing.finish()
    session.flush()  # a published progress not yet written must not come back
    doc = read_status(paths)
    assert doc["phase"] == "starting" and doc["data_progress"] is None
    assert "data_progress" not in control_status(paths.run_id, runs_root=tmp_path)
    assert "data_progress" not in launch._starting(paths, {"process_id": paths.run_id})
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "statistics:" in ln]
    assert lines[0] == "oceansr: statistics: 0/20 fields"
    assert lines[-1] == "oceansr: statistics: 20/20 fields"
    assert len(lines) == 11  # every 10 %


def test_another_rank_writes_no_progress(tmp_path: Path) -> None:
    paths = make_run(tmp_path, status="running")
    session = RunSession(paths, [], enabled=False)
    preparing = DataPreparation(session)
    preparing(1, 4)
    assert session._pending_status is None  # nothing handed to a heartbeat
    preparing.finish()
    assert "data_progress" not in read_status(paths)
