"""The report in Chinese (``lang=zh``), one duration, one list of next steps, and the
report opened in a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import re
import shutil
import string
import subprocess
from pathlib import Path

import numpy as np
import pytest

from oceansr.i18n import report_zh, tr, writing_in
from oceansr.report import make_report
from oceansr.report.formatting import format_duration
from oceansr.runs import RunPaths, read_json
from oceansr.runs.outcome import duration_s

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("report_zh_runs")
    result = train(["experiment=smoke", f"runs_root={root}", "trainer.max_epochs=2"])
    return RunPaths.from_dir(result.run_dir)


@pytest.fixture(scope="module")
def reports(run: RunPaths, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The English and the Chinese report.html of the same run (copied aside)."""
    out = tmp_path_factory.mktemp("reports")
    pages: dict[str, Path] = {}
    for lang in ("en", "zh"):
        reply = make_report(run.dir, lang=lang)
        for name in ("report_md", "report_html"):
            target = out / f"{lang}_{Path(reply[name]).name}"
            shutil.copy(reply[name], target)
            pages[f"{lang}_{name}"] = target
    return pages


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_chinese_texts_keep_their_placeholders() -> None:
    for english, chinese in report_zh.TERMS.items():
        assert _fields(english) == _fields(chinese), english
    with writing_in("zh"):
        assert tr("RMSE") == "均方根误差 RMSE" and tr("unknown text") == "unknown text"
    assert tr("RMSE") == "RMSE"  # English outside the block


def test_chinese_report_uses_the_domain_terms(reports: dict[str, Path]) -> None:
    md = reports["zh_report_md"].read_text(encoding="utf-8")
    for title in (
        "## 摘要",
        "## 配置",
        "## 数据",
        "## 时间线",
        "## 最终指标",
        "## 分析",
        "## 备注",
    ):
        assert title in md
    for term in ("均方根误差 RMSE", "双三次插值", "峰值信噪比 PSNR", "结构相似性 SSIM", "变量"):
        assert term in md
    assert "## Summary" not in md and "| variable |" not in md
    page = reports["zh_report_html"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "运行报告" in page
    english = reports["en_report_md"].read_text(encoding="utf-8")
    assert "## Summary" in english and "均方根误差" not in english


def test_one_duration_in_report_and_card(run: RunPaths, reports: dict[str, Path]) -> None:
    expected = format_duration(duration_s(read_json(run.status_json)))
    md = reports["en_report_md"].read_text(encoding="utf-8")
    rows = re.findall(r"^\| duration \| (.+?) \|$", md, flags=re.MULTILINE)
    assert rows and set(rows) == {expected}
    assert f"- **Duration**: {expected}" in md
    assert "fit duration" not in md and "wall duration" not in md


def test_failure_suggestions_are_listed_once(run: RunPaths, tmp_path: Path) -> None:
    from oceansr.runs import atomic_write_json

    copy = tmp_path / run.run_id
    shutil.copytree(run.dir, copy, ignore=shutil.ignore_patterns("plots", "report.*"))
    status = read_json(copy / "status.json")
    summary = {"failureType": "cpu_oom", "message": "out of memory", "suggestions": ["x=1"]}
    status.update(status="failed", error_summary=summary, exit_code=1)
    atomic_write_json(copy / "status.json", status)
    md = Path(make_report(copy)["report_md"]).read_text(encoding="utf-8")
    assert md.count("x=1") == 1 and "Failure `cpu_oom`: x=1." in md
    assert "see the next steps under Analysis" in md


# --------------------------------------------------------------------------- browser


def _screenshot(html: str, path: Path, size: str = "1000,1400") -> np.ndarray:
    from PIL import Image

    page = path.with_suffix(".html")
    page.write_text(html, encoding="utf-8")
    png = path.with_suffix(".png")
    subprocess.run(
        [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--hide-scrollbars", f"--window-size={size}", f"--screenshot={png}",
         page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return np.asarray(Image.open(png).convert("L"), dtype=np.float32)


def _page(report: str, body: str) -> str:
    head = report.split("<main>", 1)[0]  # the report's own <head> and CSS
    return f"{head}<main>{body}</main></body></html>"


def _drawn(pixels: np.ndarray) -> bool:
    return bool(pixels.std() > 5.0) and bool((pixels < 200).mean() > 0.002)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_headless_chromium(
    reports: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    report = reports[f"{lang}_report_html"].read_text(encoding="utf-8")
    whole = _screenshot(report, tmp_path / "whole", "1000,2000")
    assert _drawn(whole), "the report page is blank"
    images = re.findall(r'<img [^>]*src="data:image/png;base64,[^"]+"[^>]*>', report)
    assert len(images) >= 4
    for n, img in enumerate(images[:4]):  # summary card, loss, metrics, LR
        pixels = _screenshot(_page(report, img), tmp_path / f"img{n}")
        assert _drawn(pixels), f"figure {n} drawn blank"
    tables = re.findall(r"<table>.*?</table>", report, flags=re.DOTALL)
    metric_table = next(t for t in tables if "bicubic" in t or "双三次插值" in t)
    pixels = _screenshot(_page(report, metric_table), tmp_path / "table")
    assert _drawn(pixels), "the metric table is drawn blank"
    assert base64.b64decode(re.search(r"base64,([^\"]+)", images[0]).group(1))[:4] == b"\x89PNG"


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
def test_chinese_text_is_drawn_not_as_tofu(reports: dict[str, Path], tmp_path: Path) -> None:
    report = reports["zh_report_html"].read_text(encoding="utf-8")
    text = "均方根误差双三次插值结构相似性"
    assert text[:5] in report
    tofu = "".join(chr(0xE000 + i) for i in range(len(text)))  # private use: no glyphs
    style = "font-size:48px;line-height:80px;margin:0;white-space:nowrap"
    rows = [_screenshot(_page(report, f'<p style="{style}">{t}</p>'), tmp_path / name)
            for name, t in (("zh", text), ("tofu", tofu))]  # fmt: skip
    chinese, boxes = (r[:120, :900] for r in rows)
    assert _drawn(chinese)
    assert float(np.abs(chinese - boxes).mean()) > 3.0, "Chinese drawn like missing glyphs"
    # Glyph variety: the 15 character cells differ from each other (boxes are all alike).
    dark = chinese < 128
    cols = np.flatnonzero(dark.any(axis=0))
    cells = np.array_split(dark[:, cols.min() : cols.max() + 1], len(text), axis=1)
    width = min(c.shape[1] for c in cells)
    profiles = {c[:, :width].tobytes() for c in cells}
    assert len(profiles) >= len(set(text)) - 2
