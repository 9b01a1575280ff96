"""Names and errors every layer shares: classified user errors and metric names.

The lowest layer: it imports nothing else from oceansr and nothing heavy, so any layer
(the torch-free control plane included) may use it (docs/architecture.md, Layers).
"""
