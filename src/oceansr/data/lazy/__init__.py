"""Data larger than memory: plan a config from metadata alone (the files or store opened
as one dask-chunked dataset by :mod:`oceansr.data.stores`), compute normalisation
statistics in one streaming pass, and read only the chunks under each patch
(docs/architecture.md, data).
"""
