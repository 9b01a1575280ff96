"""MCP server for LLM agents (``oceansr mcp``); see :mod:`oceansr.adapters.mcp.server`."""
