"""Reference embedding files and Wikidata id lists: the one reader and writer of each."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from original_files import write_original_references

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


def test_original_empty_label_is_skipped_with_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "orig.h5"
    write_original_references(path, {"Q42": list(rng.normal(size=(2, 128))), "Q7": [],
                                     "Q9": [rng.normal(size=128)]})
    with h5py.File(path) as h5:  # what the original's `h5f[label] = []` leaves
        assert h5["Q7"].shape == (0,) and h5["Q7"].dtype == np.float64
    with caplog.at_level("WARNING", logger="skelshop.formats.references"):
        refs = read_references(path)
        again = read_references(path)
    assert refs.labels == again.labels == ["Q42", "Q9"]
    assert refs.counts().tolist() == [2, 1] and refs.dim == 128 and refs.embedder == INFO
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "'Q7'" in warnings[0] and "skipped" in warnings[0]


def _refs_with(path: Path, attrs: dict | None = None, **labels: object) -> Path:
    with h5py.File(path, "w") as h5:
        h5.attrs.update({"fmt_type": "reference_embeddings", "fmt_ver": 1, "embedding": "dlib",
                         **(attrs or {})})
        for label, data in labels.items():
            h5[label] = data
    return path


GOOD = np.zeros((1, 128))
NAN = np.zeros((2, 128))
NAN[1, 3] = np.nan

BAD_REFERENCES = {
    "string data": ({}, {"Q1": np.array([b"0.1", b"0.2"])}, "'Q1': embeddings are not numbers"),
    "string matrix": ({}, {"Q1": np.full((2, 128), b"x", dtype="S1")}, "are not numbers"),
    "non-numeric threshold": ({"threshold": "near"}, {"Q1": GOOD},
                              "threshold='near' is not a number"),
    "negative threshold": ({"threshold": -0.6}, {"Q1": GOOD}, "not a usable distance threshold"),
    "zero threshold": ({"threshold": 0.0}, {"Q1": GOOD}, "not a usable distance threshold"),
    "infinite threshold": ({"threshold": np.inf}, {"Q1": GOOD}, "not a finite number"),
    "empty HDF5": (None, {}, "holds no reference labels"),
    "NaN embedding": ({}, {"Q1": NAN}, r"'Q1': embeddings: 1 of 2 are not finite"),
    "Inf embedding": ({}, {"Q1": np.full((1, 128), np.inf)}, "not finite numbers"),
    "person named noclus": ({}, {"Q1": GOOD, "noclus": GOOD}, "'noclus' is reserved"),
    "person named like a cluster": ({}, {"c3": GOOD}, "'c3' is reserved"),
    "only empty labels": ({}, {"Q1": np.zeros(0), "Q2": np.zeros((0, 128))},
                          "none of its 1 label"),
    "1-D embedding": ({}, {"Q1": np.zeros(128)}, "not a 2-D array"),
}


@pytest.mark.parametrize("case", list(BAD_REFERENCES))
def test_bad_reference_files_are_refused(tmp_path: Path, case: str) -> None:
    attrs, labels, message = BAD_REFERENCES[case]
    path = tmp_path / "refs.h5"
    if attrs is None:
        with h5py.File(path, "w"):
            pass
    else:
        _refs_with(path, attrs, **labels)
    with pytest.raises(SkelshopError, match=message) as err:
        read_references(path)
    assert err.value.path == str(path)


def test_damaged_reference_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "refs.h5"
    write_references(path, ReferenceSet(INFO, [f"Q{i}" for i in range(40)],
                                        [np.ones((3, 128), np.float32)] * 40))
    raw = bytearray(path.read_bytes())
    heaps = [i for i in range(len(raw)) if raw.startswith(b"SNOD", i)]
    assert heaps
    for j in range(heaps[-1], heaps[-1] + 64):  # a symbol table node: where labels are listed
        raw[j] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(SkelshopError, match="damaged or unreadable reference file"):
        read_references(path)


def test_reserved_labels_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        write_references(tmp_path / "r.h5", ReferenceSet(INFO, ["noclus"], [np.ones((1, 2))]))
    assert list(tmp_path.iterdir()) == []


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
