"""Chinese plot text is drawn with real glyphs, not empty "tofu" boxes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from oceansr.report.fonts import INSTALL_HINT, cjk_font_family, use_language_fonts


def render(label: str, family: str) -> np.ndarray:
    """``label`` drawn alone on a small white canvas, as a grey-level array."""
    fig = plt.figure(figsize=(1.2, 0.6), dpi=100)
    fig.text(0.05, 0.25, label, family=family, fontsize=24)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].mean(axis=2)
    plt.close(fig)
    return image


@pytest.fixture(scope="module")
def family() -> str:
    found = cjk_font_family()
    if found is None:
        pytest.skip(f"no CJK font installed here ({INSTALL_HINT})")
    return found


def test_cjk_glyphs_are_drawn_not_tofu(family: str) -> None:
    sea, temp = render("海", family), render("温", family)
    assert (sea < 128).sum() > 30 and (temp < 128).sum() > 30, "glyphs are drawn"
    # Tofu boxes are the same box for every missing character; real glyphs differ.
    assert np.abs(sea - temp).mean() > 5
    with pytest.warns(UserWarning, match="missing from font"):
        tofu_sea, tofu_temp = render("海", "DejaVu Sans"), render("温", "DejaVu Sans")
    assert np.abs(tofu_sea - tofu_temp).mean() < 1, "DejaVu draws the same box for both"
    assert np.abs(sea - tofu_sea).mean() > 5


def test_chinese_language_puts_the_cjk_font_first(family: str) -> None:
    with matplotlib.rc_context():
        assert use_language_fonts("zh") == family
        assert matplotlib.rcParams["font.sans-serif"][0] == family
    assert use_language_fonts("en") is None
