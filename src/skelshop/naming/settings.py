"""Light defaults of the cluster-naming commands (no numpy), for the command line's options."""

# Neighbours looked up for each reference image by idrnnclus.
DEFAULT_KNN = 32
