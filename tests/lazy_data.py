"""The ``xarray`` data config of the lazy-path tests, built by hand (no Hydra): one
definition, so the tests of the reader and of the statistics read a store alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def lazy_data_cfg(path: Any, split: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """``data.cache=lazy`` on ``path`` (as given: a path, glob or list), temp and salt,
    x4, the store's own chunks; ``extra`` keys replace or add to these."""
    cfg = {
        "source": "xarray",
        "path": path,
        "variables": ["temp", "salt"],
        "split": dict(split),
        "decode_times": True,
        "scale": 4,
        "crop_to_scale": True,
        "cache": "lazy",
        "chunks": None,
    }
    return cfg | extra
