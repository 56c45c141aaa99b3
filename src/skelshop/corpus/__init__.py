"""Whole-corpus runs: per-video tasks on local processes or a Dask cluster, resumable."""
