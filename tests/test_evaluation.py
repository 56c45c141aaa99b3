"""Scoring predictions against ground truth, and the truth file format."""

from pathlib import Path

import pytest

from skelshop.errors import SkelshopError
from skelshop.evaluation.score import evaluate
from skelshop.formats.truth import TruthRow, read_predictions, read_truth

TRUTH = [
    TruthRow("a.mp4", 0, 0, "ann"),
    TruthRow("a.mp4", 1, 0, "ann"),
    TruthRow("a.mp4", 1, 1, "bob"),
    TruthRow("b.mp4", 0, 0, "stranger", in_refs=False),
    TruthRow("b.mp4", 0, 1, "stranger", in_refs=False),
]


def test_perfect_prediction() -> None:
    pred = {("a.mp4", 0, 0): "ann", ("a.mp4", 1, 0): "ann", ("a.mp4", 1, 1): "bob",
            ("b.mp4", 0, 0): "c3", ("b.mp4", 0, 1): "c3"}
    result = evaluate(pred, TRUTH)
    assert result.identification.f1 == 1.0
    assert result.bcubed.f1 == 1.0 and result.pairwise.f1 == 1.0
    assert result.nmi == pytest.approx(1.0)


def test_errors_count_as_they_should() -> None:
    pred = {("a.mp4", 0, 0): "ann", ("a.mp4", 1, 0): "bob", ("a.mp4", 1, 1): "noclus",
            ("b.mp4", 0, 0): "ann"}
    result = evaluate(pred, TRUTH)
    # ann right once; bob given to ann's track; bob missed; a stranger named ann.
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 2, 2)
    assert result.identification.precision == pytest.approx(1 / 3)
    assert result.identification.recall == pytest.approx(1 / 3)
    assert result.unmatched == 1
    assert result.pairwise.recall < 1.0


def test_one_videos_predictions_need_the_video(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("seg,skel_id,label\n0,0,ann\n1,0,ann\n1,1,bob\n")
    with pytest.raises(SkelshopError, match="pass --video NAME"):
        read_predictions(path)
    pred = read_predictions(path, video="/somewhere/a.mp4")
    result = evaluate(pred, TRUTH, video="a.mp4")
    assert result.identification.f1 == 1.0 and result.tracks == 3 and result.unscored == []
    with pytest.raises(SkelshopError, match=r"no truth rows for --video c\.mp4"):
        evaluate(read_predictions(path, video="c.mp4"), TRUTH, video="c.mp4")


def test_predicted_tracks_without_truth_are_listed_not_scored(tmp_path: Path) -> None:
    path = tmp_path / "identities.csv"
    path.write_text("video,seg,skel_id,label\n/x/a.mp4,0,0,ann\n/x/a.mp4,5,2,c1\n"
                    "/x/b.mp4,0,0,c1\n/x/z.mp4,0,0,c1\n")
    result = evaluate(read_predictions(path), TRUTH)
    assert result.unscored == [("a.mp4", 5, 2), ("z.mp4", 0, 0)]
    assert result.tracks == 5 and result.true_positives == 1
    only_a = read_predictions(path, video="a.mp4")
    assert set(only_a) == {("a.mp4", 0, 0), ("a.mp4", 5, 2)}
    assert evaluate(only_a, TRUTH, video="a.mp4").tracks == 3
    path.write_text("video,seg,skel_id,label\na.mp4,0,0,ann\na.mp4,0,0,bob\n")
    with pytest.raises(SkelshopError, match=r"line 3: a second row for video a\.mp4"):
        read_predictions(path)


def test_truth_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("# comment\nvideo,seg,skel_id,label,in_refs\na.mp4,0,0,ann,maybe\n")
    with pytest.raises(SkelshopError, match="bad row"):
        read_truth(path)
    path.write_text("video,seg,skel_id,label\na.mp4,0,0,ann\na.mp4,0,0,bob\n")
    with pytest.raises(SkelshopError, match="duplicate"):
        read_truth(path)
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(SkelshopError, match="not UTF-8"):
        read_truth(path)
    path.write_text("video,label\na,b\n")
    with pytest.raises(SkelshopError, match="missing column"):
        read_truth(path)


def test_shipped_sample_truth_reads() -> None:
    truth = read_truth(Path(__file__).parents[1] / "src/skelshop/samples/sample_truth.csv")
    assert {t.label for t in truth} == {"franck", "capman", "carphone-man"}
    assert [t.in_refs for t in truth if t.label == "franck"] == [True]
