"""Face detection, alignment, embedding, tracking and best-face selection."""
