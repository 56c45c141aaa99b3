"""The one error type the CLI turns into a one-line message and a non-zero exit."""

from pathlib import Path


class SkelshopError(Exception):
    """A user-facing problem with an input: reported as one line naming the file."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
