"""Checked reading of HDF5 attributes and datasets for the format modules (face dumps, references).

Files come from users, from the original SkelShop and from damaged disks: every value is
checked for what it must be, and every failure becomes a SkelshopError naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError

# What h5py raises on a damaged file (bad signatures, truncated chunks, broken links):
# OSError and RuntimeError from HDF5 itself, KeyError for links it cannot follow, ValueError
# and TypeError for data it cannot convert.
HDF5_READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError)


def _scalar(value: object) -> object:
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError("not a single value")
        value = value.reshape(-1)[0]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def attr_text(attrs: h5py.AttributeManager, name: str, default: str) -> str:
    """A string attribute (bytes decoded), or `default` when absent."""
    if name not in attrs:
        return default
    try:
        return str(_scalar(attrs[name]))
    except ValueError:
        return str(attrs[name])


def attr_number(path: str | Path, attrs: h5py.AttributeManager, name: str,
                default: float) -> float:
    """A finite numeric attribute, or `default` when absent; anything else is refused."""
    if name not in attrs:
        return default
    raw = attrs[name]
    try:
        value = _scalar(raw)
        if isinstance(value, str):
            raise ValueError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SkelshopError(path, f"attribute {name}={_shown(raw)} is not a number") from None
    if not math.isfinite(number):
        raise SkelshopError(path, f"attribute {name}={number} is not a finite number")
    return number


def attr_count(path: str | Path, attrs: h5py.AttributeManager, name: str, default: int) -> int:
    """A non-negative whole-number attribute (e.g. a frame count), or `default` when absent."""
    number = attr_number(path, attrs, name, default)
    if number < 0 or number != int(number) or number >= 2**63:
        raise SkelshopError(path, f"attribute {name}={_shown(attrs[name])} is not a count")
    return int(number)


def attr_threshold(path: str | Path, attrs: h5py.AttributeManager, name: str,
                   default: float) -> float:
    """A same-person distance threshold: a positive number (NaN default = not recorded)."""
    if name not in attrs:
        return default
    number = attr_number(path, attrs, name, default)
    if number <= 0:
        raise SkelshopError(path, f"attribute {name}={number} is not a usable distance "
                                  "threshold (it must be above 0)")
    return number


def _shown(value: object) -> str:
    text = repr(_scalar(value)) if not isinstance(value, np.ndarray) or value.size == 1 \
        else f"array of shape {value.shape}"
    return text if len(text) <= 40 else text[:37] + "..."


def numeric_array(path: str | Path, node: h5py.Dataset, what: str,
                  integer: bool = False) -> np.ndarray:
    """A dataset's values, refused unless they are numbers (whole numbers if `integer`)."""
    kinds = "iu" if integer else "iuf"
    if node.dtype.kind not in kinds:
        kind = "whole numbers" if integer else "numbers"
        raise SkelshopError(path, f"{what} are not {kind} (stored as {node.dtype})")
    return node[()]


def finite_rows(path: str | Path, values: np.ndarray, what: str) -> None:
    """Refuse embeddings holding NaN or infinity: every distance to them would be meaningless."""
    bad = ~np.isfinite(values).all(axis=tuple(range(1, values.ndim))) if values.size else []
    count = int(np.count_nonzero(bad))
    if count:
        first = int(np.flatnonzero(bad)[0])
        raise SkelshopError(path, f"{what}: {count} of {len(values)} are not finite numbers "
                                  f"(NaN or infinity), the first at row {first}")
