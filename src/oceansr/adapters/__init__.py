"""Thin adapters over the Python API: the ``oceansr`` command line and the MCP server.

They translate arguments and print or return the control plane's replies; anything an
adapter can do, :mod:`oceansr.control` and :mod:`oceansr.report` can do
(docs/architecture.md, Layers).
"""
