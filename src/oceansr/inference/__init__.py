"""Applying a plain ``nn.Module`` to fields larger than one window: the one tiling path
(raised-cosine blending) shared by evaluation, predict and the report's maps
(docs/architecture.md, Layers).
"""
