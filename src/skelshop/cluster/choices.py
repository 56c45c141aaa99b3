"""Names of the clustering choices, importable without numpy (the CLI's option lists).

The registries they name (cluster.algorithms.ALGORITHMS, cluster.knn.BACKENDS,
cluster.prototypes.PROTOTYPE_METHODS, corpus_clustering.nodes.POOLS) must list the same
names; tests/test_iden_clus.py checks it.
"""

from __future__ import annotations

ALGORITHM_NAMES = ("rnn-dbscan", "dbscan", "dbscan-exact", "optics-dbscan", "hdbscan")
# Algorithms that run on the kNN graph (the others compare all pairs).
GRAPH_ALGORITHMS = ("rnn-dbscan", "dbscan")
# Parameters each algorithm uses (the others are ignored and not recorded).
ALGORITHM_PARAMS = {
    "rnn-dbscan": ("k", "max_dist"),
    "dbscan": ("eps", "min_samples"),
    "dbscan-exact": ("eps", "min_samples"),
    "optics-dbscan": ("eps", "min_samples"),
    "hdbscan": ("min_samples",),
}
KNN_BACKEND_NAMES = ("exact", "pynndescent", "faiss", "hnswlib")
PROTOTYPE_METHOD_NAMES = ("rnn", "medoid")
POOL_NAMES = ("vote", "min", "med")
