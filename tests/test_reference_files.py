"""Reference embedding files and Wikidata id lists: the one reader and writer of each."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import ORIGINAL_EMBEDDER, EmbedderInfo
from skelshop.formats.oauth_token import read_token_file
from skelshop.formats.qid_list import read_qid_list
from skelshop.formats.references import ReferenceSet, read_references, write_references

INFO = EmbedderInfo(ORIGINAL_EMBEDDER, "euclidean", 0.6)


def test_round_trip_keeps_empty_labels(tmp_path: Path) -> None:
    refs = ReferenceSet(INFO, ["Q1", "Q2", "nobody"],
                        [np.ones((2, 4), np.float32), np.zeros((1, 4), np.float32),
                         np.zeros((0, 4), np.float32)])
    write_references(tmp_path / "refs.h5", refs)
    back = read_references(tmp_path / "refs.h5")
    assert back.labels == ["Q1", "Q2", "nobody"] and back.embedder == INFO
    assert [e.shape for e in back.embeddings] == [(2, 4), (1, 4), (0, 4)]
    with h5py.File(tmp_path / "refs.h5") as h5:
        assert h5.attrs["fmt_type"] == "reference_embeddings" and h5.attrs["embedding"] == ORIGINAL_EMBEDDER
    assert list(tmp_path.iterdir()) == [tmp_path / "refs.h5"]  # no temp file left


def test_reads_the_originals_files(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "old.h5", "w") as h5:
        h5.attrs.update({"fmt_type": "reference_embeddings", "fmt_ver": 1, "embedding": "dlib"})
        h5["Q42"] = np.ones((3, 128))
    refs = read_references(tmp_path / "old.h5")
    assert refs.embedder == INFO and refs.labels == ["Q42"] and refs.dim == 128


def test_refuses_other_files(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "dump.h5", "w") as h5:
        h5.attrs["fmt_type"] = "sparse_faces"
    with pytest.raises(SkelshopError, match="sparse_faces file, not reference embeddings"):
        read_references(tmp_path / "dump.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(SkelshopError, match="not an HDF5 reference file"):
        read_references(tmp_path / "text.h5")
    with pytest.raises(ValueError):
        write_references(tmp_path / "x.h5", ReferenceSet(INFO, ["a/b"], [np.ones((1, 2))]))


def test_qid_list(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("\ufeff# who\nQ42 Douglas Adams\n\n  Q1 \n#Q7\nQ42\n")
    assert read_qid_list(path) == ["Q42", "Q1"]
    path.write_text("Q42\nQ0042\n")
    with pytest.raises(SkelshopError, match="line 2: 'Q0042' is not a Wikidata id"):
        read_qid_list(path)
    path.write_text("# nothing\n")
    with pytest.raises(SkelshopError, match="no Wikidata ids"):
        read_qid_list(path)


def test_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("# from the browser\nwcqsOauth=abc123def.456789\n")
    assert read_token_file(path) == "abc123def.456789"
    path.write_text("two words here\n")
    with pytest.raises(SkelshopError, match="cookie value on one line"):
        read_token_file(path)
    with pytest.raises(SkelshopError, match="no such token file"):
        read_token_file(tmp_path / "missing")
