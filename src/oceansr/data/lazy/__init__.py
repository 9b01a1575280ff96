"""Data larger than memory: open many files or a Zarr store as one dask-chunked dataset,
plan a config from metadata alone, compute normalisation statistics in one streaming
pass, and read only the chunks under each patch (docs/architecture.md, data).
"""
