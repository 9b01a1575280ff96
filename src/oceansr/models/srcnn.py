"""SRCNN (Dong et al., 2014): the classic three-layer baseline.

The original network works on a bicubically pre-upsampled image. We do the bicubic
upsampling inside ``forward`` so that every model in :mod:`oceansr.models` has the same
contract, ``model(lr) -> hr`` with ``hr`` ``scale`` times larger than ``lr``; the data
pipeline and the training loop then never need to know which family they are driving.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SRCNN(nn.Module):
    """SRCNN 9-5-5: patch extraction, non-linear mapping, reconstruction.

    Every weight is independent of the scale (the upsampling is interpolation), so a
    checkpoint transfers whole to another scale (``init_from``).

    Args:
        in_channels: channels of the low-resolution input.
        out_channels: channels of the high-resolution output.
        scale: integer upscaling factor (>= 2); any value works because the
            upsampling is bicubic interpolation, not a learnt layer.
        hidden_channels: widths of the first two convolutions (paper: 64, 32).
        kernel_sizes: kernel sizes of the three convolutions (paper: 9, 5, 5); odd, so
            that 'same' padding keeps the grid aligned with the interpolated input.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        *,
        hidden_channels: tuple[int, int],
        kernel_sizes: tuple[int, int, int],
    ) -> None:
        super().__init__()
        self.scale: int = int(scale)
        n1, n2 = hidden_channels
        k1, k2, k3 = kernel_sizes
        self.conv1 = nn.Conv2d(in_channels, n1, k1, padding=k1 // 2)
        self.conv2 = nn.Conv2d(n1, n2, k2, padding=k2 // 2)
        self.conv3 = nn.Conv2d(n2, out_channels, k3, padding=k3 // 2)
        self.relu = nn.ReLU(inplace=True)

    #: State-dict prefixes whose shapes depend on the scale (none: see the class doc).
    scale_dependent: tuple[str, ...] = ()

    @property
    def output_conv(self) -> nn.Conv2d:
        """The last layer, zeroed when the model learns a residual over bicubic."""
        return self.conv3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample ``x`` (B, C_in, h, w) bicubically, then refine to (B, C_out, s*h, s*w)."""
        h, w = x.shape[-2:]
        x = F.interpolate(
            x, size=(h * self.scale, w * self.scale), mode="bicubic", align_corners=False
        )
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.conv3(x)
