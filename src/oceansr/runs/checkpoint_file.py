"""Checkpoint files as the run directory holds them, read without torch.

The control plane checks a checkpoint before anything is spawned (it exists, is whole,
is an oceansr checkpoint that matches the request) and offers ``resume`` only when one
loads: all of that reads the file's zip directory and its pickled hyper-parameters with
stand-in classes, so no torch is imported and no payload runs. The full weights-only
load is :func:`oceansr.engine.checkpoint.load_module`.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, ClassVar

from oceansr.core.errors import (
    ConfigError,
    DataInvalidError,
    DataNotFoundError,
    OceanSRError,
    RunStateError,
)

from .paths import RunPaths

#: Hyper-parameters every oceansr checkpoint carries (``SRModule.save_hyperparameters``).
REQUIRED_HPARAMS: tuple[str, ...] = ("model", "variables", "units", "scale", "mean", "std")
CHECKPOINT_EXAMPLE = "runs/<run_id>/checkpoints/best.ckpt"


def check_checkpoint_path(
    path: str | os.PathLike[str] | None, *, field: str = "checkpoint"
) -> Path:
    """The checkpoint file, or ConfigError (none given) / DataNotFoundError (missing)."""
    if path is None or not str(path).strip():
        raise ConfigError("no checkpoint given", field=field, fix=f"{field}={CHECKPOINT_EXAMPLE}")
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise DataNotFoundError(
            f"checkpoint not found: {resolved}",
            field=field,
            fix=f"point {field} at an existing .ckpt, e.g. {field}={CHECKPOINT_EXAMPLE}",
        )
    return resolved


def run_checkpoint(
    run: str, runs_root: str | os.PathLike[str] | None = None, *, field: str = "run"
) -> Path:
    """The best (else last) checkpoint of training run ``run``; the id is validated first.

    A run without either yet is a RunStateError (it may still be training). A run
    directory that leads out of the runs root, or a link in place of a checkpoint, is a
    :class:`~oceansr.runs.CorruptRunFileError` (``check_run_dir``): predict never loads a
    file from outside the run.
    """
    from oceansr.runs import RunNotFoundError, RunPaths, check_run_dir, read_status

    paths = RunPaths.for_id(run, runs_root)
    try:
        check_run_dir(paths)
    except RunNotFoundError:
        raise DataNotFoundError(
            f"training run {run} not found under {paths.root}",
            field=field,
            fix=f"{field}=<training run id> (see `oceansr list`), or give checkpoint=",
        ) from None
    for candidate in (paths.best_ckpt, paths.last_ckpt):
        if candidate.is_file():
            return candidate
    raise RunStateError(
        f"run {run} has no checkpoint yet (status {read_status(paths).get('status')})",
        field=field,
        fix="wait for the training run to write checkpoints/best.ckpt, or pass checkpoint=",
    )


def unreadable_reason(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a loadable checkpoint, or None when it looks whole.

    Cheap and torch-free, for the control plane: ``torch.save`` writes a zip archive
    whose directory sits at the end of the file, so a missing, empty or truncated file
    (a disk that filled up mid-save) fails to open as a zip. The weights-only load of
    :func:`load_module` remains the full check.
    """
    target = Path(path)
    if not target.is_file():
        return f"{target} does not exist"
    size = target.stat().st_size
    if size == 0:
        return f"{target} is empty (0 bytes): its save did not finish"
    try:
        with zipfile.ZipFile(target) as archive:
            if not any(name.endswith("data.pkl") for name in archive.namelist()):
                return f"{target} is a zip archive but not a torch checkpoint"
    except (zipfile.BadZipFile, OSError) as exc:
        return f"{target} ({size} bytes) is damaged or truncated: {exc}"
    return None


