"""Shot index of every face, after checking that the scenes file fits the face dump's video."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import FaceDump
from skelshop.formats.scenes import ShotList

# The original's dumps record OpenCV's container frame count (imutils' count_frames), which can
# differ from the frames a decoder delivers, and so from a scenes file's last frame, by a few.
FRAME_COUNT_SLACK = 0.02  # of the frame count, and at least MIN_FRAME_COUNT_SLACK frames
MIN_FRAME_COUNT_SLACK = 3


def frame_count_slack(num_frames: int) -> int:
    """Frames two counts of one video may differ by and still be the same video."""
    return max(MIN_FRAME_COUNT_SLACK, math.ceil(FRAME_COUNT_SLACK * num_frames))


def shots_of_faces(
    dump: FaceDump, shots: ShotList, scenes_path: str | Path, faces_path: str | Path
) -> np.ndarray:
    """int64 shot index per face; a scenes file made for another video is refused."""
    num_frames = int(dump.num_frames)
    slack = frame_count_slack(max(num_frames, shots.end or 0))
    if num_frames > 0:
        if shots.end is not None and abs(shots.end - num_frames) > slack:
            raise SkelshopError(
                scenes_path, f"scenes end at frame {shots.end} but the video of {faces_path} "
                f"has {num_frames} frames: is this the scenes file of that video?",
            )
        if shots.starts[-1] >= num_frames + slack:
            raise SkelshopError(
                scenes_path, f"a shot starts at frame {int(shots.starts[-1])}, after the end of "
                f"the video of {faces_path} ({num_frames} frames)",
            )
    # Faces may lie in the few frames where two counts disagree (they join the last shot);
    # with one count only, that count may be the short one.
    known = [n for n in (shots.end, num_frames or None) if n is not None]
    limit = max(known) + (slack if len(known) == 1 else 0) if known else None
    if limit is not None and len(dump.frame) and int(dump.frame.max()) >= limit:
        raise SkelshopError(
            faces_path, f"has faces at frame {int(dump.frame.max())}, past the last frame "
            f"({limit - 1}) of {scenes_path}",
        )
    seg = shots.shot_of(dump.frame.astype(np.int64)).astype(np.int64)
    if dump.seg is not None and len(dump.seg) == len(seg) and np.any(dump.seg != seg):
        bad = int(np.flatnonzero(dump.seg != seg)[0])
        raise SkelshopError(
            faces_path, f"was made with other shots than {scenes_path} (frame "
            f"{int(dump.frame[bad])} is in shot {int(dump.seg[bad])} there, {int(seg[bad])} here)",
        )
    return seg
