"""Normalisation statistics computed once, by global rank 0, and read by the other ranks
through the run directory's data_stats.json (docs/architecture.md, data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oceansr.core.errors import OceanSRError
from oceansr.data.prepare import memory_stats_key, prepare_data
from oceansr.data.shared_stats import (
    STATS_FILE,
    WAIT_ENV,
    WAIT_S,
    StatsShare,
    StatsWaitError,
    read_stats,
    shared_stats,
    statistics,
    wait_for_stats,
    wait_seconds,
    write_stats,
)
from oceansr.runs.failures import classify_exception
from waiting import PATIENCE_S

KEY = "fingerprint-of-this-data"
STATS: dict[str, Any] = {
    "constant": [],
    "mean": [12.5],
    "std": [7.25],
    "data_range": [31.0],
    "ocean_fraction": [0.6],
}


def never(*_: Any) -> dict[str, Any]:
    raise AssertionError("this rank must not compute the statistics")


def test_a_rank_waits_past_stale_and_torn_files_until_rank_0_writes(tmp_path: Path) -> None:
    """The file appears later: the waiting rank reads it, after skipping a file of other
    data (an earlier attempt with other overrides) and a torn copy."""
    path = tmp_path / "run" / STATS_FILE
    write_stats(path, "fingerprint-of-other-data", {**STATS, "mean": [99.0]}, rank=0)
    naps: list[float] = []

    def sleep(seconds: float) -> None:  # rank 0 "works" while this rank sleeps
        naps.append(seconds)
        if len(naps) == 1:
            path.write_text(json.dumps({"key": KEY, "mean": [12.5]})[:20])  # torn
        elif len(naps) == 2:
            write_stats(path, KEY, STATS, rank=0)

    record = wait_for_stats(path, KEY, rank=1, wait_s=PATIENCE_S, poll_s=0.01, sleep=sleep)
    assert len(naps) == 2 and all(0 < nap <= 0.01 for nap in naps)
    assert statistics(record) == STATS
    assert record["computed_by"]["rank"] == 0 and record["key"] == KEY


def test_a_rank_gives_up_with_a_classified_error_when_rank_0_never_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / STATS_FILE
    path.write_text('{"key": "fingerprint-of-this-data", "mean": [1')  # rank 0 died mid-copy
    with pytest.raises(StatsWaitError) as info:
        wait_for_stats(path, KEY, rank=3, wait_s=0.05, poll_s=0.01)
    error = info.value
    assert isinstance(error, OceanSRError)
    assert "global rank 3" in error.message and "global rank 0" in error.message
    assert str(path) in error.message  # names the file it waited for
    assert error.fix is not None and WAIT_ENV in error.fix
    summary = classify_exception(error)
    assert summary["failureType"] == "distributed_error"
    assert WAIT_ENV in " ".join(summary.get("advice") or summary["suggestions"])


def test_rank_0_computes_once_then_reuses_the_file_of_the_same_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / STATS_FILE
    share = StatsShare(path, rank=0)
    assert shared_stats(share, KEY, lambda: dict(STATS)) == STATS
    record = json.loads(path.read_text())
    assert record["key"] == KEY and record["computed_by"]["rank"] == 0
    assert {"host", "pid", "at"} <= set(record["computed_by"])
    assert [p.name for p in tmp_path.iterdir()] == [STATS_FILE]  # no temp file left
    # A requeued or resumed attempt of the same run: same data, the file is reused.
    assert shared_stats(share, KEY, never) == STATS
    log = capsys.readouterr().out.splitlines()
    assert log == [
        f"[data] normalisation statistics computed by global rank 0, written to {path}",
        f"[data] normalisation statistics reused from {path} (computed by global rank 0 "
        f"on host {record['computed_by']['host']}, same data)",
    ]
    # Other data (or a torn file): rank 0 computes again and replaces the file.
    other = {**STATS, "mean": [1.0]}
    assert shared_stats(share, "fingerprint-of-other-data", lambda: dict(other)) == other
    assert read_stats(path, KEY) is None


def test_other_ranks_read_rank_0s_file_and_never_compute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / STATS_FILE
    write_stats(path, KEY, STATS, rank=0)
    capsys.readouterr()
    assert shared_stats(StatsShare(path, rank=1, wait_s=PATIENCE_S), KEY, never) == STATS
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"[data] global rank 1 read the normalisation statistics from {path}")
    assert "computed by global rank 0" in line


def test_in_memory_data_hand_over_their_statistics_too(tmp_path: Path) -> None:
    """The bundled sample (in memory): rank 0 computes and writes, rank 1 reads exactly
    rank 0's numbers without computing, and a checkpoint's statistics bypass both."""
    from oceansr.config.compose import compose_config
    from oceansr.data import prepare

    cfg = compose_config(["data=sample"]).data
    path = tmp_path / STATS_FILE
    first = prepare_data(cfg, StatsShare(path, rank=0))
    record = json.loads(path.read_text())
    assert record["key"] == memory_stats_key(cfg) and record["computed_by"]["rank"] == 0
    assert record["mean"] == first.mean and record["data_range"] == first.data_range

    def no_pass(hr: Any) -> None:
        raise AssertionError("rank 1 computed the statistics")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare, "split_stats", no_pass)
        second = prepare_data(cfg, StatsShare(path, rank=1, wait_s=PATIENCE_S))
        given = {"mean": [1.0], "std": [2.0], "data_range": [3.0]}
        tested = prepare_data(cfg, StatsShare(tmp_path / "none" / STATS_FILE, rank=0), given)
    assert (second.mean, second.std, second.data_range) == (
        first.mean,
        first.std,
        first.data_range,
    )
    assert (tested.mean, tested.std, tested.data_range) == ([1.0], [2.0], [3.0])
    assert not (tmp_path / "none").exists()


def test_the_in_memory_fingerprint_ignores_loader_settings_only() -> None:
    base = {"source": "sample", "variables": ["temp"], "scale": 4, "batch_size": 4}
    assert memory_stats_key(base) == memory_stats_key({**base, "batch_size": 32})
    assert memory_stats_key(base) != memory_stats_key({**base, "scale": 2})
    assert memory_stats_key(base) != memory_stats_key({**base, "variables": ["salt"]})


def test_the_wait_comes_from_the_environment_unless_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(WAIT_ENV, raising=False)
    assert wait_seconds(None) == WAIT_S
    monkeypatch.setenv(WAIT_ENV, "90")
    assert wait_seconds(None) == 90.0 and wait_seconds(2.5) == 2.5
    for bad in ("soon", "0", "-5", "nan", "inf"):
        monkeypatch.setenv(WAIT_ENV, bad)
        assert wait_seconds(None) == WAIT_S, bad  # neither no wait nor forever
