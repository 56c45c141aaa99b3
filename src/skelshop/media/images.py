"""Reading reference images: JPEG and PNG only, recognised by content, corrupt files reported."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class UnreadableImage(Exception):
    """An image file that cannot be used, with the reason."""


def image_kind(head: bytes) -> str | None:
    """'jpeg' or 'png' from a file's first bytes, None for anything else."""
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    return None


def is_jpeg_or_png(head: bytes) -> bool:
    """Whether a file's first bytes are those of a JPEG or PNG."""
    return image_kind(head) is not None


def load_rgb(path: Path) -> np.ndarray:
    """Decode a JPEG or PNG fully (EXIF rotation applied) as uint8 RGB (H, W, 3)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if image_kind(head) is None:
        raise UnreadableImage("not a JPEG or PNG image")
    try:
        with warnings.catch_warnings():
            # PIL only warns about oversized images below its hard limit; treat it as an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()  # decodes everything: truncated or damaged data fails here
                upright = ImageOps.exif_transpose(img)
                rgb = upright.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as err:
        raise UnreadableImage(f"corrupt image ({err})") from None
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
