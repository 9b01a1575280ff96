"""SwinIR (Liang et al., 2021): image restoration with shifted-window transformers.

Self-attention is computed inside non-overlapping ``window_size`` x ``window_size``
windows, so the cost grows linearly with the image area instead of quadratically;
every second block shifts the windows by half a window so information crosses window
borders. A convolutional shallow-feature head and a conv after every residual Swin
group keep the inductive bias of CNNs, which the paper found essential for SR.

Differences from the reference implementation, and why:

* The input is padded (reflect) to a multiple of ``window_size`` inside ``forward`` and
  the output cropped back, so the model accepts any H x W -- ocean tiles rarely come in
  multiples of 8. Where a dimension is too small for reflect padding (pad >= size) it
  is replicate-padded instead.
* The shifted-window attention mask depends on the padded size, so it is computed on
  the fly and cached per (size, device, dtype) rather than stored as a buffer for one
  training size; checkpoints therefore do not depend on the training patch size.
* No RGB mean shift / ``img_range`` (data are normalised upstream) and no absolute
  position embedding (it would tie the model to one input size).

Written from the paper's description in plain torch (no timm / einops).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from oceansr.models.edsr import Upsampler

_MASK_CACHE_SIZE = 16


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * nW, ws * ws, C); H and W must be multiples of ``ws``."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(windows: torch.Tensor, ws: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B * nW, ws * ws, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def shifted_window_mask(
    h: int, w: int, ws: int, shift: int, device: torch.device | None = None
) -> torch.Tensor:
    """Additive attention mask (nW, ws*ws, ws*ws) for a cyclically shifted H x W map.

    After the cyclic shift, a window at the border contains pixels from opposite sides
    of the image; they must not attend to each other. Pixels are labelled by the
    region they came from and pairs with different labels get -100 (exp() ~ 0).
    """
    labels = torch.zeros(1, h, w, 1, device=device)
    cuts = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    region = 0
    for hs in cuts:
        for vs in cuts:
            labels[:, hs, vs, :] = region
            region += 1
    lw = window_partition(labels, ws).squeeze(-1)  # (nW, N)
    diff = lw.unsqueeze(1) - lw.unsqueeze(2)
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class DropPath(nn.Module):
    """Stochastic depth: drop a whole residual branch per sample during training."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Mlp(nn.Module):
    """Transformer feed-forward: Linear-GELU-Linear."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window, with a learnt relative position bias.

    The bias table has one entry per possible (dy, dx) offset, (2*ws-1)^2 of them per
    head, so position information is translation invariant and independent of the
    image size.
    """

    relative_position_index: torch.Tensor  # a registered buffer (declared for type checkers)

    def __init__(self, dim: int, window_size: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.dim = dim
        self.window_size = window_size
        self.num_heads = num_heads
        self.qk_scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1) ** 2, num_heads)
        )
        coords = torch.arange(window_size)
        grid = torch.stack(torch.meshgrid(coords, coords, indexing="ij")).flatten(1)  # (2, N)
        rel = (grid[:, :, None] - grid[:, None, :]).permute(1, 2, 0) + (window_size - 1)
        index = rel[..., 0] * (2 * window_size - 1) + rel[..., 1]  # (N, N)
        self.register_buffer("relative_position_index", index, persistent=True)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B * nW, N, C); mask: (nW, N, N) additive, or None for unshifted windows."""
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B*nW, heads, N, hd)
        attn = (q * self.qk_scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(n, n, -1).permute(2, 0, 1).unsqueeze(0).to(attn.dtype)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(bw // nw, nw, self.num_heads, n, n) + mask[None, :, None].to(
                attn.dtype
            )
            attn = attn.view(bw, self.num_heads, n, n)
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(out)


class SwinTransformerBlock(nn.Module):
    """Pre-norm (shifted-)window attention + MLP, both with residual connections."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int,
        shift_size: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path: float,
    ) -> None:
        super().__init__()
        self.window_size = window_size
        self.shift_size = shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads, qkv_bias)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(
        self, x: torch.Tensor, x_size: tuple[int, int], mask: torch.Tensor | None
    ) -> torch.Tensor:
        """x: (B, H*W, C) tokens of an H x W map (multiples of the window size)."""
        h, w = x_size
        b, _, c = x.shape
        ws, s = self.window_size, self.shift_size
        y = self.norm1(x).view(b, h, w, c)
        if s > 0:
            y = torch.roll(y, shifts=(-s, -s), dims=(1, 2))
        y = self.attn(window_partition(y, ws), mask if s > 0 else None)
        y = window_reverse(y, ws, h, w)
        if s > 0:
            y = torch.roll(y, shifts=(s, s), dims=(1, 2))
        x = x + self.drop_path(y.reshape(b, h * w, c))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class RSTB(nn.Module):
    """Residual Swin Transformer Block: Swin blocks, a conv, and a skip around them.

    The conv re-introduces spatial inductive bias between transformer stages; the
    skip lets the group learn a residual, which eases optimisation of deep stacks.
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        num_heads: int,
        window_size: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path: Sequence[float],
        resi_connection: str,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinTransformerBlock(
                dim,
                num_heads,
                window_size,
                0 if i % 2 == 0 else window_size // 2,
                mlp_ratio,
                qkv_bias,
                drop_path[i],
            )
            for i in range(depth)
        )
        if resi_connection == "1conv":
            self.conv: nn.Module = nn.Conv2d(dim, dim, 3, padding=1)
        else:  # "3conv": a cheaper bottleneck for very wide models
            self.conv = nn.Sequential(
                nn.Conv2d(dim, dim // 4, 3, padding=1),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(dim // 4, dim // 4, 1),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(dim // 4, dim, 3, padding=1),
            )

    def forward(
        self, x: torch.Tensor, x_size: tuple[int, int], mask: torch.Tensor | None
    ) -> torch.Tensor:
        y = x
        for blk in self.blocks:
            y = blk(y, x_size, mask)
        b, _, c = y.shape
        y = self.conv(y.transpose(1, 2).reshape(b, c, *x_size))
        return x + y.flatten(2).transpose(1, 2)


class SwinIR(nn.Module):
    """SwinIR for super-resolution (options: ``conf/model/swinir*.yaml``).

    Args:
        in_channels: channels of the low-resolution input.
        out_channels: channels of the high-resolution output.
        scale: upscaling factor.
        embed_dim: token width (classical 180, lightweight 60).
        depths: Swin blocks per residual group.
        num_heads: attention heads per residual group; must divide ``embed_dim``.
        window_size: attention window side; inputs are padded to a multiple of it.
        mlp_ratio: MLP hidden width / ``embed_dim``.
        qkv_bias: learn a bias in the q/k/v projection.
        drop_path_rate: stochastic depth rate, increased linearly over the blocks.
        upsampler: ``"pixelshuffle"`` (conv to ``num_feat`` + EDSR-style upsampler; for
            scales that are powers of two or 3) or ``"pixelshuffledirect"`` (one conv +
            one shuffle; lightweight and valid for any scale).
        resi_connection: ``"1conv"`` or ``"3conv"`` conv at the end of each group.
        num_feat: width of the ``"pixelshuffle"`` upsampler.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        embed_dim: int,
        depths: Sequence[int],
        num_heads: Sequence[int],
        window_size: int,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_path_rate: float,
        upsampler: str,
        resi_connection: str,
        num_feat: int,
    ) -> None:
        super().__init__()
        depths, num_heads = list(depths), list(num_heads)
        self.scale: int = int(scale)
        self.window_size = int(window_size)
        self.upsampler = upsampler
        self._mask_cache: dict[tuple[int, int, str, torch.dtype], torch.Tensor] = {}

        # Shallow features: a single conv; patch_size is 1, so "patch embedding" is just
        # flattening the map to tokens plus a LayerNorm.
        self.conv_first = nn.Conv2d(in_channels, embed_dim, 3, padding=1)
        self.patch_norm = nn.LayerNorm(embed_dim)

        dpr = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
        self.layers = nn.ModuleList()
        start = 0
        for depth, heads in zip(depths, num_heads, strict=True):
            self.layers.append(
                RSTB(
                    embed_dim,
                    depth,
                    heads,
                    self.window_size,
                    mlp_ratio,
                    qkv_bias,
                    dpr[start : start + depth],
                    resi_connection,
                )
            )
            start += depth
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, padding=1)

        if upsampler == "pixelshuffle":
            self.conv_before_upsample: nn.Module = nn.Sequential(
                nn.Conv2d(embed_dim, num_feat, 3, padding=1), nn.LeakyReLU(inplace=True)
            )
            self.upsample: nn.Module = Upsampler(self.scale, num_feat)
            self.conv_last: nn.Module = nn.Conv2d(num_feat, out_channels, 3, padding=1)
        else:
            self.conv_before_upsample = nn.Identity()
            self.upsample = nn.Sequential(
                nn.Conv2d(embed_dim, out_channels * self.scale**2, 3, padding=1),
                nn.PixelShuffle(self.scale),
            )
            self.conv_last = nn.Identity()

        self.apply(self._init_weights)

    #: State-dict prefixes whose shapes depend on the scale: the upsampler (the shallow
    #: and deep feature extraction transfer to another scale, ``init_from``).
    scale_dependent: tuple[str, ...] = ("upsample.",)

    @property
    def output_conv(self) -> nn.Conv2d:
        """The last conv (of the upsampler for ``pixelshuffledirect``), zeroed when the
        model learns a residual over bicubic."""
        direct = cast(nn.Sequential, self.upsample)
        last = self.conv_last if isinstance(self.conv_last, nn.Conv2d) else direct[0]
        return cast(nn.Conv2d, last)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        """Transformer init (small truncated-normal linears); convs keep torch defaults."""
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def _attn_mask(self, h: int, w: int, ref: torch.Tensor) -> torch.Tensor | None:
        """The shifted-window mask for an (h, w) padded map, cached per size/device/dtype."""
        shift = self.window_size // 2
        if shift == 0:
            return None
        key = (h, w, str(ref.device), ref.dtype)
        mask = self._mask_cache.get(key)
        if mask is None:
            if len(self._mask_cache) >= _MASK_CACHE_SIZE:
                self._mask_cache.clear()
            mask = shifted_window_mask(h, w, self.window_size, shift, ref.device).to(ref.dtype)
            self._mask_cache[key] = mask
        return mask

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad bottom/right to a multiple of the window (reflect, else replicate)."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.window_size, (-w) % self.window_size
        if pw:
            x = F.pad(x, (0, pw, 0, 0), mode="reflect" if pw < w else "replicate")
        if ph:
            x = F.pad(x, (0, 0, 0, ph), mode="reflect" if ph < h else "replicate")
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Deep features of a (B, C, H, W) map whose H, W are window multiples."""
        b, c, h, w = x.shape
        mask = self._attn_mask(h, w, x)
        t = self.patch_norm(x.flatten(2).transpose(1, 2))
        for layer in self.layers:
            t = layer(t, (h, w), mask)
        t = self.norm(t)
        return t.transpose(1, 2).reshape(b, c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (B, C_in, h, w) with any h, w to (B, C_out, s*h, s*w)."""
        h, w = x.shape[-2:]
        x = self.conv_first(self._pad(x))
        x = self.conv_after_body(self.forward_features(x)) + x
        x = self.conv_last(self.upsample(self.conv_before_upsample(x)))
        return x[..., : h * self.scale, : w * self.scale]
