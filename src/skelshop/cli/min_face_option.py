"""`--min-face PX`, shared by `face embed` and `corpus run`."""

from __future__ import annotations

from collections.abc import Callable

import click

from skelshop.faces.settings import DEFAULT_MIN_FACE

MIN_FACE_HELP = (
    "Smallest face height (px in the video frame) that detection must keep finding. Frames "
    "are detected at 17/PX of their size (at least 480 px on the long side; 544 px for 720p, "
    "816 px for 1080p at the default) and faces aligned and embedded from the full frame: "
    "smaller faces are mostly missed, a smaller PX finds them at more detection time "
    "(0 = detect at a long side of 960 px, as before this option)."
)


def min_face_option(command: Callable) -> Callable:
    """Add `--min-face PX` (parameter min_face)."""
    return click.option("--min-face", type=click.IntRange(min=0), default=DEFAULT_MIN_FACE,
                        show_default=True, metavar="PX", help=MIN_FACE_HELP)(command)
