"""Corpus-wide clustering of face embeddings: kNN graphs, RNN-DBSCAN, pooling, metrics.

Knows nothing of video: it works on embedding matrices and per-row group ids.
"""
