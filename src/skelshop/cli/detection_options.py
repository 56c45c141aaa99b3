"""`--min-face PX` and `--full-detect S`, shared by `face embed` and `corpus run`."""

from __future__ import annotations

from collections.abc import Callable

import click

from skelshop.cli.number_types import FiniteFloat
from skelshop.faces.settings import DEFAULT_FULL_DETECT, DEFAULT_MIN_FACE

MIN_FACE_HELP = (
    "Smallest face height (px in the video frame) that detection must keep finding. Frames "
    "are detected at 17/PX of their size (at least 480 px on the long side; 544 px for 720p, "
    "816 px for 1080p at the default) and faces aligned and embedded from the full frame: "
    "smaller faces are mostly missed, a smaller PX finds them at more detection time "
    "(0 = detect at a long side of 960 px, as before this option)."
)
FULL_DETECT_HELP = (
    "Seconds between whole-frame detections. The sampled frames between are detected only "
    "in a square twice each face's size around the faces found last (a fraction of the "
    "cost); the whole frame is detected again at once on a cut or a change of view. A face "
    "entering a shot mid-way is found within S seconds. 0 = the whole frame every sample "
    "(slower; recall of the faces placed in benchmarks/extract.py is the same)."
)


def detection_options(command: Callable) -> Callable:
    """Add `--min-face PX` (parameter min_face) and `--full-detect S` (full_detect)."""
    command = click.option("--full-detect", type=FiniteFloat(0), default=DEFAULT_FULL_DETECT,
                           show_default=True, metavar="S", help=FULL_DETECT_HELP)(command)
    return click.option("--min-face", type=click.IntRange(min=0), default=DEFAULT_MIN_FACE,
                        show_default=True, metavar="PX", help=MIN_FACE_HELP)(command)
