"""What this machine can train on: accelerators, memory and library versions."""

from __future__ import annotations

import platform
from typing import Any

import psutil


def accelerator_report() -> dict[str, Any]:
    """CUDA devices with free/total memory, or a plain "CPU only", plus versions."""
    import lightning
    import torch

    devices: list[dict[str, Any]] = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            props = torch.cuda.get_device_properties(index)
            devices.append(
                {
                    "index": index,
                    "name": props.name,
                    "memory_free_gib": round(free / 2**30, 2),
                    "memory_total_gib": round(total / 2**30, 2),
                    "capability": f"{props.major}.{props.minor}",
                    "bf16": bool(torch.cuda.is_bf16_supported()),
                }
            )
    memory = psutil.virtual_memory()
    return {
        "accelerator": "cuda" if devices else "cpu",
        "summary": (
            f"{len(devices)} CUDA device(s): " + ", ".join(d["name"] for d in devices)
            if devices
            else "CPU only: no CUDA device visible (train with trainer=cpu)"
        ),
        "cuda_devices": devices,
        "suggested_trainer": "trainer=gpu" if devices else "trainer=cpu",
        "cpu_count": psutil.cpu_count(logical=True),
        "torch_threads": torch.get_num_threads(),
        "memory_available_gib": round(memory.available / 2**30, 2),
        "memory_total_gib": round(memory.total / 2**30, 2),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "lightning": lightning.__version__,
        },
    }
