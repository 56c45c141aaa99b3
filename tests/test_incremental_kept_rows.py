"""Which faces of a grown corpus a stored model already holds (`kept_face_rows`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from test_corpus_names import BASE, _centres, _faces, _fitted

from skelshop.corpus_clustering.incremental import kept_face_rows
from skelshop.corpus_clustering.run import ClusSettings


def test_unchanged_videos_map_face_by_face_and_changed_ones_not_at_all(tmp_path: Path) -> None:
    _, model = _fitted(tmp_path, ClusSettings(ann_lib="exact"))
    faces = _faces([*BASE, (2, 0, 0, 1, 0)], _centres(4))
    # the same faces in another row order (video 0 last)
    order = np.lexsort((faces.frame, faces.pers, faces.seg, (faces.video_idx + 2) % 3))
    rows = kept_face_rows(model, faces)
    assert (rows[faces.video_idx == 2] == -1).all(), "a new video has no rows in the model"
    kept = np.flatnonzero(rows >= 0)
    assert len(kept) == model.n_faces
    assert np.allclose(faces.embed[kept], model.embed[rows[kept]])
    assert (faces.frame[kept] == model.face_frame[rows[kept]]).all()
    shuffled = replace(faces, embed=faces.embed[order], video_idx=faces.video_idx[order],
                       frame=faces.frame[order], pers=faces.pers[order], seg=faces.seg[order],
                       group=faces.group[order])
    again = kept_face_rows(model, shuffled)
    assert (again == rows[order]).all(), "the faces' order in the corpus does not matter"
    # a re-made dump of video 1 (one embedding moved): all of video 1's faces are new
    moved = faces.embed.copy()
    moved[np.flatnonzero(faces.video_idx == 1)[2]] += 1e-3
    changed = kept_face_rows(model, replace(faces, embed=moved))
    assert (changed[faces.video_idx == 1] == -1).all()
    assert (changed[faces.video_idx == 0] == rows[faces.video_idx == 0]).all()
    # a video with one face fewer is new too; one within 1e-6 of the stored faces is kept
    fewer = np.flatnonzero(~((faces.video_idx == 0) & (faces.frame == 8) & (faces.pers == 0)))
    short = replace(faces, embed=faces.embed[fewer], video_idx=faces.video_idx[fewer],
                    frame=faces.frame[fewer], pers=faces.pers[fewer], seg=faces.seg[fewer],
                    group=faces.group[fewer])
    assert (kept_face_rows(model, short)[short.video_idx == 0] == -1).all()
    close = kept_face_rows(model, replace(faces, embed=faces.embed + 1e-7))
    assert (close == rows).all()
