"""Clustering a whole corpus: loading its faces, pooling, clustering, writing results."""
