"""The trust boundary for agents (docs/architecture.md, trust boundary): every path an
untrusted caller names stays, after links, inside the allowed directories; no
interpolation and no shell-bearing launcher setting gets through; nothing is created
or spawned for a refused request. Real files, real symlinks, the real control calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oceansr import control
from oceansr.control import Confinement
from oceansr.core.errors import ConfigError
from oceansr.data.sample import sample_path
from runfactory import created_in

MARKER = "s3cr3t-marker-7f1c"


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """An allowed root (with runs/ and data/), an outside directory holding a file,
    and a read-only folder."""
    root = tmp_path / "allowed"
    (root / "data").mkdir(parents=True)
    (root / "runs").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.nc").write_text("not yours")
    (root / "data" / "inside.nc").write_text("fine")
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    (readonly / "sample.nc").write_text("ro")
    return {"root": root, "outside": outside, "readonly": readonly}


@pytest.fixture
def confine(place: dict[str, Path]) -> Confinement:
    return Confinement.of([place["root"]], base=place["root"], read_only=[place["readonly"]])


def refused(call: object, *args: object, **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_paths_inside_pass_and_keep_their_spelling(confine: Confinement, place: dict) -> None:
    assert confine.path("input", "data/inside.nc") == place["root"] / "data" / "inside.nc"
    assert confine.path("output", str(place["root"] / "new" / "x.nc"), write=True)
    assert confine.path("input", place["readonly"] / "sample.nc")


def test_escapes_are_refused_naming_the_field_and_the_allowed_roots(
    confine: Confinement, place: dict
) -> None:
    for value in ("../outside/secret.nc", str(place["outside"] / "secret.nc"), "/etc/passwd"):
        error = refused(confine.path, "input", value)
        assert error.field == "input"
        assert str(place["root"]) in error.message and "--allow-dir" in (error.fix or "")


def test_a_link_inside_that_leads_outside_is_refused(confine: Confinement, place: dict) -> None:
    (place["root"] / "data" / "link.nc").symlink_to(place["outside"] / "secret.nc")
    (place["root"] / "escape").symlink_to(place["outside"])
    refused(confine.path, "input", "data/link.nc")
    refused(confine.path, "output", "escape/out.nc", write=True)


def test_refusal_does_not_tell_whether_an_outside_file_exists(
    confine: Confinement, place: dict
) -> None:
    there = refused(confine.path, "input", str(place["outside"] / "secret.nc"))
    absent = refused(confine.path, "input", str(place["outside"] / "absent.nc"))
    assert there.message.replace("secret", "X") == absent.message.replace("absent", "X")


def test_read_only_roots_take_no_writes(confine: Confinement, place: dict) -> None:
    error = refused(confine.path, "output", place["readonly"] / "out.nc", write=True)
    assert "may write" in error.message


def test_interpolations_are_refused_without_resolving_them(
    confine: Confinement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCEANSR_TEST_SECRET", MARKER)
    for override in (
        "data.variables=[${oc.env:OCEANSR_TEST_SECRET}]",
        "trainer.max_epochs=${oc.env:OCEANSR_TEST_SECRET}",
        "data.path=/tmp/${oc.env:OCEANSR_TEST_SECRET}.nc",
    ):
        error = refused(confine.overrides, [override])
        assert MARKER not in str(error) and "interpolation" in error.message
    refused(confine.path, "output", "${oc.env:OCEANSR_TEST_SECRET}/x.nc", write=True)


def test_shell_bearing_launcher_settings_are_refused(confine: Confinement) -> None:
    for overrides in (
        ["launcher=slurm", "launcher.setup=['touch /tmp/pwned']"],
        ["launcher=slurm", "+launcher.extra_sbatch=['--output=/etc/x']"],
    ):
        error = refused(confine.overrides, overrides)
        assert error.field in ("launcher.setup", "launcher.extra_sbatch")
    confine.overrides(["launcher=slurm", "launcher.time=10"])  # plain settings pass


def test_config_paths_lists_globs_and_uris(
    confine: Confinement, place: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(place["root"])  # relative config paths: the trainer's cwd
    inside = place["root"] / "data" / "inside.nc"
    confine.overrides(["data=xarray", f"data.path={inside}"])
    confine.overrides(["data=xarray", "data.path=data/inside.nc"])
    confine.overrides(["data=xarray", f"data.path=[{inside},{inside}]"])
    confine.overrides(["data=xarray", f"data.path='{place['root']}/data/*.nc'"])
    secret = place["outside"] / "secret.nc"
    error = refused(confine.overrides, ["data=xarray", f"data.path=[{inside},{secret}]"])
    assert error.field == "data.path"
    refused(confine.overrides, ["data=xarray", f"data.lr_path={secret}"])
    refused(confine.overrides, [f"ckpt_path={secret}"])
    refused(confine.overrides, [f"init_from={secret}"])
    # A covariate's file (e.g. bathymetry), named inside a list of covariates.
    confine.overrides([f"data.covariates=[lat,{{file:{inside},variable:z}}]"])
    error = refused(confine.overrides, [f"data.covariates=[lat,{{file:{secret},variable:z}}]"])
    assert error.field == "data.covariates[1].file"
    # A glob whose own directory is inside but one match links outside.
    (place["root"] / "data" / "zz.nc").symlink_to(secret)
    refused(confine.overrides, ["data=xarray", f"data.path='{place['root']}/data/*.nc'"])
    # MLflow: a local store inside is fine; elsewhere or another scheme is not.
    confine.overrides(["logger=mlflow", f"logger.tracking_uri=file://{place['root']}/mlruns"])
    refused(confine.overrides, ["logger=mlflow", f"logger.tracking_uri=file://{place['outside']}"])
    refused(confine.overrides, ["logger=mlflow", "logger.tracking_uri=http://example.org:5000"])
    refused(confine.overrides, ["data=xarray", "data.path=s3://bucket/store.zarr"])


def test_resume_checks_only_what_it_changes(confine: Confinement, place: dict) -> None:
    recorded = ["data=xarray", f"data.path={place['outside'] / 'secret.nc'}"]
    confine.overrides(["trainer.max_epochs=40"], recorded=recorded)  # the run's own data
    refused(
        confine.overrides,
        [f"data.lr_path={place['outside'] / 'secret.nc'}"],
        recorded=recorded,
    )


def test_a_refused_start_creates_and_spawns_nothing(confine: Confinement, place: dict) -> None:
    runs = place["root"] / "runs"
    reply = control.start(
        ["experiment=smoke", "data=xarray", f"data.path={place['outside'] / 'secret.nc'}"],
        runs_root=runs,
        confine=confine,
    )
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "config_error"
    assert "data.path" in reply["error_summary"]["message"]
    assert "not yours" not in str(reply)
    assert created_in(runs) == []


def test_a_refused_predict_creates_nothing(place: dict) -> None:
    runs = place["root"] / "runs"
    confine = Confinement.of([place["root"]], base=place["root"], read_only=[sample_path().parent])
    reply = control.start_predict(
        str(sample_path()),
        checkpoint=place["root"] / "data" / "inside.nc",
        output=str(place["outside"] / "written.nc"),
        runs_root=runs,
        confine=confine,
    )
    assert reply["status"] == "error"
    assert "output" in reply["error_summary"]["message"]
    assert not (place["outside"] / "written.nc").exists()
    assert created_in(runs) == []
    for field, value in (("input", "../outside/secret.nc"), ("hr_mask", "/etc/passwd")):
        kwargs = {"hr_mask": value} if field == "hr_mask" else {}
        source = value if field == "input" else str(sample_path())
        reply = control.start_predict(
            source,
            checkpoint="data/inside.nc",
            runs_root=runs,
            base_dir=place["root"],
            confine=confine,
            **kwargs,
        )
        assert reply["status"] == "error" and field in reply["error_summary"]["message"]
    assert created_in(runs) == []


def test_local_callers_keep_their_freedom(place: dict) -> None:
    """No confinement (CLI, Python API): an outside path is the user's to use; it fails
    (or not) for what it is, not for where it is."""
    reply = control.start(
        [
            "experiment=smoke",
            "data=xarray",
            "data.variables=[temp]",
            f"data.path={place['outside'] / 'absent.nc'}",
        ],
        runs_root=place["root"] / "runs",
    )
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "data_not_found"


def test_symlinked_root_compares_by_real_path(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "d").mkdir(parents=True)
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    confine = Confinement.of([alias], base=alias)
    assert confine.path("input", real / "d" / "f.nc")
    assert confine.path("input", "d/f.nc") == alias / "d" / "f.nc"
    assert os.path.realpath(confine.roots[0]) == str(real)


def test_overrides_that_do_not_compose_fail_closed(confine: Confinement) -> None:
    """The path check never steps aside because the config was odd: an override that
    does not compose is refused with the classified error validation would give."""
    error = refused(confine.overrides, ["data.no_such_key=1"])
    assert error.field and "no_such_key" in str(error)
