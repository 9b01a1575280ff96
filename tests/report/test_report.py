"""Plots and reports from a real run (oceansr.report): files, numbers, notes, errors."""

from __future__ import annotations

import base64
import csv
import json
import re
import shutil
import struct
from pathlib import Path

import pytest

from oceansr.core.errors import DataNotFoundError, RunStateError
from oceansr.report import load_history, make_plots, make_report
from oceansr.report.formatting import (
    format_value,
)
from oceansr.report.plots import MAP_PANELS, colour_map_for, robust_limits
from oceansr.report.report import NOTES_MARKER, markdown_to_html
from oceansr.runs import (
    RunPaths,
    atomic_write_json,
    create_run,
    new_run_id,
    read_json,
    read_status,
    transition,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CURVE_PLOTS = ("loss", "metrics", "lr", "metric_bars", "summary")
ALL_PLOTS = (
    *CURVE_PLOTS,
    "maps_temp",
    "errors_by_region",
    "spectra_temp",
    "rmse_by_depth_temp",
)
SECTIONS = (
    "Summary",
    "Configuration",
    "Data",
    "Timeline",
    "Curves",
    "Sample maps",
    "Final metrics",
    "Checkpoints",
    "Compute cost",
    "Analysis",
    "Notes",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    """One real two-epoch smoke run (SRCNN on the bundled WOA sample) shared by the module."""
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("report_runs")
    result = train(["experiment=smoke", f"runs_root={root}", "trainer.max_epochs=2"])
    return RunPaths.from_dir(result.run_dir)


@pytest.fixture(scope="module")
def plots(run: RunPaths) -> dict:
    return make_plots(run.dir)  # by directory path, default num_maps=2


@pytest.fixture(scope="module")
def report(run: RunPaths) -> dict:
    return make_report(run.run_id, runs_root=run.root)  # by run id


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"section {title!r} missing"
    return match.group(1)


# --------------------------------------------------------------------------- plots


def test_every_plot_is_a_valid_png_of_reasonable_size(plots: dict, run: RunPaths) -> None:
    by_name = {p["name"]: p for p in plots["plots"]}
    assert set(by_name) == set(ALL_PLOTS), plots["skipped"]
    assert plots["skipped"] == []
    assert plots["status"] == "completed" and plots["run_id"] == run.run_id
    assert sorted(plots["files"]) == sorted(p["path"] for p in plots["plots"])
    for name, info in by_name.items():
        path = Path(info["path"])
        assert path.parent == run.plots_dir and path.suffix == ".png"
        width, height = _png_size(path)
        assert 300 <= width <= 4000 and 250 <= height <= 4000, (name, width, height)
        assert [width, height] == info["size_px"]
        assert 10_000 < path.stat().st_size < 3_000_000, name
        assert info["title"], name


def test_sample_maps_show_lr_bicubic_sr_hr_and_errors(plots: dict) -> None:
    maps = next(p for p in plots["plots"] if p["name"] == "maps_temp")
    assert maps["panels"] == list(MAP_PANELS)
    assert {"LR", "Bicubic", "SR", "HR", "SR − HR"} <= set(MAP_PANELS)
    assert maps["colour_map"] == "thermal" and maps["units"] == "°C"
    assert maps["checkpoint"].endswith("best.ckpt")
    assert len(maps["rows"]) == 2  # num_maps test fields
    assert len({row["label"] for row in maps["rows"]}) == 2
    assert maps["axes_titles"].count("SR − HR") == 2
    for row in maps["rows"]:
        assert row["panels"] == list(MAP_PANELS)  # read back from the drawn axes
        low, high = row["error_limits"]
        assert low == pytest.approx(-high) and high > 0  # symmetric error colours
        vmin, vmax = row["colour_limits"]
        assert vmin < vmax
        assert row["rmse"] > 0 and row["rmse_bicubic"] > 0


def test_plots_by_id_without_maps_say_why(run: RunPaths, plots: dict) -> None:
    result = make_plots(run.run_id, runs_root=run.root, num_maps=0)
    assert {p["name"] for p in result["plots"]} == set(CURVE_PLOTS)
    skipped = {s["name"]: s["reason"] for s in result["skipped"]}
    assert "num_maps=0" in skipped["sample_maps"]


def test_history_is_read_from_events_and_metrics_csv(run: RunPaths) -> None:
    history = load_history(run.dir)
    assert [row["epoch"] for row in history.epochs] == [1, 2]
    assert history.sources == {"epochs": "events.jsonl", "lr": "metrics.csv"}
    end = [e for e in history.events if e["event"] == "training_end"][-1]
    assert history.best_epoch == end["best_epoch"]
    assert [row["epoch"] for row in history.lr] == [1, 2]
    assert history.lr[0]["lr"] == pytest.approx(2e-4)  # LR in effect during epoch 1
    assert len(history.train_steps) == 4 and history.train_steps[-1]["epoch"] == 2.0
    assert history.test["test/rmse"] == read_status(run)["metrics"]["test"]["test/rmse"]
    assert history.variables == ["temp"] and history.units == ["°C"]  # displayed: report/units.py


def test_colour_maps_and_limits() -> None:
    assert colour_map_for("thetao", "degC").name == "thermal"
    assert colour_map_for("so", "1e-3").name == "haline"
    assert colour_map_for("zos", "m") == colour_map_for("uo", "m s-1")
    assert colour_map_for("zos", "m").name == "balance" and colour_map_for("zos").symmetric
    assert colour_map_for("field", "psu").name == "haline"
    assert colour_map_for("field", "degC").name == "thermal"
    values = [float("nan"), -3.0, 1.0, 2.0, 100.0]
    low, high = robust_limits(values, symmetric=True)
    assert low == -high and high > 3
    assert robust_limits([float("nan")]) == (0.0, 1.0)


# --------------------------------------------------------------------------- report


def test_report_has_every_section_and_the_metric_table(report: dict, run: RunPaths) -> None:
    md = Path(report["report_md"]).read_text(encoding="utf-8")
    positions = [md.index(f"\n## {title}\n") for title in SECTIONS]
    assert positions == sorted(positions)
    test = read_status(run)["metrics"]["test"]
    want = [format_value(test[f"test/rmse{kind}"]) for kind in ("", "_bicubic", "_spline")]
    table = _section(md, "Final metrics")
    row = next(line for line in table.splitlines() if line.startswith("| temp | RMSE [°C]"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[6:9] == want  # test RMSE with both baselines next to it
    assert cells[9].endswith("%")
    # The gain column names the stronger baseline of the test split.
    stronger = "cubic spline" if test["test/rmse_spline"] < test["test/rmse_bicubic"] else "bicubic"
    assert f"test gain over {stronger} |" in table
    # Every depth level of the test split on its own line.
    assert "### Test RMSE per group" in table and "| depth | fields | RMSE |" in table
    config = _section(md, "Configuration")
    assert "<details>" in config and "```yaml" in config and "`srcnn`" in config
    data = _section(md, "Data")
    assert "88×180" in data and "22×45" in data
    assert "Sea water temperature (World Ocean Atlas monthly climatology) (temp) [°C]" in data
    assert "PSNR data range temp" in data
    assert re.search(r"peak memory \| peak RSS \(MiB\) = [0-9.]+", _section(md, "Compute cost"))
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (run.dir / image).is_file(), image
    assert len(report["plots"]) == len(ALL_PLOTS) and report["skipped"] == []


def test_analysis_is_written_from_the_numbers(report: dict, run: RunPaths) -> None:
    md = Path(report["report_md"]).read_text(encoding="utf-8")
    for banned in ("TODO", "placeholder", "lorem", "nan", "None", "{", "}"):
        assert banned.lower() not in _section(md, "Analysis").lower(), banned
    for banned in ("TODO", "placeholder", "lorem ipsum"):
        assert banned.lower() not in md.lower()
    status = read_status(run)
    verdict = status["test_breakdown"]
    baseline = "cubic spline" if verdict["baseline"] == "spline" else "bicubic"
    # "beats" only where the block-bootstrap interval excludes zero, and it is quoted.
    assert (f"the model **beats {baseline}**" in md) is (verdict["ci95"][0] > 0)
    lo, hi = (f"{v:+.1f} %" for v in verdict["ci95"])
    assert f"Against the stronger baseline ({baseline}) the test RMSE gain is" in md
    assert f"95 % interval {lo} to {hi}, block bootstrap over" in md
    if verdict["losing"]:
        assert f"The model's RMSE is higher than {baseline}'s at" in md
    ratio = status["metrics"]["test"]["test/seam_ratio"]
    assert f"the columns next to it is {format_value(ratio, 3)}x the interior's" in md
    history = load_history(run.dir)
    _, val = history.series("val/rmse")
    change = 100 * (val[-1] - val[0]) / val[0]
    expected = "still improving" if change < -1 else "worsening" if change > 1 else "plateaued"
    analysis = _section(md, "Analysis")
    assert f"**{expected}**" in analysis and f"{change:+.1f} %" in analysis
    _, train = history.series(history.train_loss_key)
    overfit = len(train) >= 3 and train[-1] < train[0] * 0.99 and change > 1
    assert ("Signs of over-fitting" in analysis) is overfit
    # The bundled 2° grid cannot resolve 0-50 or 50-200 km: its coastal band is 0-500 km.
    assert "the model's RMSE within 500 km of land is" in analysis
    assert "errors are said to concentrate only beyond ×1.25" in analysis
    assert re.search(r"worst latitude band is \d+°[NS]?–\d+°[NS]?", analysis)
    assert any(line.startswith("Baselines:") for line in report["analysis"])


@pytest.mark.parametrize(
    ("train", "val", "trend", "overfit"),
    [
        ([0.9, 0.5, 0.3], [0.80, 0.85, 0.95], "worsening", True),
        ([0.9, 0.5, 0.3], [0.80, 0.70, 0.60], "still improving", False),
        ([0.9, 0.5, 0.3], [0.700, 0.702, 0.701], "plateaued", False),
    ],
)
def test_analysis_verdicts_follow_the_curves(
    run: RunPaths, train: list, val: list, trend: str, overfit: bool
) -> None:
    from oceansr.report.report import analyse

    history = load_history(run.dir)
    history.epochs = [
        {"epoch": i + 1, "train/loss_epoch": t, "val/rmse": v}
        for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]
    history.test = {**history.test, "test/rmse": 0.1, "test/temp/rmse": 0.1}
    text = " ".join(sentence for _, sentence in analyse(history, None, "not evaluated"))
    assert f"**{trend}**" in text
    assert ("Signs of over-fitting" in text) is overfit
    assert "On the test set the model's RMSE is 0.1000 °C against" in text
    assert "The spatial error analysis was not made: not evaluated." in text


def test_notes_survive_regeneration(report: dict, run: RunPaths) -> None:
    md_path = Path(report["report_md"])
    text = md_path.read_text(encoding="utf-8")
    assert text.count(NOTES_MARKER) == 1 and text.rstrip().endswith(NOTES_MARKER)
    notes = "Compared with run A: sharper fronts.\n\n- check the *coastal* error\n"
    notes += "<script>x</script>"
    md_path.write_text(text.replace(NOTES_MARKER, f"{NOTES_MARKER}\n{notes}\n"), encoding="utf-8")
    again = make_report(run.dir)
    assert again["notes_preserved"] is True
    new = md_path.read_text(encoding="utf-8")
    assert new.count(NOTES_MARKER) == 1 and new.count("sharper fronts") == 1
    assert new.split(NOTES_MARKER, 1)[1].strip() == notes
    page = Path(again["report_html"]).read_text(encoding="utf-8")
    assert "sharper fronts" in page and "<em>coastal</em>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_html_is_self_contained(report: dict) -> None:
    page = Path(report["report_html"]).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == len(ALL_PLOTS)
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE
    assert not re.search(r"https?://|<link|<script|src=\"(?!data:)", page)
    assert "<table>" in page and "<details>" in page and "<h2" in page
    assert "<!-- notes: add your notes below -->" in page


def test_markdown_subset_conversion(tmp_path: Path) -> None:
    page = markdown_to_html(
        # Pipes in cells are escaped, as the report's tables write them (GFM splits a
        # cell on an unescaped pipe, even inside a code span).
        "# T\n\n| a | b \\| c |\n|---|---|\n| `x\\|y` | **z** |\n\n- [x](https://e.org)\n",
        base_dir=tmp_path,
        title="t",
    )
    assert "<th>b | c</th>" in page and "<strong>z</strong>" in page
    assert "<code>x|y</code>" in page
    assert "https://" not in page and "<li>x</li>" in page


# --------------------------------------------------------------------------- errors


def test_unknown_run_is_data_not_found(run: RunPaths, tmp_path: Path) -> None:
    for bad in ("train-20000101-000000-abcdef", "not-a-run", tmp_path / "missing"):
        with pytest.raises(DataNotFoundError, match="run"):
            make_plots(bad, runs_root=run.root)
        with pytest.raises(DataNotFoundError):
            make_report(bad, runs_root=run.root)
    with pytest.raises(DataNotFoundError, match="not a run directory"):
        make_plots(tmp_path)


@pytest.mark.parametrize("state", ["pending", "running"])
def test_unfinished_run_is_refused_with_a_fix(tmp_path: Path, state: str) -> None:
    paths = RunPaths.for_id(new_run_id("train"), tmp_path)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    if state == "running":
        transition(paths, "running", event="process_started", pid=1, host="test")
    for make in (make_plots, make_report):
        with pytest.raises(RunStateError) as info:
            make(paths.run_id, runs_root=tmp_path)
        assert state in info.value.message
        assert "wait for the run to finish" in info.value.fix
    assert not paths.plots_dir.exists() and not paths.report_md.exists()


def test_failed_run_without_checkpoints_still_gets_curves(run: RunPaths, tmp_path: Path) -> None:
    copy = RunPaths.for_id(new_run_id("train"), tmp_path)
    shutil.copytree(run.dir, copy.dir, ignore=shutil.ignore_patterns("plots", "report.*"))
    shutil.rmtree(copy.checkpoints_dir)
    status = read_json(copy.status_json)
    summary = {"failureType": "cpu_oom", "message": "out of memory", "suggestions": ["x=1"]}
    status.update(status="failed", run_id=copy.run_id, error_summary=summary, exit_code=1)
    status["metrics"]["test"] = {}
    atomic_write_json(copy.status_json, status)
    events = copy.events_jsonl.read_text().splitlines()
    kept = [line for line in events if json.loads(line)["event"] != "training_end"]
    copy.events_jsonl.write_text("\n".join(kept) + "\n")
    with open(copy.metrics_csv, newline="") as handle:  # it never reached testing
        rows = list(csv.reader(handle))
    tests = [i for i, name in enumerate(rows[0]) if name.startswith("test/")]
    with open(copy.metrics_csv, "w", newline="") as handle:
        csv.writer(handle).writerows(r for r in rows if not any(r[i] for i in tests))

    result = make_plots(copy.dir)
    assert {p["name"] for p in result["plots"]} == set(CURVE_PLOTS)
    skipped = {s["name"]: s["reason"] for s in result["skipped"]}
    assert "no checkpoint" in skipped["sample_maps"]
    card = next(p for p in result["plots"] if p["name"] == "summary")
    assert any(line.startswith("Status: failed — cpu_oom") for line in card["lines"])

    reply = make_report(copy.run_id, runs_root=tmp_path)
    md = Path(reply["report_md"]).read_text(encoding="utf-8")
    assert "The run **failed** after 2 finished epochs" in md
    assert "Not drawn: no checkpoint" in md and "cpu_oom" in md
    assert "On the validation set (no test metrics)" in md


def test_run_that_failed_at_start_up_gets_a_clear_skip(tmp_path: Path) -> None:
    from oceansr.train.entry import train

    with pytest.raises(RuntimeError, match="debug fault"):
        train(["experiment=smoke", f"runs_root={tmp_path}", "debug.fail_at=startup"])
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("train-")]
    result = make_plots(run_dir)
    assert [p["name"] for p in result["plots"]] == ["summary"]
    skipped = {s["name"]: s["reason"] for s in result["skipped"]}
    assert set(skipped) == {"loss", "metrics", "lr", "metric_bars", "sample_maps",
                            "errors_by_region"}  # fmt: skip
    assert "no finished epoch" in skipped["loss"]
    md = Path(make_report(run_dir)["report_md"]).read_text(encoding="utf-8")
    assert "config.yaml was not written" in md and "No validation epoch finished" in md


@pytest.mark.slow
def test_cli_report_commands_are_thin_adapters(run: RunPaths) -> None:
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "oceansr", "--runs-root", str(run.root), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    made = cli("report", "plots", run.run_id, "--num-maps", "0", "--json")
    assert made.returncode == 0, made.stderr[-2000:]
    reply = json.loads(made.stdout)
    assert reply["status"] == "ok" and reply["run_status"] == "completed"
    assert all(Path(p).is_file() for p in reply["files"])
    missing = cli("report", "build", "train-20200101-000000-aaaaaa", "--json")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error_summary"]["failureType"] == "data_not_found"
    junk = cli("report", "build", "../../etc", "--json")
    assert junk.returncode == 1
    assert json.loads(junk.stdout)["error_summary"]["failureType"] == "config_error"


def test_markdown_it_renders_tables_and_inlines_images(tmp_path: Path) -> None:
    """report.html comes from markdown-it: GFM tables, local images as data URIs in a
    figure, raw HTML only for the report's own block tags, anchors on headings."""
    png = PNG_SIGNATURE + b"rest of a tiny png"
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "loss.png").write_bytes(png)
    text = (
        "## Final metrics\n\n| metric | model |\n|:---|---:|\n| RMSE | **0.5** |\n\n"
        "![Loss curve](plots/loss.png)\n\n![far](https://e.org/x.png)\n\n"
        "<details>\n<summary>More</summary>\n\n```yaml\na: <b>\n```\n\n</details>\n\n"
        "<iframe src=x></iframe>\n"
    )
    page = markdown_to_html(text, base_dir=tmp_path, title="t <1>")
    assert '<h2 id="final-metrics">Final metrics</h2>' in page
    assert "<table>" in page and "<th" in page and "<td" in page
    assert "<strong>0.5</strong>" in page and "RMSE" in page
    (src,) = re.findall(r'<img src="([^"]+)"', page)
    assert base64.b64decode(src.split(",", 1)[1]) == png
    assert "<figcaption>Loss curve</figcaption></figure>" in page
    assert "https://" not in page and "[image not embedded: far]" in page
    assert "<details>" in page and "<summary>More</summary>" in page
    assert "a: &lt;b&gt;" in page and "<iframe" not in page and "&lt;iframe" in page
    assert "<title>t &lt;1&gt;</title>" in page


def test_chinese_plots_have_chinese_titles_drawn_with_a_cjk_font(run: RunPaths) -> None:
    from oceansr.report.fonts import INSTALL_HINT, cjk_font_family

    if cjk_font_family() is None:
        pytest.skip(f"no CJK font installed here ({INSTALL_HINT})")
    zh = make_plots(run.dir, num_maps=1, lang="zh")
    assert zh["lang"] == "zh" and "warnings" not in zh
    by_name = {p["name"]: p for p in zh["plots"]}
    assert by_name["maps_temp"]["panels"][:4] == ["低分辨率", "双三次插值", "超分辨率", "高分辨率"]
    assert "纬向功率谱" in by_name["spectra_temp"]["title"]
    assert "深度" in by_name["rmse_by_depth_temp"]["title"]
    maps = by_name["maps_temp"]["rows"][0]
    assert maps["extend"][0] in ("neither", "min", "max", "both")
    assert make_plots(run.dir, num_maps=1)["lang"] == "en"  # rcParams restored, English default
