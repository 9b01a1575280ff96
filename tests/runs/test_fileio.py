"""Run files are read and written without following links or blocking on special files,
and tracebacks of refused requests land in a private, bounded folder (runs/fileio.py,
runs/errorfile.py; see docs/architecture.md, run directory, and docs/architecture.md,
failure taxonomy)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from oceansr.runs import (
    CorruptRunFileError,
    RunNotFoundError,
    RunPaths,
    check_run_dir,
    new_run_id,
    open_regular,
    read_events,
    read_regular,
    read_status,
    read_tail_text,
    writable_run_file,
    writable_run_folder,
)
from oceansr.runs.errorfile import (
    ERROR_DIR,
    MAX_ERROR_FILES,
    prune_errors,
    scrub_tracebacks,
    write_error_file,
)
from runfactory import make_run

SECRET = "secret-outside-the-run-directory"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside any run directory, whose content must never be read back."""
    target = tmp_path / "elsewhere" / "secret.txt"
    target.parent.mkdir()
    target.write_text(SECRET + "\n")
    return target


# --------------------------------------------------------------------------- reading


def test_a_link_in_place_of_a_run_file_is_refused_naming_the_file(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.status_json.unlink()
    paths.status_json.symlink_to(outside)
    with pytest.raises(CorruptRunFileError, match=r"status\.json is a symbolic link") as caught:
        read_status(paths)
    assert SECRET not in str(caught.value)
    with pytest.raises(CorruptRunFileError):
        read_regular(paths.status_json)


def test_a_link_in_place_of_the_log_reads_as_no_text(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs")
    paths.train_log.symlink_to(outside)
    assert read_tail_text(paths.train_log) == ""


def test_a_fifo_events_file_is_refused_without_blocking(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.events_jsonl.unlink()
    os.mkfifo(paths.events_jsonl)
    with pytest.raises(CorruptRunFileError, match=r"events\.jsonl is not a regular file \(a FIFO"):
        read_events(paths)


def test_with_a_base_no_folder_on_the_way_may_be_a_link(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs")
    paths.checkpoints_dir.symlink_to(outside.parent, target_is_directory=True)
    sneaky = paths.checkpoints_dir / "secret.txt"
    assert read_regular(sneaky) == (SECRET + "\n").encode()  # without base: folder followed
    with pytest.raises(CorruptRunFileError, match="checkpoints is a symbolic link"):
        open_regular(sneaky, base=paths.dir)


def test_a_plain_nested_file_reads_with_a_base(tmp_path) -> None:
    paths = make_run(tmp_path / "runs")
    paths.checkpoints_dir.mkdir()
    paths.last_ckpt.write_bytes(b"ckpt")
    assert read_regular(paths.last_ckpt, base=paths.dir) == b"ckpt"


# --------------------------------------------------------------------------- run directories


def test_a_healthy_run_directory_passes_as_itself(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    assert check_run_dir(paths) == paths.dir


def test_a_runs_root_reached_through_a_link_is_a_normal_layout(tmp_path) -> None:
    real = make_run(tmp_path / "disk" / "runs", status="completed")
    (tmp_path / "runs").symlink_to(real.root, target_is_directory=True)
    seen = RunPaths(tmp_path / "runs", real.run_id)
    assert check_run_dir(seen) == seen.dir
    assert read_status(seen)["status"] == "completed"


def test_a_run_directory_linked_out_of_the_root_is_refused(tmp_path) -> None:
    elsewhere = make_run(tmp_path / "elsewhere", status="completed")
    paths = RunPaths(tmp_path / "runs", elsewhere.run_id)
    paths.root.mkdir()
    paths.dir.symlink_to(elsewhere.dir, target_is_directory=True)
    with pytest.raises(CorruptRunFileError, match="leads outside the runs root"):
        check_run_dir(paths)


def test_a_link_loop_and_a_dangling_link_are_damaged_not_missing(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    loop = RunPaths(root, new_run_id("train"))
    loop.dir.symlink_to(loop.dir)
    with pytest.raises(CorruptRunFileError, match="link loop"):
        check_run_dir(loop)
    dangling = RunPaths(root, new_run_id("train"))
    dangling.dir.symlink_to(tmp_path / "gone")
    with pytest.raises(CorruptRunFileError, match="link to nothing"):
        check_run_dir(dangling)
    with pytest.raises(RunNotFoundError):
        check_run_dir(RunPaths(root, new_run_id("train")))


def test_a_link_to_the_same_run_inside_the_root_is_followed(tmp_path) -> None:
    archived = make_run(tmp_path / "runs" / "archive", status="completed")
    link = RunPaths(tmp_path / "runs", archived.run_id)
    link.dir.symlink_to(archived.dir, target_is_directory=True)
    assert check_run_dir(link) == archived.dir.resolve()
    assert read_status(link)["status"] == "completed"


def test_a_link_to_another_run_inside_the_root_is_refused(tmp_path) -> None:
    real = make_run(tmp_path / "runs", status="completed")
    alias = RunPaths(real.root, new_run_id("train"))
    alias.dir.symlink_to(real.dir, target_is_directory=True)
    with pytest.raises(CorruptRunFileError, match="link to another run"):
        check_run_dir(alias)


def test_a_link_inside_the_run_directory_makes_it_damaged(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.checkpoints_dir.mkdir()
    paths.best_ckpt.symlink_to(outside)
    with pytest.raises(CorruptRunFileError, match=r"best\.ckpt is a symbolic link"):
        check_run_dir(paths)


def test_a_file_in_place_of_a_run_folder_makes_it_damaged(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.plots_dir.write_text("not a folder")
    with pytest.raises(CorruptRunFileError, match="plots is not a directory"):
        check_run_dir(paths)


# --------------------------------------------------------------------------- writing


def test_report_targets_are_refused_through_links(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.report_md.symlink_to(outside)
    with pytest.raises(CorruptRunFileError, match=r"report\.md is a symbolic link"):
        writable_run_file(paths, "report.md")
    paths.plots_dir.symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(CorruptRunFileError, match="plots is a symbolic link"):
        writable_run_folder(paths, "plots")
    with pytest.raises(ValueError, match="not a path inside"):
        writable_run_file(paths, "../escape.md")
    assert outside.read_text() == SECRET + "\n"


def test_writable_folder_is_created_in_the_real_run_directory(tmp_path) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    assert writable_run_folder(paths, "plots") == paths.plots_dir
    assert paths.plots_dir.is_dir() and not paths.plots_dir.is_symlink()
    assert writable_run_file(paths, "plots/loss.png") == paths.plots_dir / "loss.png"


# --------------------------------------------------------------------------- error files


def test_an_error_of_no_run_lands_in_the_runs_root_private(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    where = write_error_file(None, "Traceback (most recent call last):\nboom", runs_root=root)
    assert where is not None and Path(where).parent == root / ERROR_DIR
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(root / ERROR_DIR).st_mode) == 0o700
    assert "boom" in Path(where).read_text()
    other = write_error_file(None, "again", runs_root=root)
    assert other != where  # a fresh name every time


def test_without_a_runs_root_errors_go_to_the_users_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    where = write_error_file(None, "boom", runs_root=tmp_path / "no-such-root")
    assert where is not None and Path(where).parent == tmp_path / "cache" / "oceansr" / "errors"
    assert not (tmp_path / "no-such-root").exists()  # no runs root made as a side effect
    assert stat.S_IMODE(os.stat(where).st_mode) == 0o600


def test_a_run_error_appends_to_its_error_txt_never_through_a_link(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="failed")
    assert write_error_file(paths.dir, "first", runs_root=paths.root) == str(paths.error_txt)
    paths.error_txt.unlink()
    paths.error_txt.symlink_to(outside)
    where = write_error_file(paths.dir, "second", runs_root=paths.root)
    assert where is not None and Path(where).parent == paths.root / ERROR_DIR
    assert outside.read_text() == SECRET + "\n"


def test_only_the_newest_error_files_are_kept(tmp_path) -> None:
    folder = tmp_path / "errors"
    folder.mkdir()
    for index in range(MAX_ERROR_FILES + 5):
        (folder / f"20260101-000000-{index:09d}-1-abcd.txt").write_text("x")
    (folder / "keep-me.log").write_text("not ours")
    assert prune_errors(folder) == 5
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == MAX_ERROR_FILES + 1 and "keep-me.log" in names
    assert names[0] == "20260101-000000-000000005-1-abcd.txt"


def test_the_bound_holds_across_many_refused_requests(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    for _ in range(MAX_ERROR_FILES + 20):
        write_error_file(None, "boom", runs_root=root)
    assert len(list((root / ERROR_DIR).iterdir())) == MAX_ERROR_FILES


def test_scrubbing_a_reply_of_no_run_writes_under_the_runs_root(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    reply = {"error_summary": {"traceback_tail": "Traceback (most recent call last):\n  x"}}
    scrubbed = scrub_tracebacks(reply, None, runs_root=root)
    summary = scrubbed["error_summary"]
    assert summary["traceback_tail"] is None
    assert Path(summary["traceback_path"]).parent == root / ERROR_DIR
