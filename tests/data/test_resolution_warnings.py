"""predict's resolution check: the input's grid step against the training LR step, with
the steps said right, in English and (through the MCP's language) in Chinese."""

from __future__ import annotations

import numpy as np
import pytest

from oceansr.data.fields import STEP_TOLERANCE, resolution_warnings
from oceansr.i18n import localize_warning

# The WOA-sample model: HR step 2 deg, scale 4, so trained on 8 deg LR.
HR_STEP, SCALE = 2.0, 4


def _lat(step: float, n: int = 20) -> np.ndarray:
    return -40.0 + step * np.arange(n)


def test_the_training_lr_step_passes_within_the_tolerance() -> None:
    assert resolution_warnings(_lat(8.0), SCALE, HR_STEP) == []
    assert resolution_warnings(_lat(8.0 * (1 + STEP_TOLERANCE * 0.9)), SCALE, HR_STEP) == []
    assert resolution_warnings(_lat(8.0 * (1 + STEP_TOLERANCE * 1.1)), SCALE, HR_STEP) != []


def test_a_4_deg_input_is_said_with_its_steps() -> None:
    (warning,) = resolution_warnings(_lat(4.0), SCALE, HR_STEP)
    assert warning.startswith(
        "the input's grid step (4 deg) is not the training LR step (8 deg): the output's "
        "step will be 1 deg, x2 finer than the training HR grid (2 deg)"
    ), warning
    zh = localize_warning(warning, "zh")
    assert zh.startswith(
        "输入的网格步长（4 度）不是训练时的低分辨率步长（8 度）：输出的步长将为 1 度，"
        "比训练时的高分辨率网格（2 度）细 2 倍"
    ), zh
    assert localize_warning(warning, "en") == warning


def test_a_coarser_input_says_coarser() -> None:
    (warning,) = resolution_warnings(_lat(16.0), SCALE, HR_STEP)
    assert "(16 deg) is not the training LR step (8 deg)" in warning
    assert "step will be 4 deg, x2 coarser than the training HR grid (2 deg)" in warning
    assert "粗 2 倍" in localize_warning(warning, "zh")


def test_an_hr_file_as_input_is_the_special_case() -> None:
    (warning,) = resolution_warnings(_lat(2.0), SCALE, HR_STEP)
    assert warning.startswith(
        "the input's grid step (2 deg) is the training HR step, not the training LR step "
        "(8 deg): this looks like an HR file given as LR input; the output's step will be "
        "0.5 deg, x4 finer than the training HR grid (2 deg)"
    ), warning
    assert "把高分辨率文件当作低分辨率输入" in localize_warning(warning, "zh")


@pytest.mark.parametrize("hr_step", [None, 0.0])
def test_checkpoints_without_the_hr_step_and_grids_without_latitude_skip(hr_step) -> None:
    assert resolution_warnings(_lat(4.0), SCALE, hr_step) == []
    assert resolution_warnings(None, SCALE, HR_STEP) == []


def test_other_warnings_stay_as_they_are_in_chinese() -> None:
    assert localize_warning("something else", "zh") == "something else"


def test_the_operator_warning_is_said_in_chinese() -> None:
    from oceansr.predict.degradation import operator_warnings

    facts = {
        "operator": "nanmean",
        "checked": True,
        "matches": ["strict_mean"],
        "mismatches": {"nanmean": 12, "strict_mean": 0},
    }
    (warning,) = operator_warnings(facts)
    assert "12 LR cells differ" in warning
    zh = localize_warning(warning, "zh")
    assert zh.startswith("输入的陆地分布与 strict_mean 算子更吻合") and "12 个" in zh, zh
    assert operator_warnings({**facts, "matches": ["nanmean", "area_mean"]}) == []
