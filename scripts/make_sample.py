#!/usr/bin/env python
"""Write the bundled sample: World Ocean Atlas monthly temperature, 12 months x 19 depths.

Source: ``ocean_atlas_subset.nc`` from the Debian package ``ferret-datasets`` (NOAA World
Ocean Atlas monthly climatology, 2 degrees, land = missing; public domain).  The extract
keeps every value, renames the Ferret axes to (month, depth, lat, lon), adds CF attributes
and packs temperature as int16 (scale_factor 0.001 degC) with zlib + shuffle.  Provenance
goes into the global attributes and ``PROVENANCE.json`` next to the output.  The written
file is read back and compared with the source.

    python scripts/make_sample.py \\
        --source /usr/share/ferret-vis/data/ocean_atlas_subset.nc \\
        --out src/oceansr/sample/woa_monthly_temperature.nc
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

DEFAULT_SOURCE = "/usr/share/ferret-vis/data/ocean_atlas_subset.nc"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/oceansr/sample/woa_monthly_temperature.nc"
PACKAGE = "ferret-datasets"
SCALE = 0.001  # degC per int16 step: max packing error 0.0005 degC
OFFSET = 15.0  # packed range 15 +- 32.767 degC covers -17.7 .. 47.7 degC
FILL = np.int16(-32768)
MAX_ERROR = 0.001
CHANGES = (
    "Ferret axes renamed TIME->month (values 1..12 replace 'hour since 0000-01-01'), "
    "ZAXLEVIT19->depth (m, positive down), YAX_SUBSET->lat, XAX_SUBSET->lon (values "
    "unchanged: 20.5..378.5 degrees_east, modulo 360); variable TEMP->temp with CF "
    "attributes (units degC, standard_name sea_water_temperature); all 12 months x 19 "
    "depths x 90 x 180 kept; packed as int16 with scale_factor=0.001, add_offset=15, "
    "_FillValue=-32768 for land/missing; NetCDF-4 zlib level 9 + shuffle."
)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_version(name: str) -> str | None:
    try:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", name],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    return res.stdout.strip() or None


def find(ds: xr.Dataset, prefix: str) -> str:
    names = [str(n) for n in ds.dims if str(n).upper().startswith(prefix)]
    if len(names) != 1:
        raise SystemExit(f"expected one dim starting with {prefix!r} in {list(ds.dims)}")
    return names[0]


def build(source: Path) -> tuple[xr.Dataset, np.ndarray]:
    src = xr.open_dataset(source, decode_times=False)
    t, z, y, x = find(src, "TIME"), find(src, "ZAX"), find(src, "YAX"), find(src, "XAX")
    temp = src["TEMP"].transpose(t, z, y, x)
    values = temp.values.astype(np.float32)
    if values.shape[0] != 12:
        raise SystemExit(f"expected 12 months, got {values.shape[0]}")
    depth = src[z].values.astype(np.float64)
    lat = src[y].values.astype(np.float64)
    lon = src[x].values.astype(np.float64)
    src.close()
    ds = xr.Dataset(
        {
            "temp": (
                ("month", "depth", "lat", "lon"),
                values,
                {
                    "units": "degC",
                    "standard_name": "sea_water_temperature",
                    "long_name": "Sea water temperature (World Ocean Atlas monthly climatology)",
                },
            )
        },
        coords={
            "month": (
                "month",
                np.arange(1, 13, dtype=np.int32),
                {"long_name": "month of the year (climatology)", "units": "1"},
            ),
            "depth": (
                "depth",
                depth,
                {
                    "standard_name": "depth",
                    "long_name": "depth below sea surface",
                    "units": "m",
                    "positive": "down",
                    "axis": "Z",
                },
            ),
            "lat": (
                "lat",
                lat,
                {
                    "standard_name": "latitude",
                    "long_name": "latitude",
                    "units": "degrees_north",
                    "axis": "Y",
                },
            ),
            "lon": (
                "lon",
                lon,
                {
                    "standard_name": "longitude",
                    "long_name": "longitude",
                    "units": "degrees_east",
                    "axis": "X",
                },
            ),
        },
    )
    return ds, values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--source", type=Path, default=Path(DEFAULT_SOURCE))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    source, out = args.source.resolve(), args.out
    if not source.is_file():
        print(f"source not found: {source} (apt-get install {PACKAGE})", file=sys.stderr)
        return 2

    ds, values = build(source)
    finite = values[np.isfinite(values)]
    lo, hi = OFFSET + SCALE * -32767, OFFSET + SCALE * 32767
    if finite.min() < lo or finite.max() > hi:
        raise SystemExit(f"values {finite.min()}..{finite.max()} outside packable {lo}..{hi}")

    provenance = {
        "title": "World Ocean Atlas monthly temperature, 0-1000 m, 2 degree (oceansr sample)",
        "source_file": str(source),
        "source_sha256": sha256(source),
        "source_package": PACKAGE,
        "source_package_version": package_version(PACKAGE) or "unknown",
        "source_history": "FERRET V6.08 28-Nov-07; TEMP from ocean_atlas_monthly",
        "original_data": "NOAA NODC World Ocean Atlas monthly climatology (Levitus)",
        "license": "public domain (NOAA World Ocean Atlas)",
        "changes": CHANGES,
        "created_by": "scripts/make_sample.py (oceansr)",
        "creation_time": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    ds.attrs = {"Conventions": "CF-1.8", **provenance}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    encoding = {
        "temp": {
            "dtype": "int16",
            "scale_factor": np.float32(SCALE),
            "add_offset": np.float32(OFFSET),
            "_FillValue": FILL,
            "zlib": True,
            "complevel": 9,
            "shuffle": True,
            "chunksizes": (1, values.shape[1], values.shape[2], values.shape[3]),
        },
        "month": {"dtype": "int32"},
        "depth": {"zlib": True, "_FillValue": None},
        "lat": {"zlib": True, "_FillValue": None},
        "lon": {"zlib": True, "_FillValue": None},
    }
    ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    tmp.replace(out)

    # Round trip: decode the written file and compare with the source, cell by cell.
    with xr.open_dataset(out) as back:
        got = back["temp"].transpose("month", "depth", "lat", "lon").values.astype(np.float64)
        dims_ok = list(back["temp"].dims) == ["month", "depth", "lat", "lon"]
        months_ok = back["month"].values.tolist() == list(range(1, 13))
    mask_src, mask_got = np.isnan(values), np.isnan(got)
    if not np.array_equal(mask_src, mask_got) or not dims_ok or not months_ok:
        print("round trip FAILED: land masks, dims or months differ", file=sys.stderr)
        return 1
    err = float(np.max(np.abs(got[~mask_got] - values[~mask_src].astype(np.float64))))
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.2f} MB, shape {values.shape}, land {mask_src.mean():.1%})")
    print(f"round trip: max abs difference vs source = {err:.6f} degC (limit {MAX_ERROR})")
    if err > MAX_ERROR:
        print("round trip FAILED: error above limit", file=sys.stderr)
        return 1

    provenance.update(
        {
            "file": out.name,
            "file_sha256": sha256(out),
            "file_size_bytes": size,
            "variables": {"temp": "degC"},
            "dims": dict(zip(("month", "depth", "lat", "lon"), values.shape, strict=True)),
            "packing": {"dtype": "int16", "scale_factor": SCALE, "add_offset": OFFSET},
            "roundtrip_max_abs_error_degC": err,
        }
    )
    (out.parent / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"wrote {out.parent / 'PROVENANCE.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
