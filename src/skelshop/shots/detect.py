"""Content-based cut detection with PySceneDetect."""

from __future__ import annotations

import logging
from pathlib import Path

from scenedetect import ContentDetector, SceneManager, open_video

from skelshop.errors import SkelshopError
from skelshop.formats.scenes import ShotList
from skelshop.media.video import probe_video

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 27.0
DEFAULT_MIN_SHOT_FRAMES = 15


def detect_shots(video: str | Path, threshold: float = DEFAULT_THRESHOLD,
                 min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES,
                 progress: bool = False) -> tuple[ShotList, float]:
    """Find cuts in a video; returns the shots (a video with no cut is one shot) and its fps."""
    info = probe_video(video)  # one clear error for missing / non-video files
    stream = open_video(str(video), backend="pyav")
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=min_shot_frames))
    try:
        manager.detect_scenes(stream, show_progress=progress)
    except Exception as err:  # PySceneDetect wraps decoder failures in several types
        raise SkelshopError(video, f"shot detection failed while decoding ({err})") from None
    end = int(stream.frame_number)
    if end == 0:
        raise SkelshopError(video, "contains no decodable video frames")
    scenes = manager.get_scene_list(start_in_scene=True)
    cuts = [int(start.frame_num) for start, _ in scenes]
    log.info("%s: %d shots in %d frames", video, max(len(cuts), 1), end)
    return ShotList.from_cuts(cuts, end), info.fps
