"""Check a command's outputs before any work: never over an input, always somewhere writable."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from skelshop.errors import SkelshopError

PathLike = str | os.PathLike


def _real(path: PathLike) -> Path:
    # resolve() follows every link that exists, so a link to an input is caught as the input.
    return Path(os.path.abspath(path)).resolve()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links too
    except OSError:
        return False


def _check_against_inputs(out: PathLike, real: Path, inputs: list[tuple[PathLike, Path]]) -> None:
    for given, inp in inputs:
        if real == inp or _same_file(real, inp):
            raise SkelshopError(out, f"is the input {given}; refusing to overwrite it")
        if inp.is_dir() and real.is_relative_to(inp):
            raise SkelshopError(out, f"lies inside the input folder {given}; write it elsewhere")


def _check_writable(out: PathLike, real: Path) -> None:
    """The nearest existing ancestor must be a folder we may create things in."""
    ancestor = real.parent
    while not ancestor.exists():
        if ancestor.is_symlink():  # a dangling link: mkdir would fail on it
            raise SkelshopError(out, f"cannot be created: {ancestor} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SkelshopError(out, f"cannot be created: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise SkelshopError(out, f"cannot write in folder {ancestor} (permission denied)")


def check_outputs(inputs: Iterable[PathLike | None] = (), files: Iterable[PathLike | None] = (),
                  folders: Iterable[PathLike | None] = ()) -> None:
    """Refuse outputs that are (or resolve to) an input, lie in an input folder, or cannot be written.

    `files` are output files, `folders` output folders (which may already exist); `None`
    entries are ignored so optional outputs can be passed as they are.
    """
    resolved_inputs = [(p, _real(p)) for p in inputs if p is not None and str(p) != ""]
    seen: dict[Path, PathLike] = {}
    for out, is_folder in [*((f, False) for f in files), *((d, True) for d in folders)]:
        if out is None or str(out) == "":
            continue
        real = _real(out)
        _check_against_inputs(out, real, resolved_inputs)
        if real in seen:
            raise SkelshopError(out, f"is given twice as an output (also as {seen[real]})")
        seen[real] = out
        if is_folder:
            if real.exists() and not real.is_dir():
                raise SkelshopError(out, "exists and is not a folder")
            if real.is_dir():
                if not os.access(real, os.W_OK | os.X_OK):
                    raise SkelshopError(out, "cannot write in this folder (permission denied)")
                continue
        elif real.is_dir():
            raise SkelshopError(out, "is a folder; give a file name")
        _check_writable(out, real)
