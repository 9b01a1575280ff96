"""Tests for oceansr.models: parameter counts, shapes, padding, gradients, registry errors."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import oceansr.models as models_pkg
from oceansr.core.errors import ConfigError
from oceansr.models import MODEL_NAMES, build_model, list_models
from oceansr.models.registry import _REGISTRY
from oceansr.models.swinir import (
    SwinTransformerBlock,
    shifted_window_mask,
    window_partition,
    window_reverse,
)

# Tiny architectures so forward passes stay in the millisecond range on 2 CPU cores.
TINY: dict[str, dict] = {
    "srcnn": {"hidden_channels": [8, 4]},
    "edsr_baseline": {"n_resblocks": 2, "n_feats": 8},
    "edsr": {"n_resblocks": 2, "n_feats": 8},
    "swinir_light": {"embed_dim": 12, "depths": [2, 2], "num_heads": [2, 2]},
    "swinir": {"embed_dim": 12, "depths": [2], "num_heads": [2], "num_feat": 8},
}
SCALES: dict[str, tuple[int, ...]] = {
    "srcnn": (2, 3, 4, 5),
    "edsr_baseline": (2, 3, 4, 8),
    "edsr": (2, 3, 4, 8),
    "swinir_light": (2, 3, 4, 5),
    "swinir": (2, 3, 4, 8),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# --- parameter counts (published numbers; meta device: no memory, no forward) ------------


@pytest.mark.parametrize(
    ("name", "channels", "expected"),
    [
        ("srcnn", 1, 57_281),
        ("edsr_baseline", 3, 1_517_571),
        ("edsr", 3, 43_089_923),
        ("swinir_light", 3, 929_628),
        ("swinir", 3, 11_900_199),
    ],
)
def test_published_parameter_counts(name: str, channels: int, expected: int) -> None:
    with torch.device("meta"):
        model = build_model(name, channels, channels, 4)
    assert n_params(model) == expected


def test_swinir_bias_tables_are_parameters_and_index_is_buffer() -> None:
    with torch.device("meta"):
        model = build_model("swinir_light", 3, 3, 4)
    tables = [n for n, _ in model.named_parameters() if "relative_position_bias_table" in n]
    index = [n for n, _ in model.named_buffers() if "relative_position_index" in n]
    assert len(tables) == len(index) == 24
    table = dict(model.named_parameters())[tables[0]]
    assert tuple(table.shape) == (15 * 15, 6)


# --- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_output_shapes_all_scales(name: str) -> None:
    for scale in SCALES[name]:
        for c_in, c_out, (h, w) in [(1, 1, (7, 11)), (3, 2, (13, 9))]:
            model = build_model(name, c_in, c_out, scale, **TINY[name]).eval()
            assert model.scale == scale
            with torch.no_grad():
                y = model(torch.randn(2, c_in, h, w))
            assert y.shape == (2, c_out, h * scale, w * scale), (name, scale, c_in, h, w)
            assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ["swinir_light", "swinir"])
def test_swinir_tiny_inputs_smaller_than_window(name: str) -> None:
    # 3x5 is too small for reflect padding to 8; replicate padding must kick in.
    model = build_model(name, 2, 1, 2, **TINY[name]).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 2, 3, 5))
    assert y.shape == (1, 1, 6, 10)
    assert torch.isfinite(y).all()


def test_srcnn_starts_from_bicubic_upsampling() -> None:
    """With every conv set to a centre delta, SRCNN reduces to bicubic interpolation."""
    model = build_model("srcnn", 1, 1, 3).eval()
    with torch.no_grad():
        for conv in (model.conv1, model.conv2, model.conv3):
            conv.weight.zero_()
            conv.bias.zero_()
            k = conv.kernel_size[0] // 2
            conv.weight[0, 0, k, k] = 1.0
        x = torch.rand(1, 1, 7, 11) + 1.0  # positive, so the ReLUs pass it through
        y = model(x)
    assert y.shape == (1, 1, 21, 33)
    expected = F.interpolate(x, size=(21, 33), mode="bicubic", align_corners=False)
    torch.testing.assert_close(y, expected)


# --- SwinIR padding, masks and gradients ------------------------------------------------


@pytest.mark.parametrize("name", ["swinir_light", "swinir"])
def test_swinir_pad_then_crop_equals_explicit_reflect_padding(name: str) -> None:
    """model(x) on a non-window-multiple size == model(reflect_pad(x)) cropped back."""
    scale = 2
    model = build_model(name, 1, 1, scale, **TINY[name], drop_path_rate=0.0).eval()
    x = torch.randn(1, 1, 13, 11)
    x_pad = F.pad(x, (0, 5, 0, 3), mode="reflect")  # 16 x 16, a multiple of window 8
    with torch.no_grad():
        y = model(x)
        y_full = model(x_pad)
    assert y_full.shape == (1, 1, 32, 32)
    torch.testing.assert_close(y, y_full[..., : 13 * scale, : 11 * scale])
    # the mask is cached once per padded size
    with torch.no_grad():
        model(torch.randn(1, 1, 8, 24))
    assert {k[:2] for k in model._mask_cache} == {(16, 16), (8, 24)}


@pytest.mark.parametrize("name", ["swinir_light", "swinir"])
@pytest.mark.parametrize("size", [(16, 16), (13, 9)])
def test_swinir_gradient_reaches_every_parameter(name: str, size: tuple[int, int]) -> None:
    model = build_model(name, 3, 2, 2, **TINY[name], drop_path_rate=0.0).train()
    y = model(torch.randn(2, 3, *size))
    assert torch.isfinite(y).all()
    y.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def test_window_partition_roundtrip_and_mask() -> None:
    x = torch.randn(2, 8, 12, 5)
    windows = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 3, 16, 5)
    torch.testing.assert_close(window_reverse(windows, 4, 8, 12), x)
    mask = shifted_window_mask(8, 12, 4, 2)
    assert mask.shape == (6, 16, 16)
    assert (mask[0] == 0).all()  # an interior window never straddles the wrap-around
    assert (mask[-1] == -100).any()  # the bottom-right window mixes four regions
    assert set(mask.unique().tolist()) <= {0.0, -100.0}


@pytest.mark.parametrize("shift", [0, 2])
def test_swin_block_matches_naive_region_attention(shift: int) -> None:
    """Independent check of (shifted) window attention on a non-square 8 x 12 map.

    A pixel at (y, x) may attend exactly to the pixels in the same window of the grid
    offset by ``shift`` (windows cut at the border, not wrapped around), with bias
    B[y_q - y_k, x_q - x_k]. Computed here pixel by pixel, without roll or masks.
    """
    h, w, ws, dim, heads = 8, 12, 4, 6, 2
    blk = SwinTransformerBlock(dim, heads, ws, shift, 2.0, True, 0.0).eval()
    with torch.no_grad():
        blk.attn.relative_position_bias_table.normal_()  # make the bias matter
        x = torch.randn(1, h * w, dim)
        mask = shifted_window_mask(h, w, ws, shift) if shift else None
        got = blk(x, (h, w), mask)

        t = blk.norm1(x[0])
        q, k, v = blk.attn.qkv(t).view(h * w, 3, heads, dim // heads).unbind(1)
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        ys, xs = ys.flatten(), xs.flatten()
        group = ((ys - shift) // ws) * 1000 + (xs - shift) // ws
        out = torch.empty(h * w, heads, dim // heads)
        table = blk.attn.relative_position_bias_table
        for p in range(h * w):
            keys = (group == group[p]).nonzero().flatten()
            idx = (ys[p] - ys[keys] + ws - 1) * (2 * ws - 1) + (xs[p] - xs[keys] + ws - 1)
            logits = torch.einsum("hd,khd->hk", q[p], k[keys]) * (dim // heads) ** -0.5
            logits = logits + table[idx].T  # (heads, K)
            out[p] = torch.einsum("hk,khd->hd", logits.softmax(-1), v[keys])
        ref = x[0] + blk.attn.proj(out.reshape(h * w, dim))
        ref = ref + blk.mlp(blk.norm2(ref))
    torch.testing.assert_close(got[0], ref, atol=1e-5, rtol=1e-4)


def test_swinir_drop_path_only_in_training() -> None:
    model = build_model("swinir_light", 1, 1, 2, **TINY["swinir_light"], drop_path_rate=0.5)
    x = torch.randn(1, 1, 8, 8)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))


# --- registry -------------------------------------------------------------------------------


def test_list_models_content() -> None:
    rows = list_models()
    assert [r["name"] for r in rows] == list(MODEL_NAMES)
    assert set(MODEL_NAMES) == {"srcnn", "edsr_baseline", "edsr", "swinir_light", "swinir"}
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        assert set(r) == {"name", "family", "description", "params", "scales"}
        assert isinstance(r["description"], str) and r["description"]
    assert {n: r["family"] for n, r in by_name.items()} == {
        "srcnn": "srcnn",
        "edsr_baseline": "edsr",
        "edsr": "edsr",
        "swinir_light": "swinir",
        "swinir": "swinir",
    }
    assert by_name["srcnn"]["params"] == 57_281
    for name in ("edsr_baseline", "edsr", "swinir_light", "swinir"):
        with torch.device("meta"):
            assert by_name[name]["params"] == n_params(build_model(name, 1, 1, 4))
    assert by_name["edsr"]["scales"] == [2, 3, 4, 8]
    assert by_name["swinir"]["scales"] == [2, 3, 4, 8]
    assert by_name["srcnn"]["scales"] == "any integer >= 2"
    assert by_name["swinir_light"]["scales"] == "any integer >= 2"
    rows[0]["name"] = "mutated"
    assert list_models()[0]["name"] == "srcnn"


def test_package_exports() -> None:
    assert set(models_pkg.__all__) == {
        "build_model",
        "list_models",
        "MODEL_NAMES",
        "scale_dependent_prefixes",
        "zero_output",
    }


def test_registry_schema_matches_constructors() -> None:
    for spec in _REGISTRY.values():
        params = set(inspect.signature(spec.cls).parameters) - {
            "in_channels",
            "out_channels",
            "scale",
        }
        assert set(spec.schema) == params, spec.name


def test_constructors_take_every_option_from_the_config_file() -> None:
    """Architecture numbers live in conf/model/<name>.yaml only: no constructor default."""
    for spec in _REGISTRY.values():
        params = inspect.signature(spec.cls).parameters
        with_default = [
            name for name in spec.schema if params[name].default is not params[name].empty
        ]
        assert with_default == [], spec.name


def test_no_lightning_in_models() -> None:
    for path in Path(models_pkg.__file__).parent.glob("*.py"):
        assert "lightning" not in path.read_text(), path.name


def test_kwargs_override_architecture_and_accept_listconfig() -> None:
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({"depths": [2, 2], "num_heads": [3, 3]})
    with torch.device("meta"):
        model = build_model(
            "swinir_light", 1, 1, 3, embed_dim=12, depths=cfg.depths, num_heads=cfg.num_heads
        )
        edsr = build_model("edsr", 1, 1, 2, n_resblocks=3, n_feats=16, res_scale=1)
    assert len(model.layers) == 2 and len(model.layers[0].blocks) == 2
    assert len(edsr.body) == 3 + 1 and edsr.body[0].res_scale == 1.0
    assert build_model("SRCNN", 1, 1, 2).scale == 2  # names are case-insensitive


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("unet", 1, 1, 4), {}, "model.name"),
        ((None, 1, 1, 4), {}, "model.name"),
        (("edsr", 1, 1, 5), {}, "data.scale"),
        (("swinir", 1, 1, 6), {}, "data.scale"),
        (("srcnn", 1, 1, 1), {}, "data.scale"),
        (("srcnn", 1, 1, "4"), {}, "data.scale"),
        (("swinir_light", 1, 1, 5), {"upsampler": "pixelshuffle"}, "data.scale"),
        (("srcnn", 0, 1, 2), {}, "model.in_channels"),
        (("edsr_baseline", 1, 1, 2), {"n_blocks": 4}, "model.n_blocks"),
        (("swinir", 1, 1, 2), {"n_resblocks": 4}, "model.n_resblocks"),
        (("edsr", 1, 1, 2), {"n_feats": "64"}, "model.n_feats"),
        (("edsr", 1, 1, 2), {"res_scale": -1.0}, "model.res_scale"),
        (("swinir", 1, 1, 2), {"depths": "6,6"}, "model.depths"),
        (("swinir", 1, 1, 2), {"depths": [6, 0]}, "model.depths[1]"),
        (("swinir", 1, 1, 2), {"depths": [6, 6], "num_heads": [6]}, "model.num_heads"),
        (("swinir", 1, 1, 2), {"embed_dim": 50}, "model.embed_dim"),
        (("swinir", 1, 1, 2), {"upsampler": "nearest"}, "model.upsampler"),
        (("swinir", 1, 1, 2), {"qkv_bias": "yes"}, "model.qkv_bias"),
        (("srcnn", 1, 1, 2), {"kernel_sizes": [9, 4, 5]}, "model.kernel_sizes[1]"),
    ],
)
def test_config_errors_name_the_field(args: tuple, kwargs: dict, field: str) -> None:
    with torch.device("meta"), pytest.raises(ConfigError) as info:
        build_model(*args, **kwargs)
    assert info.value.field == field
    assert info.value.fix
    assert isinstance(info.value, ValueError)


def test_unknown_model_fix_lists_names() -> None:
    with pytest.raises(ConfigError) as info:
        build_model("unet", 1, 1, 4)
    for name in MODEL_NAMES:
        assert name in info.value.fix


def test_registry_defaults_are_the_model_config_files() -> None:
    """One place for architecture numbers: conf/model/<name>.yaml, read by both sides."""
    from omegaconf import OmegaConf

    from oceansr.config.architectures import OUTPUT_OPTIONS
    from oceansr.config.compose import compose_config, config_groups
    from oceansr.models.registry import model_defaults

    assert config_groups()["model"] == sorted(MODEL_NAMES)
    for name in MODEL_NAMES:
        composed = OmegaConf.to_container(compose_config([f"model={name}"]).model)
        assert composed == {"name": name, **model_defaults(name)}
        # The network's options, and those of the output layer every model has.
        expected = set(_REGISTRY[name].schema) | set(OUTPUT_OPTIONS)
        assert set(model_defaults(name)) == expected, name
    source = Path(models_pkg.__file__).parent.joinpath("registry.py").read_text()
    assert 'n_resblocks": 16' not in source and 'embed_dim": 60' not in source
