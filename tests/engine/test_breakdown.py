"""Metrics that cannot hide (issue 19, items 3, 4 and 7): equal whatever the batching,
broken down per group, and a gain claimed only when its block-bootstrap interval says so."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import torch

from oceansr.engine.breakdown import block_ids, breakdown, parse_label
from oceansr.engine.metrics import FieldErrors
from oceansr.engine.module import ESTIMATORS
from sr_modules import one_variable_module, two_variable_module

SCALE = 4


def _fields(n: int = 6) -> dict[str, torch.Tensor]:
    """``n`` fields of different means and coasts, so a batch-wide land fill would differ."""
    g = torch.Generator().manual_seed(3)
    hr = torch.randn(n, 2, 48, 64, generator=g).cumsum(-1).cumsum(-2) / 20
    hr = hr + torch.tensor([10.0, 35.0]).view(1, 2, 1, 1) + torch.arange(n).view(-1, 1, 1, 1)
    for i in range(n):
        hr[i, :, : 6 + 4 * i, : 10 + 5 * i] = float("nan")
    lr = torch.nn.functional.avg_pool2d(torch.nan_to_num(hr, 10.0), SCALE)
    return {"lr": lr, "hr": hr, "index": torch.arange(n)}


def _evaluate(sizes: list[int]) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    m = two_variable_module(scale=SCALE, eval_tile=64).eval()
    data, start = _fields(sum(sizes)), 0
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # self.log outside a Trainer
        for size in sizes:
            m._eval_step({k: v[start : start + size] for k, v in data.items()}, "test")
            start += size
    metrics = {kind: m.metrics[f"test_{kind}"].compute() for kind in ESTIMATORS}
    return metrics, m.test_errors.compute()


def test_every_metric_is_the_same_whatever_the_batch_split() -> None:
    """eval_batch_size 1, 4 and all give the same numbers, SSIM included: its land fill is
    each field's own mean. Ranks of DDP are batch splits too (a sum across them)."""
    reference, ref_fields = _evaluate([6])
    for sizes in ([1] * 6, [4, 2]):
        got, fields = _evaluate(sizes)
        for kind in ESTIMATORS:
            for name, value in got[kind].items():
                torch.testing.assert_close(
                    value, reference[kind][name], rtol=1e-6, atol=1e-9, msg=f"{sizes} {kind} {name}"
                )
        torch.testing.assert_close(fields["squared"], ref_fields["squared"])
    assert ref_fields["index"].tolist() == list(range(6))
    assert ref_fields["squared"].shape == (6, 2, len(ESTIMATORS))


def test_field_errors_drop_the_fields_a_sampler_repeats() -> None:
    errors = FieldErrors()
    sq = torch.ones(3, 1, 3)
    errors.update(torch.tensor([0, 2, 4]), sq, torch.ones(3, 1))
    errors.update(torch.tensor([1, 3, 0]), 2 * sq, torch.ones(3, 1))  # 0 again: padding
    out = errors.compute()
    assert out["index"].tolist() == [0, 1, 2, 3, 4]
    assert out["squared"][:, 0, 0].tolist() == [1.0, 2.0, 1.0, 2.0, 1.0]


