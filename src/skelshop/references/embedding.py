"""embedrefs: detect, align and embed every image of each label folder with the video models."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.faces.detector import YuNetDetector
from skelshop.faces.embedder import DlibFaceEmbedder
from skelshop.faces.models import DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND, make_embedder
from skelshop.formats.identifications import clean_label
from skelshop.formats.references import ReferenceSet, check_label
from skelshop.media.images import UnreadableImage, load_rgb
from skelshop.references.settings import MULTI_FACE_POLICIES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedImage:
    """A file under the reference folder that gave no embedding, and why."""

    path: Path
    problem: str


@dataclass
class EmbedReport:
    """Which files were used, which were skipped, and which labels ended up empty."""

    used: int = 0
    skipped: list[SkippedImage] = field(default_factory=list)
    empty_labels: list[str] = field(default_factory=list)


def _label_folders(refdir: Path, report: EmbedReport) -> list[Path]:
    if not refdir.is_dir():
        raise SkelshopError(refdir, "not a reference folder")
    folders = []
    for entry in sorted(refdir.iterdir()):
        if entry.is_symlink() and entry.is_dir():
            # A link may lead anywhere (`/` included): label folders are real folders of REFDIR.
            report.skipped.append(SkippedImage(
                entry, "symbolic link to a folder, not followed (copy or move the images in)"))
        elif entry.is_dir():
            try:
                check_label(entry.name)
                # Labels end up in CSVs and on pages: one clean line, as typed names are.
                if clean_label(entry.name) != entry.name:
                    raise ValueError("control characters, line breaks or stray spaces")
            except ValueError as err:
                report.skipped.append(SkippedImage(entry, f"folder name cannot be a label ({err})"))
                continue
            folders.append(entry)
        else:
            report.skipped.append(SkippedImage(entry, "not inside a label folder"))
    if not folders:
        # Say why the folders that are there do not count.
        refused = [f"{s.path.name!r}: {s.problem}" for s in report.skipped
                   if s.problem != "not inside a label folder"][:3]
        hint = "".join(f"; {r}" for r in refused)
        raise SkelshopError(refdir, f"no label folders (expected REFDIR/<label>/<image>){hint}")
    return folders


def _label_files(folder: Path, report: EmbedReport) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():  # os.walk lists them but does not enter them
                report.skipped.append(SkippedImage(base / name, "symbolic link to a folder, "
                                                   "not followed"))
        files += [base / name for name in names if (base / name).is_file()]
    return sorted(files)


def _is_hidden(path: Path, folder: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


class ReferenceEmbedder:
    """Turns one reference image into one embedding with the same models as the videos."""

    def __init__(self, multi_face: str = "skip", embedder: str = DEFAULT_EMBEDDER,
                 backend: str = DEFAULT_EMBEDDER_BACKEND):
        if multi_face not in MULTI_FACE_POLICIES:
            raise ValueError(f"unknown multi-face policy {multi_face!r}")
        self.multi_face = multi_face
        self.detector = YuNetDetector()
        self.embedder: DlibFaceEmbedder = make_embedder(embedder, backend)

    def embed_image(self, path: Path) -> np.ndarray:
        """The (D,) embedding of the one face in an image; UnreadableImage says why not."""
        rgb = load_rgb(path)
        dets = self.detector.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if len(dets) == 0:
            raise UnreadableImage("no face found")
        if len(dets) > 1 and self.multi_face == "skip":
            raise UnreadableImage(f"{len(dets)} faces found (--multi-face largest takes the largest)")
        areas = (dets.boxes[:, 2] - dets.boxes[:, 0]) * (dets.boxes[:, 3] - dets.boxes[:, 1])
        aligned = self.embedder.align(rgb, dets.boxes[int(np.argmax(areas))])
        return self.embedder.embed([aligned.chip])[0]


def embed_reference_folder(
    refdir: str | Path, multi_face: str = "skip", progress: bool = True,
    embedder: str = DEFAULT_EMBEDDER, backend: str = DEFAULT_EMBEDDER_BACKEND,
) -> tuple[ReferenceSet, EmbedReport]:
    """Embed REFDIR/<label>/**/<image>; every file is either used or reported."""
    refdir = Path(refdir)
    report = EmbedReport()
    folders = _label_folders(refdir, report)
    files = {folder: _label_files(folder, report) for folder in folders}
    model = ReferenceEmbedder(multi_face, embedder, backend)
    labels, embeddings = [], []
    bar = tqdm(total=sum(len(f) for f in files.values()), desc="embed references", unit="image",
               disable=not progress)
    with bar:
        for folder, paths in files.items():
            label = folder.name
            vectors = []
            for path in paths:
                bar.update(1)
                if _is_hidden(path, folder):
                    # Temp files of interrupted writes or system clutter: never references.
                    report.skipped.append(SkippedImage(path, "hidden file"))
                    continue
                try:
                    vectors.append(model.embed_image(path))
                except UnreadableImage as err:
                    report.skipped.append(SkippedImage(path, str(err)))
                except OSError as err:
                    report.skipped.append(SkippedImage(path, f"cannot read ({err.strerror})"))
            if not vectors:
                report.empty_labels.append(label)
            report.used += len(vectors)
            labels.append(label)
            embeddings.append(np.asarray(vectors, dtype=np.float32).reshape(len(vectors),
                                                                            model.embedder.dim))
    refs = ReferenceSet(embedder=model.embedder.info, labels=labels, embeddings=embeddings,
                        backend=model.embedder.backend)
    return refs, report
