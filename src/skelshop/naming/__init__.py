"""Naming clusters: prototype images, the labelling page, automatic naming, applying names."""
