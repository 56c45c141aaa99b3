"""The identifications CSV (`label,clus`): one reader and writer, strict about bad rows."""

from pathlib import Path

import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.identifications import (
    Identification,
    clean_label,
    cluster_index,
    read_identification_table,
    read_identifications,
    write_identifications,
)
from skelshop.naming.label_store import LabelStore


def test_round_trip_quotes_commas_and_orders_by_cluster(tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    rows = [Identification("Smith, John", "c10"), Identification('Q42 "Douglas"', "c2"),
            Identification("Zoë", "c0")]
    write_identifications(out, rows)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "label,clus", "Zoë,c0", '"Q42 ""Douglas""",c2', '"Smith, John",c10']
    assert read_identifications(out) == [rows[2], rows[1], rows[0]]


def test_empty_labels_are_never_written(tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    write_identifications(out, [Identification("  ", "c1"), Identification("A", "c2")])
    assert out.read_text().splitlines() == ["label,clus", "A,c2"]


@pytest.mark.parametrize(("text", "problem"), [
    ("label,clus\nA,c1\nB,c1\n", "line 3: cluster c1 is already named 'A' on line 2"),
    ("label,clus\nA,noclus\n", "line 2: 'noclus' is not a cluster name"),
    ("label,clus\nA,7\n", "line 2: '7' is not a cluster name"),
    ("label,clus\nA,c01\n", "line 2: 'c01' is not a cluster name"),
    ("label,clus\nA\x01B,c3\n", "line 2: a name cannot contain the control character U+0001"),
    ("name,cluster\nA,c1\n", "missing column(s) label, clus"),
])
def test_bad_rows_are_clear_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(SkelshopError) as err:
        read_identifications(path)
    assert err.value.path == str(path)
    assert problem in err.value.problem


def test_original_files_load(tmp_path: Path) -> None:
    """The original wrote `label,clus` rows by hand, with Wikidata ids as labels; a BOM is fine."""
    path = tmp_path / "ids.csv"
    path.write_bytes("\ufefflabel,clus\nQ23,c0\nQ76,c5\n\n".encode())
    assert read_identifications(path) == [Identification("Q23", "c0"), Identification("Q76", "c5")]


def test_cluster_index() -> None:
    assert cluster_index("c0") == 0
    assert cluster_index("c123") == 123
    for bad in ("noclus", "c", "c-1", "C1", "c1 ", "x1"):
        assert cluster_index(bad) is None


def test_label_store_saves_each_change_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    store = LabelStore(out)
    assert not out.exists()
    store.set("c3", "  Ada   Lovelace ")
    assert out.read_text().splitlines() == ["label,clus", "Ada Lovelace,c3"]
    store.set("c1", "Grace Hopper")
    store.set("c3", "")
    assert out.read_text().splitlines() == ["label,clus", "Grace Hopper,c1"]
    assert LabelStore(out).labels() == {"c1": "Grace Hopper"}
    with pytest.raises(ValueError):
        store.set("noclus", "x")
    assert not list(tmp_path.glob(".*part"))


def test_original_skipped_rows_mean_skipped(tmp_path: Path) -> None:
    """The original's whoisthis wrote `{answer},{clus}`: a skipped cluster is `,c0`."""
    path = tmp_path / "cluster.identifications.csv"
    path.write_text("label,clus\n,c0\nQ76,c1\n,c2\nQ76,c1\n,c1\n")
    table = read_identification_table(path)
    assert table.named == [Identification("Q76", "c1")]
    assert table.skipped == ["c0", "c2"]  # c1 is named, so its empty row does not count
    assert read_identifications(path) == [Identification("Q76", "c1")]
    store = LabelStore(path)
    assert store.labels() == {"c1": "Q76"} and store.skipped_before == ["c0", "c2"]


@pytest.mark.parametrize("bad", ["Ada\x00Lovelace", "\x07bell", "a\x7fb", "\x9bcsi", "x\ud800"])
def test_control_characters_are_refused(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "ids.csv"
    store = LabelStore(out)
    with pytest.raises(ValueError, match="control character"):
        store.set("c0", bad)
    with pytest.raises(ValueError, match="control character"):
        write_identifications(out, [Identification(bad, "c0")])
    assert not out.exists()


def test_whitespace_collapses_and_formula_prefixes_stay(tmp_path: Path) -> None:
    out = tmp_path / "ids.csv"
    store = LabelStore(out)
    store.set("c0", "Ada\r\nLovelace\t")
    store.set("c1", "=HYPERLINK(1)")
    store.set("c2", "@Bob")
    assert out.read_text().splitlines() == ["label,clus", "Ada Lovelace,c0", "=HYPERLINK(1),c1",
                                            "@Bob,c2"]
    assert clean_label(" -x ") == "-x"
    with pytest.raises(ValueError, match="at most"):
        clean_label("x" * 501)
