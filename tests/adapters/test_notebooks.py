"""The notebooks: stored clean, and run top to bottom on a fresh kernel of this interpreter.

Each notebook is executed with nbclient in a temporary working directory, with
``OCEANSR_RUNS`` (where the notebooks put their runs) and ``TMPDIR`` (where they write
their files) under pytest's ``tmp_path``, so nothing is left behind. The kernel is this
interpreter (``sys.executable``): the ``python3`` kernelspec when it resolves to it,
else a kernelspec written for it into a temporary ``JUPYTER_PATH`` — nothing installed
by hand is needed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"
NAMES = ("quickstart.ipynb", "your_own_data.ipynb")
#: Name of the kernelspec written at test time when ``python3`` is not this interpreter.
TEST_KERNEL = "oceansr-test-python"
#: Seconds per cell before nbclient gives up (a cell normally takes a few seconds).
CELL_TIMEOUT_S = 240


# --------------------------------------------------------------------------- kernel


def _runs_this_python(argv: list[str]) -> bool:
    """Whether a kernelspec command starts an IPython kernel of ``sys.executable``.

    jupyter_client replaces a bare ``python`` / ``python3`` / ``python3.X`` by
    ``sys.executable`` when it launches the kernel; any other program must be ours.
    """
    if not argv or not any("ipykernel" in arg for arg in argv):
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return argv[0] in bare or os.path.abspath(argv[0]) == os.path.abspath(sys.executable)


def install_test_kernel(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write a kernelspec running ``sys.executable`` under ``root``; make Jupyter find it."""
    from ipykernel.kernelspec import install

    install(kernel_name=TEST_KERNEL, display_name="oceansr tests", prefix=str(root))
    monkeypatch.setenv("JUPYTER_PATH", str(root / "share" / "jupyter"))
    return TEST_KERNEL


def python_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of a kernel that runs this interpreter (``python3`` if it does)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        spec = None
    if spec is not None and _runs_this_python(list(spec.argv)):
        return "python3"
    return install_test_kernel(tmp_path / "jupyter", monkeypatch)


def execute(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: str) -> Any:
    """Run a notebook in ``tmp_path/work``; returns the executed notebook (raises on an error)."""
    from nbclient import NotebookClient

    work = tmp_path / "work"
    scratch = tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows figures
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        kernel_name=kernel,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # CellExecutionError (with the cell and its traceback) on any error
    nbformat.write(nb, tmp_path / f"executed-{path.name}")  # kept for inspection
    return nb


def outputs(nb: Any) -> list[Any]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def stdout(nb: Any) -> str:
    return "".join(
        out.text for out in outputs(nb) if out.output_type == "stream" and out.name == "stdout"
    )


def count_mime(nb: Any, mime: str) -> int:
    return sum(mime in out.get("data", {}) for out in outputs(nb))


def mime_texts(nb: Any, mime: str) -> list[str]:
    return [out.data[mime] for out in outputs(nb) if mime in out.get("data", {})]


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    runs = tmp_path / "runs"
    monkeypatch.setenv("OCEANSR_RUNS", str(runs))
    return runs


# --------------------------------------------------------------------------- stored files


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and any(cell.cell_type == "markdown" for cell in nb.cells)
    for index, cell in enumerate(code):
        assert cell.outputs == [], f"{name}: code cell {index} has stored outputs"
        assert cell.execution_count is None, f"{name}: code cell {index} has an execution count"
        assert "execution" not in cell.metadata, f"{name}: code cell {index} has timings"


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


# --------------------------------------------------------------------------- kernel


