"""The report's analysis sentences and the errors-by-region plot in Chinese
(``lang=zh``), English unchanged by default.

The analysis is checked on a real run's report (no English analysis template text in
the Chinese Analysis section, the Chinese templates present) and on synthetic region
errors (the coast/open-ocean and latitude-band sentences); the plot through the texts
matplotlib draws: titles, axis labels and legend entries, with units.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oceansr.i18n import writing_in
from oceansr.i18n.report_zh import ANALYSIS
from oceansr.report import make_report
from oceansr.report.fonts import use_language_fonts


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def literal_parts(template: str, shortest: int = 14) -> list[str]:
    """The fixed words of a template (between placeholders, markdown stripped)."""
    parts = [lit for lit, _, _, _ in string.Formatter().parse(template)]
    return [p.replace("**", "").strip() for p in parts if len(p.strip()) >= shortest]


ENGLISH_PARTS = sorted({p for key in ANALYSIS for p in literal_parts(key)})


def analysis_section(md: str) -> str:
    """The bullets under the Analysis heading (up to the next heading)."""
    match = re.search(r"^## (Analysis|分析)\n(.*?)(?=^## )", md, flags=re.S | re.M)
    assert match, "no Analysis section"
    return match.group(2)


@pytest.fixture(scope="module")
def sections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("analysis_zh_runs")
    run = train(["experiment=smoke", f"runs_root={root}", "trainer.max_epochs=3"])
    out = {}
    for lang in ("en", "zh"):
        md = Path(make_report(run.run_dir, lang=lang)["report_md"]).read_text(encoding="utf-8")
        out[lang] = analysis_section(md)
    return out


def test_chinese_analysis_has_no_english_sentence(sections: dict[str, str]) -> None:
    zh = sections["zh"].replace("**", "")
    assert ENGLISH_PARTS and not [p for p in ENGLISH_PARTS if p in zh]
    bullets = [line for line in sections["zh"].splitlines() if line.startswith("- ")]
    assert len(bullets) >= 4 and all(has_cjk(line) for line in bullets), bullets
    for chinese in ("验证集均方根误差 RMSE", "基线对比", "过拟合"):
        assert chinese in zh, chinese


def test_english_analysis_is_unchanged(sections: dict[str, str]) -> None:
    en = sections["en"]
    assert not has_cjk(en)
    assert "Validation RMSE is **" in en and "over the last 3 epochs (1–3)" in en
    assert re.search(r"On the test set the model's RMSE is [0-9.]+ °C against", en)


def _fields(lang_units: str = "degC") -> Any:
    """Synthetic test fields with land on the left edge and larger coastal errors."""
    from oceansr.report.sr_fields import TestFields

    rng = np.random.default_rng(0)
    hr = rng.normal(15.0, 2.0, (2, 1, 32, 32)).astype(np.float32)
    hr[..., :, :3] = np.nan
    noise = rng.normal(0.0, 0.1, hr.shape).astype(np.float32)
    noise[..., :, 3:8] *= 5  # near the coast
    sr = np.nan_to_num(hr) + noise
    return TestFields(
        hr=hr,
        lr=hr[..., ::4, ::4],
        bicubic=np.nan_to_num(hr) + 2 * noise,
        sr=sr,
        labels=["month=1", "month=7"],
        indices=[0, 1],
        total=2,
        lat=np.linspace(-40, 40, 32),
        lon=np.linspace(100, 180, 32),
        variables=["temp"],
        units=[lang_units],
        scale=4,
        checkpoint=Path("best.ckpt"),
        model_name="srcnn",
    )


def test_region_sentences_in_chinese() -> None:
    from oceansr.report.analysis import _where_errors
    from oceansr.report.regions import region_errors

    regions = region_errors(_fields())
    english = " ".join(_where_errors(regions, None))
    assert "errors **concentrate near the coast**" in english and "The worst latitude" in english
    with writing_in("zh"):
        chinese = _where_errors(regions, None)
    assert chinese and all(has_cjk(s) for s in chinese)
    joined = " ".join(chinese).replace("**", "")
    assert "误差集中在近岸" in joined and "纬度带" in joined and "双三次插值" in joined
    assert not [p for p in ENGLISH_PARTS if p in joined]


def _drawn_texts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str) -> dict[str, Any]:
    """Titles, axis labels and legend entries of the errors-by-region figure."""
    import matplotlib

    import oceansr.report.regions as regions

    captured: dict[str, Any] = {}
    real = regions.save_figure

    def keep(fig: Any, path: Path, **info: Any) -> Any:
        axes = [ax for ax in fig.axes if ax.get_title()]
        captured["suptitle"] = fig._suptitle.get_text()
        captured["titles"] = [ax.get_title() for ax in axes]
        captured["xlabels"] = [ax.get_xlabel() for ax in axes]
        captured["ylabels"] = [ax.get_ylabel() for ax in axes]
        captured["legends"] = [
            t.get_text() for ax in axes if ax.get_legend() for t in ax.get_legend().get_texts()
        ]
        return real(fig, path, **info)

    monkeypatch.setattr(regions, "save_figure", keep)
    with matplotlib.rc_context(), writing_in(lang):
        if use_language_fonts(lang) is None and lang == "zh":
            pytest.skip("no CJK font installed (scripts/ set-up installs one)")
        regions.plot_errors_by_region(_fields(), tmp_path / f"regions_{lang}.png")
    return captured


def test_errors_by_region_plot_texts_are_localised_with_units(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    en = _drawn_texts(monkeypatch, tmp_path, "en")
    assert en["xlabels"] == ["geodesic distance to land [km]", "RMSE [°C]"]
    assert en["ylabels"] == ["RMSE [°C]", "latitude"]
    assert "model [°C]" in en["legends"] and "bicubic [°C]" in en["legends"]
    assert en["suptitle"].startswith("Where the errors are")
    zh = _drawn_texts(monkeypatch, tmp_path, "zh")
    texts = [zh["suptitle"], *zh["titles"], *zh["xlabels"], *zh["ylabels"], *zh["legends"]]
    assert all(has_cjk(t) for t in texts), [t for t in texts if not has_cjk(t)]
    assert zh["xlabels"][0] == "到陆地的大圆距离 [km]" and zh["ylabels"][1] == "纬度"
    assert "模型 [°C]" in zh["legends"] and "双三次插值 [°C]" in zh["legends"]
    assert all("°C" in t for t in zh["titles"]) and "纬度带" in zh["titles"][1]
