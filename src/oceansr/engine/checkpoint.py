"""The one checkpoint loader: training's ``mode=test``, predict and the report's maps.

Loading is safe: the file is read with ``torch.load(weights_only=True)`` (through
Lightning's ``load_from_checkpoint``), so a checkpoint that carries a pickle payload
(e.g. a reduce to ``os.system``) is refused instead of executed. Every failure is a
classified error naming the option that points at the checkpoint (``checkpoint`` for
predict, ``ckpt_path`` for training) and the override that fixes it. The torch-free
checks that come before (file present, whole, an oceansr checkpoint) are
:mod:`oceansr.runs.checkpoint_file`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oceansr.core.errors import ConfigError, OceanSRError
from oceansr.runs.checkpoint_file import (
    REQUIRED_HPARAMS,
    check_checkpoint_path,
    not_a_checkpoint,
)

if TYPE_CHECKING:
    import torch

    from oceansr.engine.module import SRModule


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; anything torch understands otherwise."""
    import torch

    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"unknown device {device!r}", field="device", fix="device=auto, cpu or cuda"
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} requested but CUDA is not available",
            field="device",
            fix="device=cpu (or auto)",
        )
    return dev


def _check_hparams(hparams: Mapping[str, Any], path: Path, field: str) -> None:
    """The hyper-parameters SRModule needs are there (a Lightning checkpoint of another
    project, or a hand-made file, would otherwise fail deep inside the constructor)."""
    missing = [key for key in REQUIRED_HPARAMS if key not in hparams]
    if missing:
        raise not_a_checkpoint(path, field, f"hyper-parameters {missing} are missing")
    model = hparams.get("model")
    if not isinstance(model, Mapping) or not model.get("name"):
        raise not_a_checkpoint(path, field, "its model configuration has no architecture name")


def load_module(
    path: str | os.PathLike[str] | None,
    *,
    device: str | torch.device = "cpu",
    field: str = "checkpoint",
) -> SRModule:
    """The :class:`~oceansr.engine.module.SRModule` of a checkpoint, in eval mode on ``device``.

    Raises DataNotFoundError when the file is missing and DataInvalidError (naming
    ``field``) when it is not an oceansr checkpoint: a text file, a truncated file, a
    pickle payload refused by the weights-only loader, missing hyper-parameters or
    weights that do not fit the architecture.
    """
    from oceansr.engine.module import SRModule  # Lightning: only when a model is really needed

    resolved = check_checkpoint_path(path, field=field)
    dev = resolve_device(device)
    try:
        module = SRModule.load_from_checkpoint(str(resolved), map_location=dev, weights_only=True)
    except OceanSRError:
        raise
    except KeyError as exc:
        raise not_a_checkpoint(resolved, field, f"missing entry {exc}") from exc
    except Exception as exc:
        raise not_a_checkpoint(resolved, field, f"{type(exc).__name__}: {exc}") from exc
    _check_hparams(module.hparams, resolved, field)
    return module.to(dev).eval()


def match_variables(
    module: Any,
    variables: str | Sequence[str] | None,
    *,
    field: str = "variables",
    any_order: bool = True,
) -> list[str]:
    """The checkpoint's variables (the model's channel order) when ``variables`` agree.

    ``variables=None`` means "the checkpoint's". ``any_order`` accepts a permutation
    (predict reorders the input's channels itself); training data must match exactly.
    """
    ckpt = [str(v) for v in module.hparams.variables]
    if variables is None:
        return ckpt
    names = [variables] if isinstance(variables, str) else [str(v) for v in variables]
    same = sorted(names) == sorted(ckpt) if any_order else names == ckpt
    if not same:
        raise ConfigError(
            f"{field} {names} do not match the checkpoint's {ckpt} (the model was trained "
            "on those channels)",
            field=field,
            fix=f"{field}={_list_text(ckpt)}"
            + (" (or omit it to use the checkpoint's)" if field == "variables" else ""),
        )
    return ckpt


def match_scale(module: Any, scale: int | None, *, field: str = "scale") -> int:
    """The checkpoint's scale, or ConfigError naming ``field`` when ``scale`` differs."""
    ckpt = int(module.hparams.scale)
    if scale is not None and int(scale) != ckpt:
        raise ConfigError(
            f"checkpoint scale {ckpt} != {field} {scale}", field=field, fix=f"{field}={ckpt}"
        )
    return ckpt


def model_name(module: Any) -> str:
    """The architecture name recorded in the checkpoint (``model.name``)."""
    return str(dict(module.hparams.model).get("name", "?"))


def _list_text(values: Sequence[str]) -> str:
    return "[" + ",".join(values) + "]"


def transfer_weights(
    module: SRModule, path: str | os.PathLike[str], *, field: str = "init_from"
) -> dict[str, Any]:
    """Copy the network weights of checkpoint ``path`` into ``module`` (``init_from``).

    Only the weights move: the new run keeps its own data, statistics, optimiser and
    schedule. At another scale the architecture's upsampler (its scale-dependent
    parameters, :func:`oceansr.models.scale_dependent_prefixes`) keeps the module's
    fresh initialisation, zeroed output included, so the transferred body starts from
    the bicubic baseline. Returns what was done, recorded with the run's checkpoint.
    That the architecture and channel count agree was checked before the run
    (:func:`oceansr.config.checks.check_init_from`); a tensor that still does not fit is a
    DataInvalidError naming ``field``.
    """
    from oceansr.core.errors import DataInvalidError
    from oceansr.models import scale_dependent_prefixes
    from oceansr.runs.checkpoint_file import sha256

    source = load_module(path, device="cpu", field=field)
    source_scale, scale = int(source.hparams["scale"]), int(module.hparams["scale"])
    fresh = scale_dependent_prefixes(module.net) if source_scale != scale else ()
    theirs = source.net.state_dict()
    mine = module.net.state_dict()
    kept = {key: value for key, value in mine.items() if not key.startswith(fresh)}
    misfits = [k for k, v in kept.items() if k not in theirs or theirs[k].shape != v.shape]
    if misfits:
        raise DataInvalidError(
            f"{field} weights do not fit this model: {misfits[:3]} differ in shape or are "
            f"missing (the checkpoint has {len(source.hparams['variables'])} input variables)",
            field=field,
            fix="give a checkpoint of the same architecture and number of variables",
        )
    module.net.load_state_dict({key: theirs[key] for key in kept}, strict=False)
    resolved = Path(path).expanduser().absolute()
    return {
        "checkpoint": str(resolved),
        "checkpoint_sha256": sha256(resolved),
        "tensors_loaded": len(kept),
        "reinitialised": sorted({p for p in fresh if any(k.startswith(p) for k in mine)}),
        "source_scale": source_scale,
        "source_variables": [str(v) for v in source.hparams["variables"]],
    }
