"""`idsegssparse` / `idsegsfull` as one call: read the inputs, identify, write the CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.formats.face_dump import EmbedderInfo, check_same_embedder, read_face_dump
from skelshop.formats.identity import write_identities
from skelshop.formats.scenes import read_shots
from skelshop.identify.direct import DirectParams, identify_dump
from skelshop.references.embedding import EmbedReport
from skelshop.references.library import load_reference_library


@dataclass(frozen=True)
class IdsegsOutcome:
    """What was written, and the reference folder's embedding report (None for a .h5 REF)."""

    tracks: int
    shots: int
    embed_report: EmbedReport | None


def run_idsegs(
    mode: str, ref: Path, scenes: Path, faces: Path, out: Path, group_fmt: str | None,
    with_times: bool, multi_face: str, make_params: Callable[[EmbedderInfo], DirectParams],
    progress: bool = True, on_embed_report: Callable[[EmbedReport], None] | None = None,
) -> IdsegsOutcome:
    """Label each (shot, track) of a `mode` dump with reference people; writes OUT."""
    shots = read_shots(scenes, group_fmt)
    dump = read_face_dump(faces)
    if dump.mode != mode:
        other = "idsegsfull" if dump.mode == "full" else "idsegssparse"
        raise SkelshopError(faces, f"is a {dump.mode} face dump: use `skelshop iden {other}`")
    if ref.is_dir():  # refuse before the costly embedding, not after
        check_same_embedder(DlibFaceEmbedder.space, ref, dump.space, faces)
    refs, report = load_reference_library(ref, multi_face=multi_face, progress=progress)
    check_same_embedder(refs.space, ref, dump.space, faces)  # model, metric and dimension
    if report is not None and on_embed_report is not None:
        on_embed_report(report)
    params = make_params(refs.embedder)
    rows = identify_dump(refs, ref, dump, faces, shots, scenes, params,
                         with_times=with_times, progress=progress)
    write_identities(out, rows, with_times=with_times)
    return IdsegsOutcome(len(rows), len({r.seg for r in rows}), report)
