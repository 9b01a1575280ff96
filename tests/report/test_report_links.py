"""The report is written only into the real run directory: never through a run directory
linked out of the runs root, a linked ``plots/`` or a linked report file, and the HTML
page embeds only plain images of the run (docs/architecture.md, run directory)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import subprocess_env
from oceansr.report import make_plots, make_report
from oceansr.report.html import markdown_to_html
from oceansr.runs import CorruptRunFileError, RunPaths
from runfactory import make_run
from waiting import PATIENCE_S

PNG = b"\x89PNG\r\n\x1a\n" + b"a tiny image"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def linked_run(tmp_path: Path) -> tuple[RunPaths, Path]:
    """A finished run elsewhere, linked into the runs root under its own id."""
    elsewhere = make_run(tmp_path / "elsewhere", status="completed")
    link = RunPaths(tmp_path / "runs", elsewhere.run_id)
    link.root.mkdir()
    link.dir.symlink_to(elsewhere.dir, target_is_directory=True)
    return link, elsewhere.dir


def test_a_plain_finished_run_gets_its_report(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    made = make_report(paths.run_id, runs_root=paths.root)
    assert Path(made["report_md"]) == paths.report_md and paths.report_md.is_file()
    assert paths.report_html.is_file() and paths.plots_dir.is_dir()


@pytest.mark.parametrize("how", ["by id", "by path"])
def test_no_report_is_written_through_a_run_directory_linked_out(linked_run, how) -> None:
    link, target = linked_run
    before = _tree(target)
    run = link.run_id if how == "by id" else str(link.dir)
    with pytest.raises(CorruptRunFileError, match="leads outside the runs root"):
        make_report(run, runs_root=link.root)
    with pytest.raises(CorruptRunFileError, match="leads outside the runs root"):
        make_plots(run, runs_root=link.root)
    assert _tree(target) == before


def test_the_cli_report_command_refuses_it_as_a_damaged_run(linked_run) -> None:
    link, target = linked_run
    before = _tree(target)
    command = [sys.executable, "-m", "oceansr", "--runs-root", str(link.root), "report"]
    done = subprocess.run(
        [*command, "build", link.run_id, "--json"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=PATIENCE_S,
    )
    assert done.returncode == 1, done
    summary = json.loads(done.stdout)["error_summary"]
    assert summary["failureType"] == "data_invalid"
    assert "leads outside the runs root" in summary["message"]
    assert summary.get("traceback_tail") is None
    assert _tree(target) == before


def test_a_linked_plots_folder_is_refused_and_left_empty(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    foreign = tmp_path / "foreign-plots"
    foreign.mkdir()
    paths.plots_dir.symlink_to(foreign, target_is_directory=True)
    with pytest.raises(CorruptRunFileError, match="plots is a symbolic link"):
        make_plots(paths.run_id, runs_root=paths.root)
    with pytest.raises(CorruptRunFileError, match="plots is a symbolic link"):
        make_report(paths.run_id, runs_root=paths.root)
    assert list(foreign.iterdir()) == []


def test_a_linked_report_file_is_refused_and_its_target_kept(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    victim = tmp_path / "victim.md"
    victim.write_text("## Notes\nprivate text of another file\n")
    paths.report_md.symlink_to(victim)
    with pytest.raises(CorruptRunFileError, match=r"report\.md is a symbolic link"):
        make_report(paths.run_id, runs_root=paths.root)
    assert victim.read_text() == "## Notes\nprivate text of another file\n"
    assert not paths.report_html.exists()


def test_the_page_embeds_only_plain_images_of_the_run(tmp_path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "plots").mkdir(parents=True)
    (run_dir / "plots" / "loss.png").write_bytes(PNG)
    (tmp_path / "outside.png").write_bytes(PNG + b" outside")
    (run_dir / "plots" / "link.png").symlink_to(tmp_path / "outside.png")
    text = (
        "![ok](plots/loss.png)\n\n![up](../outside.png)\n\n"
        f"![abs]({tmp_path / 'outside.png'})\n\n![link](plots/link.png)\n"
    )
    page = markdown_to_html(text, base_dir=run_dir, title="t")
    embedded = [base64.b64decode(src.split(",", 1)[1]) for src in _images(page)]
    assert embedded == [PNG]
    for alt in ("up", "abs", "link"):
        assert f"[missing image: {alt}]" in page


def _images(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)
