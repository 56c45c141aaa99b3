"""Direct identification: distances to references, per-shot scoring and one-to-one assignment."""
