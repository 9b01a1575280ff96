"""What a real stdio MCP client sees in ``tools/list``: parameter descriptions in the
server's language (every parameter of every tool, Chinese under ``--lang zh``), and
ocean_sr_train_status's truthful tool-level annotations with a per-action hint map in
its ``_meta`` (MCP annotations are per tool; kill is the only destructive action).
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import subprocess_env
from oceansr.adapters.mcp.params_zh import DESCRIPTIONS, RELATIVE_EN

pytestmark = pytest.mark.slow

PROTOCOL_TOOLS = ("ocean_sr_train_start", "ocean_sr_train_status")


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def list_tools(lang: str | None, tmp: str) -> dict[str, Any]:
    args = ["-m", "oceansr", "mcp", "--runs-root", tmp]
    params = StdioServerParameters(
        command=sys.executable,
        args=args + (["--lang", lang] if lang else []),
        env=subprocess_env(OCEANSR_LANG=""),
    )
    async with Client(params) as client:
        return {t.name: t for t in (await client.list_tools()).tools}


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = str(tmp_path_factory.mktemp("schema-lang"))
    return {
        "default": anyio.run(list_tools, None, root),
        "zh": anyio.run(list_tools, "zh", root),
    }


def _descriptions(tool: Any) -> dict[str, str]:
    props = tool.input_schema.get("properties", {})
    return {name: prop.get("description", "") for name, prop in props.items()}


def test_every_parameter_is_described_in_chinese_under_lang_zh(
    listed: dict[str, dict[str, Any]],
) -> None:
    english = set(DESCRIPTIONS) | {d[: -len(RELATIVE_EN)] for d in DESCRIPTIONS}
    for name in PROTOCOL_TOOLS:
        assert len(_descriptions(listed["zh"][name])) >= 9, name
    for tool in listed["zh"].values():
        for param, described in _descriptions(tool).items():
            assert has_cjk(described), f"{tool.name}.{param}: {described!r}"
            assert described not in english, f"{tool.name}.{param} is still English"


def test_default_language_keeps_english_descriptions(listed: dict[str, dict[str, Any]]) -> None:
    for tool in listed["default"].values():
        for param, described in _descriptions(tool).items():
            assert described and not has_cjk(described), f"{tool.name}.{param}: {described!r}"
    start = _descriptions(listed["default"]["ocean_sr_train_start"])
    assert start["epochs"] == "number of training epochs"
    assert start["data_path"].endswith(RELATIVE_EN)
    assert _descriptions(listed["zh"]["ocean_sr_train_start"])["epochs"] == "训练轮次数"


@pytest.mark.parametrize("which", ["default", "zh"])
def test_status_tool_has_truthful_annotations_and_per_action_hints(
    listed: dict[str, dict[str, Any]], which: str
) -> None:
    status = listed[which]["ocean_sr_train_status"]
    assert status.annotations.destructive_hint is True
    assert status.annotations.read_only_hint is False
    actions = (status.meta or {})["oceansr/actions"]
    enum = status.input_schema["properties"]["action"]["enum"]
    assert set(actions) == set(enum)
    for action in ("status", "logs", "list", "wait"):
        assert actions[action]["readOnlyHint"] is True, action
        assert actions[action]["destructiveHint"] is False, action
    assert actions["kill"]["destructiveHint"] is True and actions["kill"]["readOnlyHint"] is False
    assert actions["resume"]["readOnlyHint"] is False
    assert "oceansr/actions" in status.description