class _Opaque(dict):
    """Stands in for every object a checkpoint pickles except plain containers (tensors,
    storages, optimiser classes): built from nothing, it runs no code."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Opaque:
        return dict.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _HparamsUnpickler(pickle.Unpickler):
    """Reads a torch checkpoint's pickle without torch and without executing anything:
    only plain containers are real, every other global is :class:`_Opaque`, and tensor
    storages (persistent ids) are not loaded."""

    _SAFE: ClassVar[dict[tuple[str, str], Any]] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "dict"): dict,
        ("builtins", "list"): list,
        ("builtins", "tuple"): tuple,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
    }

    def find_class(self, module: str, name: str) -> Any:
        return self._SAFE.get((module, name), _Opaque)

    def persistent_load(self, pid: Any) -> None:
        return None


def _read_document(target: Path) -> Any:
    """The checkpoint's top-level pickle, plain containers only (no tensors, no code)."""
    with zipfile.ZipFile(target) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return _HparamsUnpickler(io.BytesIO(archive.read(name))).load()


def checkpoint_step(path: str | os.PathLike[str]) -> int | None:
    """The global step a training checkpoint was saved at (None when it is unreadable):
    how a requeued job tells which of its checkpoints is the newest."""
    try:
        document = _read_document(Path(path))
    except Exception:  # damaged: not a candidate
        return None
    step = document.get("global_step") if isinstance(document, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def newest_resumable(paths: RunPaths) -> Path | None:
    """The run's checkpoint to continue from after a requeue, or None (start afresh).

    Candidates are Lightning's ``hpc_ckpt_<n>.ckpt`` (written on the scheduler's warning
    signal) and ``checkpoints/last.ckpt`` (written at every epoch end and on a stop);
    whichever loads (:func:`resume_blocker`) and holds the highest global step wins, the
    newer file on a tie. A node that died mid-save leaves a truncated file, which is
    skipped rather than failing the next attempt.
    """
    candidates = [*sorted(paths.dir.glob("hpc_ckpt_*.ckpt")), paths.last_ckpt]
    ranked: list[tuple[int, float, Path]] = []
    for path in candidates:
        if not path.is_file() or resume_blocker(path) is not None:
            continue
        step = checkpoint_step(path)
        if step is not None:
            ranked.append((step, path.stat().st_mtime, path))
    return max(ranked)[2] if ranked else None


def read_hparams(path: str | os.PathLike[str], *, field: str = "checkpoint") -> dict[str, Any]:
    """The hyper-parameters of an oceansr checkpoint, read in about a millisecond without
    torch (for the control plane's checks before anything is spawned). A file that is
    not a whole oceansr checkpoint is a DataInvalidError naming ``field``."""
    target = check_checkpoint_path(path, field=field)  # missing: DataNotFoundError
    reason = unreadable_reason(target)
    if reason is not None:
        raise not_a_checkpoint(target, field, reason)
    try:
        document = _read_document(target)
    except Exception as exc:  # a damaged pickle: whatever it raised, it is not usable
        raise not_a_checkpoint(target, field, f"{type(exc).__name__}: {exc}") from None
    hparams = document.get("hyper_parameters") if isinstance(document, dict) else None
    missing = [
        key for key in REQUIRED_HPARAMS if not isinstance(hparams, dict) or key not in hparams
    ]
    if missing:
        raise not_a_checkpoint(
            target, field, f"it has no oceansr hyper-parameters ({', '.join(missing)})"
        )
    return dict(hparams)  # type: ignore[arg-type]


def resume_blocker(path: str | os.PathLike[str]) -> str | None:
    """Why a run cannot resume from ``path`` (missing, damaged, not an oceansr
    checkpoint), or None: the one test behind offering ``resume`` and accepting it."""
    reason = unreadable_reason(path)
    if reason is not None:
        return reason
    try:
        read_hparams(path)
    except OceanSRError as exc:
        return str(exc).split(" [field:", 1)[0]
    return None


def not_a_checkpoint(path: Path, field: str, why: str) -> DataInvalidError:
    return DataInvalidError(
        f"{path} is not a usable oceansr checkpoint: {why}",
        field=field,
        fix=f"{field}= a .ckpt written by oceansr training, e.g. {CHECKPOINT_EXAMPLE}",
    )


def sha256(path: str | os.PathLike[str]) -> str:
    """Hex digest of the checkpoint file, recorded in prediction provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
