"""The reference and naming commands: light at import, helpful help, outputs never over inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from naming_fixtures import (
    faces_of,
    identities,
    skelshop,
    write_corpus_csv,
    write_dump,
    write_protos,
    write_refs,
)

from skelshop.cli.iden_naming import applymap, idclus, idrnnclus, whoisthis, writeprotos
from skelshop.cli.iden_refs import buildrefs, embedrefs, idsegsfull, idsegssparse

HEAVY = ("numpy", "scipy", "cv2", "h5py", "av", "dlib", "yuface", "sklearn", "PIL", "requests",
         "tqdm", "pynndescent", "numba")

PROBE = """
import json, sys
import skelshop.cli.iden_refs, skelshop.cli.iden_naming
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))))
"""


def test_command_modules_import_no_heavy_library() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *HEAVY], capture_output=True, text=True,
                          check=True, timeout=60)
    assert json.loads(proc.stdout) == []


def test_light_defaults_agree_with_the_libraries() -> None:
    from skelshop.identify import direct, settings
    from skelshop.naming import idrnnclus
    from skelshop.naming import settings as naming_settings
    from skelshop.references import embedding
    from skelshop.references import settings as ref_settings

    assert settings.FULL_MIN_DETECTED_FRAMES == direct.FULL_MIN_DETECTED_FRAMES
    assert naming_settings.DEFAULT_KNN == idrnnclus.DEFAULT_KNN
    assert ref_settings.MULTI_FACE_POLICIES == embedding.MULTI_FACE_POLICIES


# What each --help must say it reads and which columns its output CSV has.
HELP_MENTIONS = {
    buildrefs: ["LISTIN", "Wikidata id", "REFOUT/<QID>/", "no CSV", "--any-item",
                "--oauth-creds", "--download-deadline", "--max-image-mb"],
    embedrefs: ["REFDIR/<label>/<images>", "no CSV", "symbolic links"],
    idsegssparse: ["REF", "SCENES", "FACES", "seg,skel_id,label", "start,end"],
    idsegsfull: ["REF", "SCENES", "FACES", "seg,skel_id,label", "start,end"],
    writeprotos: ["clus_idx,video_idx,frame_num,pers_id", "video,faces,segsout,group,group_typ",
                  "index.csv", "clus,members,images"],
    whoisthis: ["PROTODIR", "label,clus", "empty label", "skipped"],
    idclus: ["REF", "PROTOS", "CORPUS", "label,clus"],
    idrnnclus: ["REF", "MODEL", "label,clus"],
    applymap: ["seg,skel_id,label", "label,clus", "empty label", "start,end"],
}


@pytest.mark.parametrize("command", list(HELP_MENTIONS), ids=lambda c: c.name)
def test_help_says_what_is_read_and_written(command) -> None:
    result = CliRunner().invoke(command, ["--help"], terminal_width=100)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    missing = [m for m in HELP_MENTIONS[command] if m not in text]
    assert missing == [], result.output


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Real small inputs of every naming command."""
    rng = np.random.default_rng(3)
    (ada,) = identities(1)
    dump = write_dump(tmp_path / "v0.h5", faces_of(ada, 2, rng), [1, 2], [0, 0])
    refs = write_refs(tmp_path / "refs.h5", {"ada": faces_of(ada, 1, rng)})
    protos = write_protos(tmp_path / "protos.csv", [(0, 0, 1, 0)])
    corpus = write_corpus_csv(tmp_path / "corpus.csv", [dump])
    segs = tmp_path / "v0.segsout.csv"
    segs.write_text("seg,skel_id,label\n0,0,c0\n")
    ids = tmp_path / "ids.csv"
    ids.write_text("label,clus\nada,c0\n")
    scenes = tmp_path / "v0-Scenes.csv"
    scenes.write_text("Timecode List:\nScene Number,Start Frame,End Frame\n1,1,500\n")
    refdir = tmp_path / "refdir"
    (refdir / "ada").mkdir(parents=True)
    (refdir / "ada" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    protodir = tmp_path / "protodir"
    (protodir / "c0").mkdir(parents=True)
    (protodir / "c0" / "v000f00001p0.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    listin = tmp_path / "people.txt"
    listin.write_text("Q1\n")
    return {"dump": dump, "refs": refs, "protos": protos, "corpus": corpus, "segs": segs,
            "ids": ids, "scenes": scenes, "refdir": refdir, "protodir": protodir,
            "listin": listin, "photo": refdir / "ada" / "a.jpg"}


# (command line with {input} names, its last argument being the output; what the error says)
CASES = [
    ("applymap {segs} {ids} {segs}", "is the input"),
    ("applymap {segs} {ids} {ids}", "is the input"),
    ("idclus {refs} {protos} {corpus} {corpus}", "is the input"),
    ("idclus {refs} {protos} {corpus} {protos}", "is the input"),
    ("idclus {refdir} {protos} {corpus} {photo}", "lies inside the input folder"),
    ("idclus {refs} {protos} {corpus} {dump}", "is the input"),  # named by the corpus
    ("idrnnclus {refs} {dump} {dump}", "is the input"),
    ("idrnnclus {refs} {dump} {refs}", "is the input"),
    ("writeprotos {protos} {corpus} {corpus}", ""),
    ("whoisthis {protodir} {protodir}/c0/v000f00001p0.png",
     "lies inside the input folder"),
    ("embedrefs {refdir} {photo}", "lies inside the input folder"),
    ("embedrefs {refdir} {refdir}", "is the input"),
    ("idsegssparse {refs} {scenes} {dump} {scenes}", "is the input"),
    ("idsegssparse {refs} {scenes} {dump} {dump}", "is the input"),
    ("idsegsfull {refs} {scenes} {dump} {refs}", "is the input"),
    ("buildrefs entities {listin} {listin}", ""),
]


@pytest.mark.parametrize(("line", "problem"), CASES, ids=[c[0] for c in CASES])
def test_an_output_never_replaces_an_input(files: dict[str, Path], line: str,
                                           problem: str) -> None:
    args = line.format(**files).split()
    out = Path(args[-1])
    before = {p: p.read_bytes() for p in files.values() if p.is_file()}
    proc = skelshop("iden", *args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {out}: ") and problem in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in files.values() if p.is_file()} == before


def test_reference_labels_that_would_break_csv_rows_are_refused(files: dict[str, Path],
                                                                tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    (ada,) = identities(1)
    refs = write_refs(tmp_path / "odd.h5", {"Ada\nLovelace": faces_of(ada, 1, rng)})
    out = tmp_path / "named.csv"
    proc = skelshop("iden", "idclus", refs, files["protos"], files["corpus"], out)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0] == (f"error: {refs}: label 'Ada\\nLovelace' cannot be used: it has line "
                        "breaks, tabs or stray spaces")
    assert not out.exists()