def test_kernel_detection() -> None:
    assert _runs_this_python(["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert _runs_this_python([sys.executable, "-m", "ipykernel_launcher", "-f", "{c}"])
    assert not _runs_this_python(["/elsewhere/bin/python3.9", "-m", "ipykernel_launcher"])
    assert not _runs_this_python(["python", "-m", "some_other_kernel"])
    assert not _runs_this_python([])


@pytest.mark.slow
def test_test_kernel_runs_this_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback kernelspec (used where ``python3`` is another Python) works here."""
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    name = install_test_kernel(tmp_path / "jupyter", monkeypatch)
    spec = KernelSpecManager().get_kernel_spec(name)
    assert spec.argv[0] == sys.executable
    cell = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
    nb = nbformat.v4.new_notebook(cells=[cell])
    NotebookClient(nb, timeout=60, startup_timeout=120, kernel_name=name).execute()
    assert os.path.samefile(stdout(nb).strip(), sys.executable)


# --------------------------------------------------------------------------- execution


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs_dir: Path) -> None:
    kernel = python_kernel(tmp_path, monkeypatch)
    began = time.monotonic()
    nb = execute(NOTEBOOKS / "quickstart.ipynb", tmp_path, monkeypatch, kernel)
    seconds = time.monotonic() - began
    text = stdout(nb)

    # The run went where OCEANSR_RUNS points, and completed.
    runs = sorted(runs_dir.glob("train-*"))
    assert len(runs) == 1, text
    assert f"runs root: {runs_dir}" in text
    assert f"started: {runs[0].name}" in text
    assert re.search(r"^completed \(run duration [\d.]+ s\)$", text, re.M), text
    # Test RMSE next to bicubic, with the unit.
    rmse_line = r"^temp: test RMSE ([\d.]+) degC \| bicubic ([\d.]+) degC \| gain [+-][\d.]+ %$"
    match = re.search(rmse_line, text, re.M)
    assert match, text
    assert float(match[1]) > 0 and float(match[2]) > 0
    assert "best validation RMSE" in text
    assert f"1 run(s) under {runs_dir}" in text
    # Plots inline, and the report's analysis.
    assert count_mime(nb, "image/png") >= 5
    assert (runs[0] / "plots" / "loss.png").is_file()
    analysis = [t for t in mime_texts(nb, "text/markdown") if t.startswith("## Analysis")]
    assert analysis and "Baselines" in analysis[0]
    assert (runs[0] / "report.html").is_file()
    assert "nothing to kill" in text
    print(f"quickstart.ipynb: {seconds:.1f} s")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_your_own_data_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs_dir: Path
) -> None:
    kernel = python_kernel(tmp_path, monkeypatch)
    began = time.monotonic()
    nb = execute(NOTEBOOKS / "your_own_data.ipynb", tmp_path, monkeypatch, kernel)
    seconds = time.monotonic() - began
    text = stdout(nb)

    assert "warnings: none" in text
    assert "variables ['temp', 'salt'], scale x4" in text
    assert len(list(runs_dir.glob("train-*"))) == 1, text
    predicts = list(runs_dir.glob("predict-*"))
    assert len(predicts) == 1, text
    assert f"{predicts[0].name}: completed" in text
    for var, unit in (("temp", "degC"), ("salt", "psu")):
        assert re.search(rf"^{var}: test RMSE [\d.]+ {unit} \| bicubic [\d.]+ {unit}", text, re.M)
        # The RMSE of the predicted file against the truth is the training run's test RMSE:
        # same fields, same LR operator, same checkpoint.
        match = re.search(
            rf"^{var}: RMSE super-resolution ([\d.]+) {unit} \| bicubic ([\d.]+) {unit} .*"
            rf"\(training run's test RMSE ([\d.]+)\)$",
            text,
            re.M,
        )
        assert match, text
        assert float(match[1]) == pytest.approx(float(match[3]), rel=1e-2)
        assert float(match[2]) > 0
    # The map, and the files of the notebook stayed in the temporary directory.
    assert count_mime(nb, "image/png") == 1
    outputs_nc = list((tmp_path / "tmp").glob("oceansr-own-data-*/my_ocean_sr.nc"))
    assert len(outputs_nc) == 1
    print(f"your_own_data.ipynb: {seconds:.1f} s")
