"""The bundled real sample: NOAA World Ocean Atlas monthly temperature (public domain).

12 months x 19 depths (0-1000 m) x 90 x 180 (2 degrees), land NaN, variable ``temp``
in degC.  Made by ``scripts/make_sample.py``; provenance in ``sample/PROVENANCE.json``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from oceansr.core.errors import DataNotFoundError
from oceansr.data.fields import FieldData

SAMPLE_FILE = "woa_monthly_temperature.nc"
SAMPLE_VARIABLES = ["temp"]
SAMPLE_SPLIT = {
    "dim": "month",
    "by": "label",
    "train": {"start": 1, "stop": 8},
    "valid": {"start": 9, "stop": 10},
    "test": {"start": 11, "stop": 12},
}


def sample_path() -> Path:
    """Path of the bundled sample NetCDF file (works from a source checkout or a wheel)."""
    ref = resources.files("oceansr").joinpath("sample", SAMPLE_FILE)
    path = Path(str(ref))
    if not ref.is_file() or not path.is_file():
        raise DataNotFoundError(
            f"bundled sample file not found: {path}",
            field="data.path",
            fix="reinstall oceansr (the wheel ships sample/*.nc), regenerate it with "
            "`python scripts/make_sample.py`, or use another source, e.g. data=synthetic",
        )
    return path


def load_sample() -> FieldData:
    """Load the bundled sample with :data:`SAMPLE_VARIABLES` and :data:`SAMPLE_SPLIT`."""
    from oceansr.data.xarray_source import load_xarray

    return load_xarray(sample_path(), SAMPLE_VARIABLES, SAMPLE_SPLIT, decode_times=False)
