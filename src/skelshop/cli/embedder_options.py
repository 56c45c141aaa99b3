"""`--embedder` and `--embedder-backend`, shared by the commands that make embedding files."""

from __future__ import annotations

from collections.abc import Callable

import click

from skelshop.faces.models import (
    DEFAULT_EMBEDDER,
    DEFAULT_EMBEDDER_BACKEND,
    EMBEDDER_BACKENDS,
    EMBEDDERS,
)


def embedder_options(command: Callable) -> Callable:
    """Add `--embedder NAME` and `--embedder-backend onnx|dlib` (parameters embedder, embedder_backend)."""
    command = click.option(
        "--embedder-backend", type=click.Choice(EMBEDDER_BACKENDS),
        default=DEFAULT_EMBEDDER_BACKEND, show_default=True,
        help="How the embedder's network runs: onnx (ONNX Runtime on dlib's weights, ~10x "
             "faster) or dlib (dlib itself). Same vectors (within 1e-5): files made by either "
             "compare; the file records which.")(command)
    return click.option(
        "--embedder", type=click.Choice(list(EMBEDDERS)), default=DEFAULT_EMBEDDER,
        show_default=True, help="Face embedding model (the embedding space recorded in the file).",
    )(command)
