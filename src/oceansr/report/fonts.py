"""A CJK font for plots with Chinese titles and labels (``lang=zh``).

matplotlib's default DejaVu Sans has no CJK glyphs: Chinese text would be drawn as
empty boxes ("tofu"). The project's set-up installs WenQuanYi Micro Hei (Debian
``fonts-wqy-microhei``; licence Apache-2.0 or GPLv3 with the font exception) in CI
(``.ci/run``) and ``make fonts``; Noto Sans CJK (SIL OFL 1.1, ``fonts-noto-cjk``) is used
when present instead. The font is registered with matplotlib by file, so a font
installed after matplotlib built its font cache is still found.
"""

from __future__ import annotations

import functools
from pathlib import Path

from matplotlib import font_manager, rcParams

#: Font files, by preference, and the directories searched for them.
CJK_FONT_FILES: tuple[str, ...] = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")
INSTALL_HINT = "apt-get install fonts-wqy-microhei (or fonts-noto-cjk), or: make fonts"


def find_cjk_font_file() -> Path | None:
    """The first CJK font file found on this machine, or ``None``."""
    for name in CJK_FONT_FILES:
        for folder in FONT_DIRS:
            root = Path(folder).expanduser()
            if root.is_dir():
                match = next(iter(sorted(root.rglob(name))), None)
                if match is not None:
                    return match
    return None


@functools.cache
def cjk_font_family() -> str | None:
    """Register the CJK font with matplotlib; its family name, or ``None`` if absent."""
    path = find_cjk_font_file()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_language_fonts(lang: str) -> str | None:
    """Put the CJK font first in matplotlib's sans-serif list for ``lang='zh'`` (Latin
    text keeps DejaVu's glyphs through the fallback list). Returns the family used."""
    if lang != "zh":
        return None
    family = cjk_font_family()
    if family is None:
        return None
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False  # CJK fonts may lack U+2212
    return family
