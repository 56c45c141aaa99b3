"""A corpus run reuses a dump only when the shots were found by today's cut detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelshop.corpus.artifacts import VideoArtifacts, faces_finished, source_stamp
from skelshop.corpus.video_task import cut_detector_name, dump_settings
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, read_dump_attrs, write_face_dump
from skelshop.shots.detect import default_cut_detector

DLIB = EmbedderInfo("dlib_face_recognition_resnet_model_v1", "euclidean", 0.6)


def _dump(art: VideoArtifacts, attrs: dict) -> None:
    write_face_dump(art.faces, FaceDump(
        mode="sparse", video=str(art.video), num_frames=10, fps=25.0, embedder=DLIB,
        frame=np.array([1], np.uint32), pers=np.array([0], np.uint32),
        embed=np.zeros((1, 128), np.float32), seg=np.zeros(1, np.int32),
        extra_attrs={**source_stamp(art.video), **attrs}))


def test_a_dump_made_with_another_cut_detector_is_made_again(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"stands for a video: only its size and time are read")
    art = VideoArtifacts(video, tmp_path / "v-Scenes.csv", tmp_path / "v.faces.h5",
                         tmp_path / "v.segsout.csv")
    art.scenes.write_text("Timecode List:\nScene Number,Start Frame,End Frame\n1,1,500\n")
    settings = dump_settings(6.0, 3, 40)
    # The detector's name is the class default_cut_detector makes (and its version).
    assert settings["cut_detector"] == cut_detector_name()
    assert cut_detector_name().startswith(type(default_cut_detector(25.0, 640)).__name__ + "/")

    _dump(art, settings)
    assert read_dump_attrs(art.faces)["cut_detector"] == cut_detector_name()
    assert faces_finished(art, "sparse", settings)
    # A dump of a run that did not record its detector (main's ContentDetector) ...
    _dump(art, {k: v for k, v in settings.items() if k != "cut_detector"})
    assert not faces_finished(art, "sparse", settings)
    # ... or recorded another one is not reused.
    _dump(art, {**settings, "cut_detector": "ContentDetector/1"})
    assert not faces_finished(art, "sparse", settings)
