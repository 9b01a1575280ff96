"""EDSR (Lim et al., 2017): a deep residual CNN working at low resolution.

Unlike SRCNN, all convolutions run on the low-resolution grid and a learnt pixel-shuffle
upsampler produces the high-resolution output at the end, which makes deep networks
affordable. Following the paper we use no batch normalisation (it removes range
flexibility that regression needs) and scaled residuals (``res_scale``) to keep the very
wide variant stable. The RGB ``MeanShift`` layers of the reference implementation are
left out on purpose: ocean fields are normalised by the data pipeline.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn


def _conv(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """A 'same'-padded convolution with bias (the EDSR building block)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


class Upsampler(nn.Sequential):
    """Sub-pixel (pixel-shuffle) upsampler, as in EDSR and classical SwinIR.

    Powers of two are realised as a cascade of x2 stages (conv to 4x channels + shuffle),
    which keeps each stage's convolution small; 3 is a single x3 stage. Which scales a
    request may ask for is declared in :mod:`oceansr.config.architectures` and checked
    before a model is built, so another scale here is a programming error.
    """

    def __init__(self, scale: int, n_feats: int) -> None:
        layers: list[nn.Module] = []
        if scale >= 2 and scale & (scale - 1) == 0:
            for _ in range(int(math.log2(scale))):
                layers += [_conv(n_feats, 4 * n_feats), nn.PixelShuffle(2)]
        elif scale == 3:
            layers += [_conv(n_feats, 9 * n_feats), nn.PixelShuffle(3)]
        else:
            raise ValueError(f"a pixel-shuffle upsampler cannot realise scale {scale}")
        super().__init__(*layers)


class ResBlock(nn.Module):
    """conv-ReLU-conv with a scaled identity skip and no batch norm."""

    def __init__(self, n_feats: int, res_scale: float = 1.0, kernel_size: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(n_feats, n_feats, kernel_size),
            nn.ReLU(inplace=True),
            _conv(n_feats, n_feats, kernel_size),
        )
        self.res_scale = float(res_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) * self.res_scale


class EDSR(nn.Module):
    """EDSR: head conv, residual body with a long skip, pixel-shuffle tail.

    Args:
        in_channels: channels of the low-resolution input.
        out_channels: channels of the high-resolution output.
        scale: upscaling factor, 2, 3, 4 or 8 (any power of two works).
        n_resblocks: number of residual blocks (baseline 16, full 32).
        n_feats: feature width (baseline 64, full 256).
        res_scale: residual scaling (baseline 1.0, full 0.1 -- needed for stability
            at width 256).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        n_resblocks: int,
        n_feats: int,
        res_scale: float,
    ) -> None:
        super().__init__()
        self.scale: int = int(scale)
        self.head = _conv(in_channels, n_feats)
        self.body = nn.Sequential(
            *(ResBlock(n_feats, res_scale) for _ in range(n_resblocks)),
            _conv(n_feats, n_feats),
        )
        self.tail = nn.Sequential(Upsampler(self.scale, n_feats), _conv(n_feats, out_channels))

    #: State-dict prefixes whose shapes depend on the scale: the pixel-shuffle upsampler
    #: (head, body and the last conv transfer to another scale, ``init_from``).
    scale_dependent: tuple[str, ...] = ("tail.0.",)

    @property
    def output_conv(self) -> nn.Conv2d:
        """The last layer, zeroed when the model learns a residual over bicubic."""
        return cast(nn.Conv2d, self.tail[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (B, C_in, h, w) to (B, C_out, s*h, s*w)."""
        x = self.head(x)
        x = self.body(x) + x
        return self.tail(x)
