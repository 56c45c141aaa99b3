"""Shot index of every face, after checking that the scenes file fits the face dump's video."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import FaceDump
from skelshop.formats.scenes import ShotList


def shots_of_faces(
    dump: FaceDump, shots: ShotList, scenes_path: str | Path, faces_path: str | Path
) -> np.ndarray:
    """int64 shot index per face; a scenes file made for another video is refused."""
    num_frames = int(dump.num_frames)
    if num_frames > 0:
        if shots.end is not None and shots.end != num_frames:
            raise SkelshopError(
                scenes_path, f"scenes end at frame {shots.end} but the video of {faces_path} "
                f"has {num_frames} frames: is this the scenes file of that video?",
            )
        if shots.starts[-1] >= num_frames:
            raise SkelshopError(
                scenes_path, f"a shot starts at frame {int(shots.starts[-1])}, after the end of "
                f"the video of {faces_path} ({num_frames} frames)",
            )
    limit = shots.end if shots.end is not None else (num_frames or None)
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
