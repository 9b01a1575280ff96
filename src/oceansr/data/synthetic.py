"""Synthetic, eddy-rich ocean fields with coastlines, of any size (tests and scale runs).

Each field is a large-scale latitude profile (e.g. temperature warm at the equator, with a
seasonal cycle) plus mesoscale eddies (Gaussian vortices that are born, drift westward and
decay) plus red spectral noise (power ~ k^-3) whose Fourier phases rotate slowly, so that
fields evolve smoothly in time.  Land comes from a thresholded smooth random field
(continents, coastlines, islands, an Antarctic cap) covering ``land_fraction`` of the cells.

Everything is generated with FFTs (eddies are splatted as impulses and convolved with
Gaussian kernels in Fourier space), so 2048 x 4096 grids are cheap.  Frame ``i`` depends
only on ``seed`` and the grid, not on ``n_time``: a longer series extends a shorter one.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft as sfft
import xarray as xr

from oceansr.core.errors import ConfigError

STEP_DAYS = 5.0
_G = 9.81
_OMEGA = 7.2921e-5
_M_PER_DEG = 111_195.0

UNITS = {"temp": "degC", "salt": "psu", "ssh": "m", "u": "m s-1", "v": "m s-1"}
_ATTRS = {
    "temp": ("sea_surface_temperature", "Sea surface temperature"),
    "salt": ("sea_surface_salinity", "Sea surface salinity"),
    "ssh": ("sea_surface_height_above_geoid", "Sea surface height"),
    "u": ("surface_eastward_sea_water_velocity", "Eastward surface velocity"),
    "v": ("surface_northward_sea_water_velocity", "Northward surface velocity"),
}


# --------------------------------------------------------------------------- helpers


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode())])


def _splitmix(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hash_uniform(seed: int, slot: np.ndarray, gen: np.ndarray, n: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1): shape (n, len(slot)), a pure function of inputs."""
    with np.errstate(over="ignore"):
        base = _splitmix(np.full(slot.shape, seed, dtype=np.uint64))
        base = _splitmix(base ^ slot.astype(np.uint64))
        base = _splitmix(base ^ (gen.astype(np.int64).astype(np.uint64) * np.uint64(0x2545F491)))
        out = np.empty((n, slot.size), dtype=np.float64)
        for k in range(n):
            z = _splitmix(base ^ np.uint64(k + 1))
            out[k] = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return out


class _Grid:
    def __init__(self, height: int, width: int):
        self.h, self.w = height, width
        self.dlat, self.dlon = 180.0 / height, 360.0 / width
        self.lat = (-90.0 + self.dlat * (np.arange(height) + 0.5)).astype(np.float64)
        self.lon = (self.dlon * (np.arange(width) + 0.5)).astype(np.float64)
        self.ky = sfft.fftfreq(height).astype(np.float32)[:, None]  # cycles per cell
        self.kx = sfft.rfftfreq(width).astype(np.float32)[None, :]
        self.k2 = self.ky**2 + self.kx**2
        self.phi = np.deg2rad(self.lat)[:, None]

    def irfft(self, spec: np.ndarray) -> np.ndarray:
        return sfft.irfft2(spec, s=(self.h, self.w)).astype(np.float32, copy=False)


class _RedNoise:
    """Unit-variance random field with power ~ k^-slope and slowly rotating phases."""

    def __init__(
        self, seed: int, stream: str, grid: _Grid, slope: float = 3.0, smooth: float = 0.0
    ):
        rng = _rng(seed, stream)
        k0 = 2.0 / max(grid.w, grid.h)
        amp = (grid.k2 + k0**2) ** (-slope / 4.0)
        if smooth:  # Gaussian low-pass, sigma in cells
            amp = amp * np.exp(-2 * np.pi**2 * smooth**2 * grid.k2)
        amp[0, 0] = 0.0
        amp[:, 0] = 0.0  # keep the spectrum Hermitian-safe (no kx=0 / Nyquist columns)
        if grid.w % 2 == 0:
            amp[:, -1] = 0.0
        # var = sum over the full spectrum of |X|^2 / (HW)^2, the rfft half counts twice.
        var = 2.0 * float(np.sum(amp.astype(np.float64) ** 2)) / float(grid.h * grid.w) ** 2
        self.amp = (amp / np.sqrt(var)).astype(np.float32)
        self.phase0 = rng.uniform(0.0, 2 * np.pi, amp.shape).astype(np.float32)
        # Decorrelation time shortens at small scales (80 days at the largest scales).
        kref = 1.0 / 64.0
        tau = 80.0 * np.sqrt(kref / np.maximum(np.sqrt(grid.k2), kref))
        self.omega = (rng.standard_normal(amp.shape) * (2 * np.pi / tau)).astype(np.float32)

    def spectrum(self, t: float) -> np.ndarray:
        phase = self.phase0 + self.omega * np.float32(t)
        return self.amp * np.exp(1j * phase).astype(np.complex64)