def _synthetic(
    gain_by_depth: dict[float, float], months: int = 2, noise: float = 0.0, seed: int = 0
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per-field squared errors with the model's RMSE ``(1 - gain)`` times the spline's."""
    rng = np.random.default_rng(seed)
    labels, squared = [], []
    for month in range(11, 11 + months):
        for depth, gain in gain_by_depth.items():
            base = 1.0 + 0.1 * rng.random()
            model = base * (1 - gain) * (1 + noise * rng.standard_normal())
            labels.append(f"month={month} depth={depth}")
            # (C=1, K=3): model, bicubic (weaker), spline
            squared.append([[model**2 * 100, (1.05 * base) ** 2 * 100, base**2 * 100]])
    return labels, np.array(squared), np.full((len(labels), 1), 100.0)


def test_a_level_where_the_model_loses_is_named() -> None:
    gains = {float(d): 0.2 for d in range(0, 1000, 100)}
    gains[4000.0] = -0.05  # worse than the spline at the deepest level
    labels, sq, cells = _synthetic(gains)
    found = breakdown(labels, sq, cells, ESTIMATORS, split_dim="month")
    assert found["baseline"] == "spline"  # the stronger baseline, not bicubic
    assert found["rmse_gain"] > 10
    assert found["losing"] == ["depth=4000.0"]
    depth_rows = {row["value"]: row for row in found["groups"]["depth"]}
    assert depth_rows["4000.0"]["rmse"] > depth_rows["4000.0"]["rmse_spline"]
    assert [row["value"] for row in found["groups"]["month"]] == ["11", "12"]
    # Two months are too few blocks: the blocks are bands of depth levels instead.
    assert found["blocks_by"] == "depth" and found["blocks"] == 10


def test_beats_only_when_the_interval_excludes_zero() -> None:
    depths = {float(d): 0.1 for d in range(0, 2000, 100)}
    labels, sq, cells = _synthetic(depths, noise=0.01)
    clear = breakdown(labels, sq, cells, ESTIMATORS, split_dim="month")
    assert clear["verdict"] == "beats" and clear["ci95"][0] > 0, clear["ci95"]

    # Better in the upper half of the levels, worse below: blocks disagree.
    mixed = {d: (0.1 if i < len(depths) // 2 else -0.1) for i, d in enumerate(depths)}
    labels, sq, cells = _synthetic(mixed, noise=0.05)
    unclear = breakdown(labels, sq, cells, ESTIMATORS, split_dim="month")
    lo, hi = unclear["ci95"]
    assert lo < 0 < hi and unclear["verdict"] == "undecided"
    assert unclear["resamples"] == 2000


def test_one_block_gives_no_interval_and_no_claim() -> None:
    labels, sq, cells = _synthetic({0.0: 0.3}, months=1)
    found = breakdown(labels, sq, cells, ESTIMATORS, split_dim="month")
    assert found["ci95"] is None and found["verdict"] == "undecided" and found["blocks"] == 1


def test_blocks_follow_the_split_dimension_when_it_has_enough_values() -> None:
    labels = [parse_label(f"month={m} depth={d}") for m in range(1, 7) for d in (0, 10)]
    ids, by = block_ids(labels, "month")
    assert by == "month" and sorted(set(ids.tolist())) == list(range(6))
    # Contiguous bands of at most 10 when a dimension has more values.
    labels = [parse_label(f"depth={d}") for d in range(25)]
    ids, by = block_ids(labels, None)
    assert by == "depth" and len(set(ids.tolist())) == 10
    assert all(a <= b for a, b in itertools.pairwise(ids))  # bands follow depth


def test_labels_without_numbers_still_group() -> None:
    labels = ["time=2000-02-01", "time=2000-01-01", "time=2000-03-01"]
    labels, sq, cells = labels, np.ones((3, 1, 3)), np.ones((3, 1))
    found = breakdown(labels, sq, cells, ESTIMATORS)
    assert [row["value"] for row in found["groups"]["time"]] == [
        "2000-01-01",
        "2000-02-01",
        "2000-03-01",
    ]
    assert parse_label("sample=0") == {"sample": "0"}


def test_a_test_of_one_field_keeps_the_documented_shapes() -> None:
    """torchmetrics squeezes a one-element result to 0-d: a test split of one field (one
    variable) gave a 0-d ``index`` and ``cells``, and the end of every such run failed
    in the breakdown (``len() of unsized object``)."""
    m = one_variable_module({"name": "srcnn"}, scale=SCALE, eval_tile=64).eval()
    field = _fields(1)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # self.log outside a Trainer
        m._eval_step(
            {"lr": field["lr"][:, :1], "hr": field["hr"][:, :1], "index": field["index"]}, "test"
        )
        m.on_test_epoch_end()
    found = m.last_test_errors
    assert found["index"].tolist() == [0]
    assert found["squared"].shape == (1, 1, len(ESTIMATORS))
    assert found["cells"].shape == (1, 1) and found["cells"][0, 0] > 0
