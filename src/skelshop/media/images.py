"""Reading reference images: JPEG and PNG only, recognised by decoding, problems named.

Pillow's own decompression-bomb guard is a process-wide warning/error whose handling is not
thread-safe; we apply our own pixel limit instead (`MAX_PIXELS`), in the same place for every
image, and say "too large (N MP)" rather than "corrupt".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORMATS = {"JPEG": "jpeg", "PNG": "png"}
MAX_PIXELS = 250_000_000  # a 108 MP phone photo is fine; a 250 MP+ file is not a portrait
# Faces of reference photos are large; decoding huge photos at a reduced scale keeps memory
# and detection time bounded without changing what is found.
MAX_DECODED_SIDE = 4096

# Our limit replaces Pillow's (see the module docstring).
Image.MAX_IMAGE_PIXELS = None


class UnreadableImage(Exception):
    """An image file that cannot be used, with the reason."""


@dataclass(frozen=True)
class ImageInfo:
    """What an image's header says."""

    kind: str  # "jpeg" | "png"
    width: int
    height: int

    @property
    def megapixels(self) -> float:
        """Pixel count in millions."""
        return self.width * self.height / 1e6


def image_kind(head: bytes) -> str | None:
    """'jpeg' or 'png' from a file's first bytes, None for anything else."""
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    return None


def _open(path: Path, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    with path.open("rb") as handle:
        head = handle.read(16)
    if image_kind(head) is None:
        raise UnreadableImage("not a JPEG or PNG image")
    try:
        img = Image.open(path, formats=list(FORMATS))
    except UnidentifiedImageError:  # its message names the file, which may be a temp file
        raise UnreadableImage("corrupt image (its header cannot be decoded)") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UnreadableImage(f"corrupt image (cannot read its header: {err})") from None
    info = ImageInfo(FORMATS[img.format or ""], img.width, img.height)
    if info.width * info.height > max_pixels:
        img.close()
        raise UnreadableImage(f"too large ({info.megapixels:.0f} MP; at most "
                              f"{max_pixels / 1e6:.0f} MP are read)")
    return img, info


def check_image_file(path: Path, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Decode enough of a JPEG or PNG to know it is whole; UnreadableImage says what is wrong."""
    img, info = _open(path, max_pixels)
    try:
        with img:
            if info.kind == "jpeg":
                # Decoding at 1/8 scale still reads every entropy-coded byte: truncation shows.
                img.draft("RGB", (max(1, info.width // 8), max(1, info.height // 8)))
                img.load()
            else:
                img.verify()  # every chunk's CRC, to the end of the file
    except (OSError, SyntaxError, ValueError) as err:
        raise UnreadableImage(f"corrupt image ({err})") from None
    return info


def load_rgb(path: Path, max_pixels: int = MAX_PIXELS,
             max_side: int = MAX_DECODED_SIDE) -> np.ndarray:
    """Decode a JPEG or PNG (EXIF rotation applied) as uint8 RGB (H, W, 3), at most `max_side`."""
    img, info = _open(path, max_pixels)
    try:
        with img:
            if info.kind == "jpeg" and max(info.width, info.height) > max_side:
                img.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
            img.load()  # decodes everything: truncated or damaged data fails here
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
    except (OSError, SyntaxError, ValueError) as err:
        raise UnreadableImage(f"corrupt image ({err})") from None
    if max(rgb.size) > max_side:
        # An integer box reduction: fast on huge images, and faces stay far above chip size.
        rgb = rgb.reduce(math.ceil(max(rgb.size) / max_side))
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