class _Eddies:
    """Gaussian vortices with random centres, signs and sizes, living ~40-150 days each.

    Each of a fixed number of "slots" hosts a sequence of eddies (generations); an eddy is
    born with zero amplitude, grows, drifts westward and decays (sin^2 envelope), so the
    field is continuous in time.  Generation properties come from a counter-based hash, so
    any time can be evaluated independently.
    """

    def __init__(self, seed: int, grid: _Grid):
        rng = _rng(seed, "eddies")
        self.seed = int(seed) & 0x7FFFFFFF
        self.grid = grid
        radii_deg = np.array([0.6, 1.0, 1.6])
        min_cells = np.array([1.2, 2.0, 3.2])
        self.sigma = np.maximum(min_cells, radii_deg / grid.dlat)  # Gaussian sigma in cells
        # Eddy stirring: displacement ~ 2 radii (degrees) times the normalised x-gradient.
        mean_sigma = float(np.mean(self.sigma))
        self.stir = np.float32(2.0 * mean_sigma * grid.dlat * mean_sigma)
        counts = np.ceil(0.12 * grid.h * grid.w / (np.pi * (2 * self.sigma) ** 2)).astype(int)
        self.bin = np.repeat(np.arange(3), counts)
        n = self.bin.size
        self.slot = np.arange(n)
        self.life = rng.uniform(40.0, 150.0, n)
        self.offset = rng.uniform(0.0, 1.0, n) * self.life
        self.speed = rng.uniform(0.02, 0.08, n)  # westward drift, degrees per day
        # Spectral Gaussian kernels with unit peak in physical space.
        self.kernels = [
            (2 * np.pi * s**2 * np.exp(-2 * np.pi**2 * s**2 * grid.k2)).astype(np.float32)
            for s in self.sigma
        ]

    def spectrum(self, t: float) -> np.ndarray:
        g = self.grid
        cyc = (t + self.offset) / self.life
        gen = np.floor(cyc)
        age = cyc - gen
        u = _hash_uniform(self.seed, self.slot, gen, 4)
        lat0 = -70.0 + 140.0 * u[0]
        amp = np.where(u[2] < 0.5, -1.0, 1.0) * (0.5 + 0.5 * u[3])
        amp *= np.clip(np.abs(lat0) / 20.0, 0.25, 1.0) * np.sin(np.pi * age) ** 2
        x = (u[1] * g.w - self.speed * age * self.life / g.dlon) % g.w
        y = (lat0 + 90.0) / g.dlat - 0.5
        x0 = np.floor(x).astype(np.int64)
        y0 = np.floor(y).astype(np.int64)
        fx, fy = x - x0, y - y0
        spec = np.zeros((g.h, g.w // 2 + 1), dtype=np.complex64)
        for b, kernel in enumerate(self.kernels):
            sel = self.bin == b
            idx, wts = [], []
            for dy, wy in ((0, 1 - fy[sel]), (1, fy[sel])):
                for dx, wx in ((0, 1 - fx[sel]), (1, fx[sel])):
                    yy = (y0[sel] + dy) % g.h
                    xx = (x0[sel] + dx) % g.w
                    idx.append(yy * g.w + xx)
                    wts.append(amp[sel] * wy * wx)
            impulses = np.bincount(
                np.concatenate(idx), weights=np.concatenate(wts), minlength=g.h * g.w
            )
            spec += sfft.rfft2(impulses.reshape(g.h, g.w).astype(np.float32)) * kernel
        return spec


class _Land:
    def __init__(self, seed: int, grid: _Grid, land_fraction: float, varying: bool):
        self.grid = grid
        self.varying = varying
        base = grid.irfft(_RedNoise(seed, "land", grid, slope=3.5, smooth=1.0).spectrum(0.0))
        # Antarctic cap: strongly favour land south of ~70S.
        base = base + 4.0 * np.clip((-68.0 - grid.lat[:, None]) / 6.0, 0.0, 1.0).astype(np.float32)
        self.base = base
        if land_fraction <= 0:
            self.threshold = np.inf
        else:
            self.threshold = float(np.quantile(base, 1.0 - land_fraction))
        if varying:
            self.wobble = 0.15 * grid.irfft(_RedNoise(seed, "land-wobble", grid).spectrum(0.0))

    def mask(self, t: float) -> np.ndarray:
        if not self.varying:
            return self.base > self.threshold
        return (self.base + np.sin(2 * np.pi * t / 365.0) * self.wobble) > self.threshold


# --------------------------------------------------------------------------- public


def _check(name: str, ok: bool, value, fix: str) -> None:
    if not ok:
        raise ConfigError(
            f"invalid synthetic {name}={value!r}", field=f"data.synthetic.{name}", fix=fix
        )


def make_synthetic_dataset(
    n_time: int = 24,
    height: int = 128,
    width: int = 256,
    variables: str | Sequence[str] = ("temp",),
    seed: int = 0,
    land_fraction: float = 0.25,
    varying_mask: bool = False,
) -> xr.Dataset:
    """Return an ``xr.Dataset`` with dims (time, lat, lon) of synthetic eddy-rich fields.

    Known variables: ``temp`` (degC), ``salt`` (psu), ``ssh`` (m), ``u``/``v`` (m s-1,
    geostrophic from the SSH anomaly); any other name gives a dimensionless eddy + noise
    field (units "1").  Values are float32, NaN over land, deterministic from ``seed``.
    Time steps are 5 days from 2000-01-01.
    """
    names = _checked_arguments(n_time, height, width, variables, seed, land_fraction)
    n_time, height, width, seed = int(n_time), int(height), int(width), int(seed)
    ocean = _Ocean(_Grid(height, width), names, seed, float(land_fraction), bool(varying_mask))
    out = {v: np.empty((n_time, height, width), dtype=np.float32) for v in names}
    for i in range(n_time):
        t = i * STEP_DAYS
        mask = ocean.land.mask(t)
        for v, field in ocean.fields(names, t).items():
            frame = out[v][i]
            frame[...] = field
            frame[mask] = np.nan
    attrs = {
        "title": "oceansr synthetic eddy-rich ocean fields",
        "Conventions": "CF-1.8",
        "source": "oceansr.data.synthetic.make_synthetic_dataset",
        "seed": seed,
        "land_fraction": float(land_fraction),
        "varying_mask": int(bool(varying_mask)),
        "time_step_days": STEP_DAYS,
    }
    return _to_dataset(out, ocean.grid, n_time, attrs)


def _checked_arguments(
    n_time: int,
    height: int,
    width: int,
    variables: str | Sequence[str],
    seed: int,
    land_fraction: float,
) -> list[str]:
    """Check the generator's arguments (config errors name data.synthetic.*); the names."""
    _check("n_time", int(n_time) == n_time and n_time >= 1, n_time, "data.synthetic.n_time=24")
    _check("height", int(height) == height and height >= 8, height, "data.synthetic.height=128")
    _check("width", int(width) == width and width >= 8, width, "data.synthetic.width=256")
    _check(
        "land_fraction",
        0.0 <= land_fraction < 1.0,
        land_fraction,
        "a fraction in [0, 1), e.g. data.synthetic.land_fraction=0.25",
    )
    _check("seed", int(seed) == seed and seed >= 0, seed, "data.synthetic.seed=0")
    if isinstance(variables, str):
        variables = [variables]
    names = [str(v) for v in variables]
    if not names or len(set(names)) != len(names):
        raise ConfigError(
            f"synthetic variables must be distinct and non-empty, got {names}",
            field="data.variables",
            fix="e.g. data.variables=[temp,salt,ssh,u,v]",
        )
    return names


class _Ocean:
    """The time-independent parts of the synthetic ocean, and its fields at any time."""

    def __init__(
        self, grid: _Grid, variables: list[str], seed: int, land_fraction: float, varying: bool
    ) -> None:
        self.grid = grid
        self.eddies = _Eddies(seed, grid)
        self.land = _Land(seed, grid, land_fraction, varying)
        streams = {"ssh" if v in ("ssh", "u", "v") else v for v in variables}
        if streams & {"temp", "salt"}:
            streams.add("displacement")
        self.streams = streams
        self.noise = {s: _RedNoise(seed, f"noise-{s}", grid) for s in streams}
        self.lat_deg = grid.lat[:, None].astype(np.float32)
        self.phi = grid.phi.astype(np.float32)
        self.cosp = np.cos(self.phi)
        sinp = np.sin(self.phi)
        # Geostrophy: u = -(g/f) d(eta)/dy, v = (g/f) d(eta)/dx, f clipped away from the
        # equator.
        self.f = (
            2 * _OMEGA * np.where(sinp >= 0, 1.0, -1.0) * np.maximum(np.abs(sinp), np.sin(0.17))
        )
        self.dy = grid.dlat * _M_PER_DEG
        self.dx = grid.dlon * _M_PER_DEG * np.maximum(self.cosp, 0.05)

    def fields(self, variables: list[str], t: float) -> dict[str, np.ndarray]:
        """Every variable's field at time ``t`` (days), land not yet masked."""
        grid, noise, two_pi_i = self.grid, self.noise, np.complex64(2j * np.pi)
        eddy = self.eddies.spectrum(t)
        season = np.float32(-np.cos(2 * np.pi * (t - 45.0) / 365.0))
        # Sea-surface height spectrum (ssh, and u/v from geostrophy); unused otherwise.
        eta_hat = (
            0.25 * eddy + 0.04 * noise["ssh"].spectrum(t)
            if "ssh" in self.streams
            else np.zeros_like(eddy)
        )
        if "displacement" in self.streams:
            # Meridional displacement (degrees) of the large-scale profile by meanders
            # and eddy stirring: fronts, filaments and dipoles.
            xi = grid.irfft(
                2.0 * noise["displacement"].spectrum(t)
                + self.eddies.stir * two_pi_i * grid.kx * eddy
            )
            lat_d = np.clip(self.lat_deg + xi, -90.0, 90.0)
            alat_d = np.abs(lat_d)
            cos_d = np.maximum(np.cos(np.deg2rad(lat_d)), 0.0)
            phi_d = np.deg2rad(lat_d)
        out: dict[str, np.ndarray] = {}
        for v in variables:
            if v == "temp":
                anom = grid.irfft(0.8 * eddy + 0.15 * noise["temp"].spectrum(t))
                base = -1.8 + 29.8 * cos_d**1.6 + 2.5 * np.sin(2 * phi_d) * season
                out[v] = np.maximum(base + anom, -1.9)
            elif v == "salt":
                anom = grid.irfft(0.15 * eddy + 0.03 * noise["salt"].spectrum(t))
                base = (
                    34.6
                    + 1.3 * np.exp(-(((alat_d - 25.0) / 12.0) ** 2))
                    - 0.6 * np.exp(-((alat_d / 8.0) ** 2))
                    - 1.0 * np.exp(-(((alat_d - 70.0) / 10.0) ** 2))
                )
                out[v] = base + anom
            elif v == "ssh":
                out[v] = 0.6 * self.cosp**2 - 0.35 + grid.irfft(eta_hat)
            elif v == "u":
                deta_dy = grid.irfft(two_pi_i * grid.ky * eta_hat) / self.dy
                mean_u = 0.15 * np.exp(-(((self.phi + 0.96) / 0.1) ** 2)) - 0.2 * np.exp(
                    -((self.phi / 0.05) ** 2)
                )
                out[v] = -(_G / self.f) * deta_dy + mean_u
            elif v == "v":
                deta_dx = grid.irfft(two_pi_i * grid.kx * eta_hat) / self.dx
                out[v] = (_G / self.f) * deta_dx
            else:
                out[v] = grid.irfft(0.7 * eddy + 0.7 * noise[v].spectrum(t))
        return out


def _to_dataset(
    out: dict[str, np.ndarray], grid: _Grid, n_time: int, attrs: dict[str, Any]
) -> xr.Dataset:
    """The generated fields as a CF-style Dataset (time, lat, lon) with units and names."""
    time = np.datetime64("2000-01-01", "ns") + np.arange(n_time) * np.timedelta64(
        int(STEP_DAYS * 24 * 3600), "s"
    )
    data_vars = {}
    for v, values in out.items():
        std_name, long_name = _ATTRS.get(v, (None, f"Synthetic field {v}"))
        var_attrs = {"units": UNITS.get(v, "1"), "long_name": long_name}
        if std_name:
            var_attrs["standard_name"] = std_name
        data_vars[v] = (("time", "lat", "lon"), values, var_attrs)
    return xr.Dataset(
        data_vars,
        coords={
            "time": ("time", time, {"standard_name": "time", "axis": "T"}),
            "lat": (
                "lat",
                grid.lat,
                {
                    "standard_name": "latitude",
                    "long_name": "latitude",
                    "units": "degrees_north",
                    "axis": "Y",
                },
            ),
            "lon": (
                "lon",
                grid.lon,
                {
                    "standard_name": "longitude",
                    "long_name": "longitude",
                    "units": "degrees_east",
                    "axis": "X",
                },
            ),
        },
        attrs=attrs,
    )
