"""The data sources by name: what ``data.source`` may be, and how each reads its fields.

:data:`LOADERS` is the one list of sources: a name maps to a loader that turns a plain
``data`` config into HR (and, for ``npy``, LR) fields per split. :mod:`oceansr.data.prepare`
dispatches through it, and an unknown name is a ConfigError naming ``data.source`` with
the registered names. The schema does not list the names again: a user picks a source
through a ``conf/data/<name>.yaml`` file, and tests/data/test_data_sources.py checks that
each of those names a registered source and that every source has one.

Loaders import their source module when called, so the control plane, which imports
this module to validate a request, does not load scipy (synthetic fields) for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oceansr.core.errors import ConfigError
from oceansr.data.fields import FieldData

#: A source's reader: the plain ``data`` config in, the fields of every split out.
Loader = Callable[[Mapping[str, Any]], FieldData]


def _variables(cfg: Mapping[str, Any]) -> list[str] | None:
    """``data.variables`` as a list (a single name is allowed), None when not given."""
    variables = cfg.get("variables")
    return [variables] if isinstance(variables, str) else variables


def _xarray_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The grid options every xarray-backed source passes to ``load_xarray``."""
    return {
        "sel": cfg.get("sel"),
        "isel": cfg.get("isel"),
        "decode_times": bool(cfg.get("decode_times", True)),
        "lat_name": cfg.get("lat_name"),
        "lon_name": cfg.get("lon_name"),
    }


def _require(cfg: Mapping[str, Any], key: str, example: str) -> Any:
    """``cfg[key]``, which this source cannot do without (else a ConfigError with an example)."""
    value = cfg.get(key)
    if value is None or value == "???" or value == []:
        raise ConfigError(
            f"data.{key} is required for this source", field=f"data.{key}", fix=example
        )
    return value


def load_sample_source(cfg: Mapping[str, Any]) -> FieldData:
    """The bundled World Ocean Atlas sample; its year-0000 month axis is never decoded."""
    from oceansr.data.sample import SAMPLE_SPLIT, SAMPLE_VARIABLES, sample_path
    from oceansr.data.xarray_source import load_xarray

    options = {**_xarray_options(cfg), "decode_times": False}
    variables = _variables(cfg) or SAMPLE_VARIABLES
    return load_xarray(sample_path(), variables, cfg.get("split") or SAMPLE_SPLIT, **options)


def load_xarray_source(cfg: Mapping[str, Any]) -> FieldData:
    """A NetCDF file, Zarr store, directory, glob or list at ``data.path``, in memory."""
    from oceansr.data.xarray_source import load_xarray

    path = _require(cfg, "path", "data.path=/path/to/file.nc (NetCDF) or /path/to/store.zarr")
    names = _require(cfg, "variables", "data.variables=[thetao] (names of data variables)")
    return load_xarray(path, names, cfg.get("split"), **_xarray_options(cfg))


def load_synthetic_source(cfg: Mapping[str, Any]) -> FieldData:
    """Generated fields (``data.synthetic``: size and seed), read like an xarray source."""
    from oceansr.data.synthetic import make_synthetic_dataset
    from oceansr.data.xarray_source import load_xarray

    variables = _variables(cfg)
    synth = dict(cfg.get("synthetic") or {})
    dataset = make_synthetic_dataset(variables=tuple(variables or ["temp"]), **synth)
    return load_xarray(dataset, variables or ["temp"], cfg.get("split"), **_xarray_options(cfg))


def load_npy_source(cfg: Mapping[str, Any]) -> FieldData:
    """``.npy`` folders per split and variable (HR, and LR when an ``lr/`` folder exists)."""
    from oceansr.data.npy_source import load_npy_folder

    path = _require(cfg, "path", "data.path=/path/to/root (holding train/ valid/ test/)")
    names = _require(cfg, "variables", "data.variables=[sst] (the <var> folder names)")
    return load_npy_folder(path, names)


#: Every data source, by the name ``data.source`` gives (in the order errors list them).
LOADERS: dict[str, Loader] = {
    "sample": load_sample_source,
    "xarray": load_xarray_source,
    "npy": load_npy_source,
    "synthetic": load_synthetic_source,
}
#: The registered names.
SOURCES: tuple[str, ...] = tuple(LOADERS)


def source_loader(source: Any) -> Loader:
    """The loader registered as ``source``; else a ConfigError naming ``data.source``
    and listing the registered names."""
    loader = LOADERS.get(source) if isinstance(source, str) else None
    if loader is None:
        raise ConfigError(
            f"unknown data source {source!r}",
            field="data.source",
            fix=f"use one of {', '.join(SOURCES)} (e.g. data=xarray data.path=...)",
        )
    return loader
