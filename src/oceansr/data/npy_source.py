"""Load the ``.npy`` folder layout used by existing ocean super-resolution tools.

Layout (one 2-D array per file, LR given, files paired by name)::

    root/
      train/ hr/<var>/*.npy   lr/<var>/*.npy
      valid/ hr/<var>/*.npy   lr/<var>/*.npy
      test/  hr/<var>/*.npy   lr/<var>/*.npy
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError, ShapeMismatchError
from oceansr.data.fields import FieldData, FieldSplit
from oceansr.runs.protocol import SPLITS

KINDS = ("hr", "lr")
LAYOUT = "root/{train,valid,test}/{hr,lr}/<variable>/*.npy (one 2-D array per file)"


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.npy") if p.is_file())


def _diff(a: list[str], b: list[str]) -> str:
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    parts = []
    if only_a:
        parts.append(f"only in the first: {only_a[:5]}{' ...' if len(only_a) > 5 else ''}")
    if only_b:
        parts.append(f"only in the second: {only_b[:5]}{' ...' if len(only_b) > 5 else ''}")
    return "; ".join(parts)


def _load_stack(folder: Path, names: list[str], split: str, kind: str, var: str) -> np.ndarray:
    shape = None
    arrays = []
    for name in names:
        path = folder / name
        try:
            arr = np.load(path, allow_pickle=False, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise DataInvalidError(
                f"cannot read {path}: {exc}",
                field="data.path",
                fix="re-create the file with numpy.save(path, array_2d)",
            ) from exc
        if arr.ndim != 2:
            raise ShapeMismatchError(
                f"{path} holds an array of shape {arr.shape}; expected one 2-D field (H, W)",
                field="data.path",
                fix=f"save one 2-D array per file in the layout {LAYOUT}",
            )
        if not np.issubdtype(arr.dtype, np.floating):
            raise DataInvalidError(
                f"{path} has dtype {arr.dtype}, not floating point",
                field="data.path",
                fix="save float arrays with NaN for land, e.g. np.save(p, a.astype('float32'))",
            )
        if shape is None:
            shape = arr.shape
        elif arr.shape != shape:
            raise ShapeMismatchError(
                f"inconsistent {kind.upper()} shapes in split {split!r}, variable {var!r}: "
                f"{names[0]} is {shape} but {name} is {arr.shape}",
                field="data.path",
                fix=f"make all {kind.upper()} fields of a split the same size",
            )
        arrays.append(arr)
    return np.stack(arrays).astype(np.float32, copy=False)


def load_npy_folder(root: str | Path, variables: str | Sequence[str]) -> FieldData:
    """Load ``root/{train,valid,test}/{hr,lr}/<var>/*.npy`` into :class:`FieldData`.

    Files are paired by name (sorted) across ``hr``/``lr`` and across variables.  HR and LR
    are float32 ``(N, C, H, W)`` / ``(N, C, h, w)``; units are "" and lat/lon None.
    """
    folder = _root_folder(root)
    names = _variable_names(folder, variables)
    out = {split: _load_split(folder, split, names) for split in SPLITS}
    return FieldData(
        train=out["train"],
        valid=out["valid"],
        test=out["test"],
        source=f"npy:{folder} variables={names}",
    )


def _root_folder(root: str | Path | None) -> Path:
    """``data.path`` as an existing folder (else a classified error with the layout)."""
    if root is None or str(root).strip() in ("", "???"):
        raise ConfigError(
            "no data path given for the npy layout",
            field="data.path",
            fix=f"set data.path=/path/to/root with the layout {LAYOUT}",
        )
    folder = Path(str(root)).expanduser()
    if not folder.is_dir():
        raise DataNotFoundError(
            f"npy data root does not exist or is not a folder: {folder}",
            field="data.path",
            fix=f"set data.path to a folder with the layout {LAYOUT}",
        )
    return folder


def _variable_names(root: Path, variables: str | Sequence[str] | None) -> list[str]:
    """The variables as a non-empty list of names (the fix lists the folders found)."""
    if isinstance(variables, str):
        variables = [variables]
    names = [str(v) for v in (variables or [])]
    if not names:
        found = sorted(p.name for p in (root / "train" / "hr").glob("*") if p.is_dir())
        raise ConfigError(
            "no variables given",
            field="data.variables",
            fix=f"e.g. data.variables=[{', '.join(found) or 'temp'}]",
        )
    return names


def _check_folders(root: Path, split: str, variables: list[str]) -> None:
    """Every ``<split>/{hr,lr}/<var>`` folder exists."""
    for kind in KINDS:
        folder = root / split / kind
        if not folder.is_dir():
            raise DataNotFoundError(
                f"missing folder {folder}; expected layout {LAYOUT}",
                field="data.path",
                fix=f"create {split}/{kind}/<variable>/ under data.path, or point data.path "
                "at the folder that holds train/, valid/ and test/",
            )
        missing = [v for v in variables if not (folder / v).is_dir()]
        if missing:
            found = sorted(p.name for p in folder.iterdir() if p.is_dir())
            raise DataNotFoundError(
                f"variable folder(s) {missing} missing in {folder}; found {found}",
                field="data.variables",
                fix=f"data.variables=[{', '.join(found) or '...'}] or add the folders",
            )


def _paired_names(root: Path, split: str, variables: list[str]) -> list[str]:
    """The file names shared by every hr/lr variable folder of a split (paired by name)."""
    ref_names = _names(root / split / "hr" / variables[0])
    if not ref_names:
        raise DataInvalidError(
            f"no .npy files in {root / split / 'hr' / variables[0]}",
            field="data.path",
            fix=f"put at least one field per split in the layout {LAYOUT}",
        )
    for var in variables:
        for kind in KINDS:
            names = _names(root / split / kind / var)
            if names != ref_names:
                raise DataInvalidError(
                    f"file sets differ in split {split!r}: "
                    f"{split}/hr/{variables[0]} vs {split}/{kind}/{var} "
                    f"({_diff(ref_names, names)})",
                    field="data.path",
                    fix="give every hr/lr variable folder of a split the same file names "
                    "(files are paired by name)",
                )
    return ref_names


def _load_split(root: Path, split: str, variables: list[str]) -> FieldSplit:
    """One split's HR and LR stacks, channels in the order of ``variables``."""
    _check_folders(root, split, variables)
    ref_names = _paired_names(root, split, variables)
    stacks: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
    for var in variables:
        for kind in KINDS:
            folder = root / split / kind / var
            stacks[kind].append(_load_stack(folder, ref_names, split, kind, var))
    for kind, arrays in stacks.items():
        shapes = {a.shape[1:] for a in arrays}
        if len(shapes) > 1:
            raise ShapeMismatchError(
                f"{kind.upper()} variables of split {split!r} have different grids: "
                f"{dict(zip(variables, [a.shape[1:] for a in arrays], strict=True))}",
                field="data.variables",
                fix="use variables on the same grid",
            )
    return FieldSplit(
        hr=np.stack(stacks["hr"], axis=1),
        lr=np.stack(stacks["lr"], axis=1),
        variables=list(variables),
        units=[""] * len(variables),
        lat=None,
        lon=None,
        labels=[f"file={Path(n).stem}" for n in ref_names],
    )
