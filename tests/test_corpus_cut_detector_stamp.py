"""A corpus run reuses a dump only when the shots were found by today's cut detector."""

from __future__ import annotations

from pathlib import Path

from naming_fixtures import stand_in_video, write_finished_dump

from skelshop.corpus.artifacts import faces_finished
from skelshop.corpus.video_task import cut_detector_name, dump_settings
from skelshop.formats.face_dump import read_dump_attrs
from skelshop.shots.detect import default_cut_detector


def test_a_dump_made_with_another_cut_detector_is_made_again(tmp_path: Path) -> None:
    art = stand_in_video(tmp_path)
    settings = dump_settings(6.0, 3, 40)
    # The detector's name is the class default_cut_detector makes (and its version).
    assert settings["cut_detector"] == cut_detector_name()
    assert cut_detector_name().startswith(type(default_cut_detector(25.0, 640)).__name__ + "/")

    write_finished_dump(art, settings)
    assert read_dump_attrs(art.faces)["cut_detector"] == cut_detector_name()
    assert faces_finished(art, "sparse", settings)
    # A dump of a run that did not record its detector (main's ContentDetector) ...
    write_finished_dump(art, {k: v for k, v in settings.items() if k != "cut_detector"})
    assert not faces_finished(art, "sparse", settings)
    # ... or recorded another one is not reused.
    write_finished_dump(art, {**settings, "cut_detector": "ContentDetector/1"})
    assert not faces_finished(art, "sparse", settings)
