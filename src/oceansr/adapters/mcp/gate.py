"""The argument gate of the MCP server: unknown or wrongly typed arguments become a
classified ``config_error`` naming the argument, not raw pydantic text.

:class:`OceanSRServer` checks a call against the parameters the tool declares before
the SDK validates it, and turns the SDK's validation failure into the control plane's
error reply (docs/architecture.md, failure taxonomy). Like every error reply it sets
``isError`` (:func:`oceansr.adapters.mcp.shape.to_result`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from oceansr.adapters.mcp.params_zh import describe
from oceansr.control.replies import error_reply
from oceansr.i18n import text

from .shape import compact_reply, to_result


def declared_arguments(fn: Callable[..., Any]) -> set[str]:
    """The argument names an agent may pass to the tool ``fn`` (not the context)."""
    return {
        name
        for name, param in inspect.signature(fn).parameters.items()
        if name != "ctx" and param.kind is not inspect.Parameter.VAR_KEYWORD
    }


def localize_schema(schema: dict[str, Any], lang: str) -> dict[str, Any]:
    """``schema`` with every property description in ``lang`` (a copy; the tool's own
    schema, shared by all calls, stays English)."""
    if lang == "en":
        return schema
    properties = {
        name: {**prop, "description": describe(prop["description"], lang)}
        if isinstance(prop.get("description"), str)
        else prop
        for name, prop in (schema.get("properties") or {}).items()
    }
    return {**schema, "properties": properties}


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(argument, problem)`` pairs of a pydantic error, without the rejected values."""
    out = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err.get("loc", ())) or "arguments"
        out.append((name, str(err.get("msg", "invalid value"))))
    return out


class OceanSRServer(MCPServer):
    """An :class:`MCPServer` whose argument errors are ``config_error`` replies."""

    def __init__(
        self, *args: Any, lang: str = "en", runs_root: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang
        #: where tracebacks of refused calls go (``<runs root>/.errors``)
        self.runs_root = runs_root
        self.known_arguments: dict[str, set[str]] = {}

    def register(self, name: str, fn: Callable[..., Any]) -> None:
        """Remember the arguments of tool ``name`` (called when it is added)."""
        self.known_arguments[name] = declared_arguments(fn)

    def _config_error(
        self, tool: str, message: str, names: list[str], fix_key: str = "arg.fix"
    ) -> CallToolResult:
        fix = [text(fix_key, self.lang, tool=tool, name=name) for name in names]
        reply = error_reply("config_error", message, suggestions=fix, arguments=names)
        return to_result(compact_reply(reply, self.lang))

    async def list_tools(self) -> list[MCPTool]:
        """The tools, with parameter descriptions in the server's language."""
        tools = await super().list_tools()
        return [
            tool.model_copy(update={"input_schema": localize_schema(tool.input_schema, self.lang)})
            for tool in tools
        ]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        known = self.known_arguments.get(name)
        unknown = sorted(set(arguments) - known) if known is not None else []
        if unknown:
            message = text(
                "arg.unknown", self.lang, names=unknown, tool=name, known=sorted(known or ())
            )
            return self._config_error(name, message, unknown, "arg.remove")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            problems = _problems(exc.__cause__)
            message = "; ".join(
                text("arg.invalid", self.lang, name=arg, problem=why) for arg, why in problems
            )
            return self._config_error(name, message, [arg for arg, _ in problems])
